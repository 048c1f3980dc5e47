"""Click ids and the click cookie: formats that links, postbacks and pixels share.

A click id is a UUIDv7 written as 32 lower-case hex digits: it matches the contract's
``[A-Za-z0-9_-]{16,64}``, sorts by time, and its first 48 bits are the click's millisecond.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator


class _Entropy:
    """os.urandom read 4 KiB at a time and handed out 10 bytes per id: a system call per click
    was a tenth of the click's own work. Locked (threads share it) and emptied in a forked
    child, which must never hand out its parent's bytes again."""

    SIZE = 4096

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buf, self.pos = b"", 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self.lock = threading.Lock()
        self.buf, self.pos = b"", 0

    def take(self, n: int) -> bytes:
        with self.lock:
            if self.pos + n > len(self.buf):
                self.buf, self.pos = os.urandom(self.SIZE), 0
            out = self.buf[self.pos : self.pos + n]
            self.pos += n
            return out


_entropy = _Entropy()


def _uuid7_int(ms: int) -> int:
    rand = int.from_bytes(_entropy.take(10), "big")
    return (
        (ms & ((1 << 48) - 1)) << 80
        | 0x7 << 76
        | ((rand >> 62) & 0xFFF) << 64
        | 0b10 << 62
        | (rand & ((1 << 62) - 1))
    )


def new_click_id(at_ms: int | None = None) -> uuid.UUID:
    ms = time.time_ns() // 1_000_000 if at_ms is None else at_ms
    return uuid.UUID(int=_uuid7_int(ms))


class _Tails:
    """The last 20 hex digits of click ids (version 7, 12 random bits, the variant, 62 random
    bits), made a few hundred at a time from one os.urandom read: the version and variant bits
    are set for the whole batch with two byte translations, and the batch is spelt in hex
    with one call, so an id costs the hot path one ``next`` and one concatenation. ``next``
    on a list iterator is atomic under the GIL, so threads share it without a lock; two
    threads that both find it empty both refill, and each id is still handed out once. A
    forked child starts a batch of its own, never its parent's."""

    COUNT = 512

    def __init__(self) -> None:
        self.left: Iterator[str] = iter(())
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self.left = iter(())

    def take(self) -> str:
        try:
            return next(self.left)
        except StopIteration:
            pass
        raw = bytearray(os.urandom(10 * self.COUNT))
        raw[0::10] = raw[0::10].translate(_VERSION)  # 0111xxxx: version 7, 4 random bits
        raw[2::10] = raw[2::10].translate(_VARIANT)  # 10xxxxxx: the variant, 6 random bits
        digits = raw.hex()
        tails = [digits[i : i + 20] for i in range(0, len(digits), 20)]
        self.left = iter(tails[1:])
        return tails[0]


_VERSION = bytes(0x70 | (b & 0x0F) for b in range(256))
_VARIANT = bytes(0x80 | (b & 0x3F) for b in range(256))
_tails = _Tails()
_MS_BIT = 1 << 48  # hex(ms + _MS_BIT)[3:]: the millisecond's 48 bits as 12 hex digits


def new_click_hex() -> tuple[str, int]:
    """A new click id as the hot path stores it (32 hex digits) and its millisecond, without
    building a UUID object (whose checks were most of an id's cost) or a 128-bit integer: the
    same layout as ``_uuid7_int`` (48-bit millisecond, version 7, 12 random bits, the
    variant, 62 random bits), spelt in hex directly."""
    ms = time.time_ns() // 1_000_000
    return hex((ms & 0xFFFFFFFFFFFF) + _MS_BIT)[3:] + _tails.take(), ms


def click_id_parse(raw: str | None) -> uuid.UUID | None:
    """Accept the 32-hex form we hand out (and the dashed form); anything else is None."""
    if not raw or len(raw) > 64:
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        return None


def click_cookie_name(offer_id: int) -> str:
    """One first-party cookie per offer, holding the latest click id for pixel attribution.

    ``affc_<offer_id>`` is overwritten by every click on the offer (last-click attribution);
    ``afff_<offer_id>`` (click_first_cookie_name) is set by the first click only and kept until
    it expires (first-click attribution). Both live for the offer's attribution window, are
    HttpOnly, and are ``SameSite=None; Secure`` over HTTPS (the pixel loads on the advertiser's
    page, a cross-site request) or ``SameSite=Lax`` over plain HTTP. A click refused and sent to
    a fallback offer sets them for the fallback offer; one sent to a fallback URL sets none.
    """
    return f"affc_{offer_id}"


def click_first_cookie_name(offer_id: int) -> str:
    """The first-click cookie of an offer: see click_cookie_name."""
    return f"afff_{offer_id}"
