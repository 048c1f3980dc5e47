"""The advertiser's customer ids, kept only as keyed hashes.

Why HMAC-SHA256 with a per-advertiser key rather than the raw id or a plain SHA-256: customer
ids are often e-mail addresses or small sequential numbers, and a plain hash of those is undone
by hashing every candidate (a dictionary of e-mails, or 1..10^9). Without the key, the stored
value says nothing about the customer. The key is the advertiser's own (``Advertiser.customer_key``,
never shown, never rotated: rotating it would split every customer in two), so the same person
at two advertisers gets two unrelated hashes and the network cannot join its advertisers'
customer lists. The advertiser's API filter ``?customer=`` hashes the raw id the same way.
"""

from __future__ import annotations

import hashlib
import hmac

CUSTOMER_HASH_LENGTH = 64  # hex SHA-256


def customer_hash(*, key: str, customer_id: str) -> str:
    """The stored form of ``customer_id`` for the advertiser whose key this is; "" for none.
    Compared as sent (case and spaces matter): the advertiser's ids are its own."""
    if not customer_id:
        return ""
    return hmac.new(key.encode(), customer_id.encode(), hashlib.sha256).hexdigest()
