"""An A/B test's click: which variant (landing page or creative) it gets, in the edge's
process, with no I/O.

Sticky by construction, with no lookup and no cookie of its own: the visitor key is the
offer's first-click cookie (``afff_<offer>``, set by the visitor's first click and kept for
the attribution window), or, on that first click, the click's own id, which is the value that
cookie is about to get. So a visitor draws the same variant on every click.

The draw is weighted rendezvous hashing: each variant scores ``-ln(u) / weight`` with ``u`` a
hash of (visitor key, variant id), and the lowest score wins. Each variant gets its weight's
share of visitors, and a weight change or a paused loser moves only the visitors it must:
visitors of the variants left alone keep theirs.

A click that honours a deep link (``url=``) never sees the variant, so it records none.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from tracking.clickpath.snapshots import Link
from tracking.ids import click_first_cookie_name

_SCALE = 2.0**64


def _unit(key: str, variant_id: int) -> float:
    """A uniform number in (0, 1) from the visitor key and the variant."""
    digest = hashlib.blake2b(f"{key}|{variant_id}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest) + 0.5) / _SCALE


def visitor_key(offer_id: int, cookie_header: str, click_id: str) -> str:
    """The offer's first-click cookie's value, else this click's id (which becomes it)."""
    if cookie_header:
        name = click_first_cookie_name(offer_id) + "="
        at = cookie_header.find(name)
        if at >= 0:
            value = cookie_header[at + len(name) :].split(";", 1)[0].strip()
            if value:
                return value
    return click_id


def variant_pick(link: Link, key: str) -> int:
    """The id of the variant this visitor key draws (0: the link has no live variant)."""
    best, best_score = 0, math.inf
    for v in link.variants:
        if v.weight <= 0:
            continue
        score = -math.log(_unit(key, v.variant_id)) / v.weight
        if score < best_score:
            best, best_score = v.variant_id, score
    return best


def variant_choose(link: Link, rec: dict[str, Any], cookie_header: str, params: dict[str, str]) -> Link:
    """The link this click goes on with: its variant's (recorded on the click), or ``link``."""
    if params.get("url") and link.deep_links_allowed:
        return link
    chosen = variant_pick(link, visitor_key(link.offer_id, cookie_header, rec["id"]))
    if not chosen:
        return link
    rec["ab_variant_id"] = chosen
    return link.variant_links[chosen]
