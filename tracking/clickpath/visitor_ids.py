"""Who a visitor is on the click path, without holding their address: one keyed hash.

The click path keys several things by the visitor: the uniqueness window (``u:``), the flood
counter (``fl:``, by address alone), a smart link's draw for a visitor without its cookie, and
the frequency caps across offers for a visitor without the ``afv`` cookie (the cap's answer then
stores the id in that cookie, so the visitor keeps their counts when the address changes). One
hash per click serves all of them: a cookie-less capped click used to make a second one.

The hash is BLAKE2b keyed with 32 secret bytes: no Redis key holds an address, nor an unkeyed
hash of one that anybody could test guesses against (every IPv4 address times a few common
browsers is a small space). The secret derives from ``SECRET_KEY`` and a period of SALT_DAYS,
so ids of different periods cannot be linked. A rotation restarts each cookie-less visitor's
keys once: a repeat click right after it counts as unique, the hour's flood count and the caps'
counts of visitors without the cookie start again, and a smart link redraws their path.

The secret goes into BLAKE2b's parameter block (its salt and personalisation), which sets the
initial chaining value: the hash starts from a state nobody without the secret knows, as NMAC
keys a hash through its IV. BLAKE2b's keyed mode would cost every id a compression more: it
hashes the key as a block of its own, and CPython 3.11's BLAKE2b holds back two blocks before
compressing, so the key block is compressed with the data's at the end, for every id. With the
secret in the parameter block a visitor's id costs what an unkeyed hash of the same text does
(one compression for address and browser up to 128 bytes).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

VISITOR_ID_LENGTH = 20  # hex digits
# Twice the longest frequency cap window: a rotation resets a cookie-less visitor's count at
# most once per cap window.
SALT_DAYS = 28
_SALT_SECONDS = SALT_DAYS * 86400


@lru_cache(maxsize=2)
def salt_key(period: int) -> bytes:
    """The period's secret (32 bytes, from SECRET_KEY)."""
    return hashlib.blake2b(f"{settings.SECRET_KEY}|visitor|{period}".encode(), digest_size=32).digest()


@lru_cache(maxsize=2)
def _keyed(period: int) -> Any:
    """The period's BLAKE2b state before any data: each id starts from a copy of it."""
    secret = salt_key(period)
    return hashlib.blake2b(digest_size=VISITOR_ID_LENGTH // 2, salt=secret[:16], person=secret[16:])


# The current period's first and last second and its state (``_keyed``'s): two comparisons
# per id, without the cache's call or a division.
_current: list[Any] = [0.0, -1.0, None]


def _period_state(now: float) -> Any:
    period = int(now // _SALT_SECONDS)
    _current[:] = [period * _SALT_SECONDS, (period + 1) * _SALT_SECONDS, _keyed(period)]
    return _current[2]


def visitor_hash(ip: str, user_agent: str, *, now: float) -> str:
    """The visitor's id: the period's BLAKE2b of "<ip>|<user agent>" (20 hex digits)."""
    # A copy of the prepared state and C calls (the hmac module's wrapper cost the click a
    # dozen Python calls), written out in both functions: a helper's call would cost each id
    # about as much as the rest of its Python.
    start, end, state = _current
    hasher = (state if start <= now < end else _period_state(now)).copy()
    hasher.update(f"{ip}|{user_agent}".encode())
    digest: str = hasher.hexdigest()
    return digest


def address_hash(ip: str, *, now: float) -> str:
    """The address's id, for the flood counter: the period's BLAKE2b of the address."""
    start, end, state = _current
    hasher = (state if start <= now < end else _period_state(now)).copy()
    hasher.update(ip.encode())
    digest: str = hasher.hexdigest()
    return digest


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    """A new SECRET_KEY (tests) makes new keys."""
    if setting == "SECRET_KEY":
        salt_key.cache_clear()
        _keyed.cache_clear()
        _current[:] = [0.0, -1.0, None]
