"""The snapshots a click reads: a link (one offer, one publisher) and a smart link (several
paths, each a link of its own). Plain frozen data with a JSON form for the shared Redis cache;
``links.py`` builds them from the database and caches them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

from tracking.ids import click_cookie_name, click_first_cookie_name


@dataclass(frozen=True)
class CapRule:
    """One click cap as it applies to this link; ``per_publisher`` counts this publisher only."""

    period: str  # day, week, month
    limit: int
    per_publisher: bool
    # A smart link path's own daily cap counts that path's clicks (0: an offer cap).
    path_id: int = 0


@dataclass(frozen=True)
class Target:
    """An offer a click can be sent to: the link's own offer or one of its fallback offers,
    with the targeting a fallback offer applies to the visitor it is offered."""

    offer_id: int
    landing_url: str
    attribution_window_days: int
    target_countries: tuple[str, ...] = ()
    target_devices: tuple[str, ...] = ()
    target_os: tuple[str, ...] = ()

    @cached_property
    def _cookie_parts(self) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
        max_age = f"; Max-Age={self.attribution_window_days * 86400}; Path=/; HttpOnly"
        latest, first = click_cookie_name(self.offer_id), click_first_cookie_name(self.offer_id)
        return (
            (latest, first, max_age + "; SameSite=Lax"),
            (latest, first, max_age + "; Secure; SameSite=None"),
        )

    def cookie_parts(self, *, https: bool) -> tuple[str, str, str]:
        """The names of the offer's latest- and first-click cookies and what follows each
        value (``; Max-Age=...`` and the attributes): built once per snapshot, not per click."""
        return self._cookie_parts[https]

    def accepts(self, *, country: str, device: str, os_name: str) -> bool:
        return (
            (not self.target_countries or country in self.target_countries)
            and (not self.target_devices or device in self.target_devices)
            and (not self.target_os or os_name in self.target_os)
        )


@dataclass(frozen=True)
class HoldoutRule:
    """The running holdout test of a link's offer, when it covers the link's publisher
    (tracking/clickpath/holdout.py assigns the arm)."""

    test_id: int
    share: float  # of visitors held out
    starts_at: float  # unix seconds
    ends_at: float
    control_url: str  # where held-out visitors go; {click_id} and the other macros apply


@dataclass(frozen=True)
class VariantEntry:
    """One live variant of the offer's A/B test: its weight and landing page (macros of the
    variant and its creative already filled in; the link's macros are filled per click)."""

    variant_id: int
    weight: int
    landing_url: str


@dataclass(frozen=True)
class Link:
    token: str
    offer_id: int
    publisher_id: int
    access_approved: bool
    publisher_active: bool
    offer_status: str
    advertiser_active: bool
    starts_at: float | None  # unix seconds
    ends_at: float | None
    landing_url: str
    attribution_window_days: int
    deep_links_allowed: bool
    allowed_domains: tuple[str, ...]
    target_countries: tuple[str, ...]
    target_devices: tuple[str, ...]
    target_os: tuple[str, ...]
    unique_click_window_hours: int
    # The fallback offers in the order a refused click tries them (the offer's fallback, its
    # fallback's, ...): live, and not refused to this publisher, when the snapshot was built.
    fallback_chain: tuple[Target, ...]
    fallback_url: str
    caps: tuple[CapRule, ...] = field(default=())
    holdout: HoldoutRule | None = None
    # The offer's running A/B test's live variants (empty: no test, which is nearly every link).
    variants: tuple[VariantEntry, ...] = field(default=())
    # The offer's advertiser: an advertiser's tracking domain serves its offers' links only.
    advertiser_id: int = 0

    @cached_property
    def variant_links(self) -> dict[int, Link]:
        """Per variant, this link sending to the variant's landing page (built once per
        snapshot and process, so a click pays a dict lookup, not a dataclass copy)."""
        return {v.variant_id: replace(self, landing_url=v.landing_url, variants=()) for v in self.variants}

    @cached_property
    def target(self) -> Target:
        # Cached on the snapshot (frozen, but cached_property writes its __dict__ directly):
        # every click asks for it, and building it was a microsecond each time.
        return Target(self.offer_id, self.landing_url, self.attribution_window_days)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Link:
        return _link_from(json.loads(raw))


def _target_from(data: dict[str, Any]) -> Target:
    for name in ("target_countries", "target_devices", "target_os"):
        data[name] = tuple(data[name])
    return Target(**data)


@dataclass(frozen=True)
class SmartPathEntry:
    """One path of a smart link: its own targeting, weight and daily cap, and the link
    snapshot of its offer for the smart link's publisher (that link's checks, caps and macros
    apply; its fallback is the smart link's catch-all)."""

    path_id: int
    weight: int
    paused: bool
    countries: tuple[str, ...]
    devices: tuple[str, ...]
    os: tuple[str, ...]
    hours: tuple[int, ...]
    daily_cap: int | None
    link: Link


@dataclass(frozen=True)
class SmartSnapshot:
    """A smart link: the paths a draw chooses from (weights compiled in) and the catch-all."""

    token: str
    smart_link_id: int
    publisher_id: int
    sticky_seconds: int
    version: str  # changes with every weight or path edit: cookie-less stickiness hashes it
    paths: tuple[SmartPathEntry, ...]
    catch_all: SmartPathEntry | None

    @cached_property
    def draw_salt(self) -> int:
        """52 bits of a hash of token and version: smart.py mixes a visitor's hash with them,
        so a weight or path edit redraws cookie-less visitors."""
        digest = hashlib.blake2b(f"{self.token}|{self.version}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") >> 12

    @cached_property
    def open_memo(self) -> dict[tuple[str, str, str], Any]:
        """smart.py's memo: (country, device, OS) -> the paths open to such visitors (built
        per snapshot and process, and dropped with the snapshot when it is rebuilt)."""
        return {}

    def to_json(self) -> str:
        return json.dumps({"smart": asdict(self)})


def _path_from(data: dict[str, Any]) -> SmartPathEntry:
    for name in ("countries", "devices", "os", "hours"):
        data[name] = tuple(data[name])
    data["link"] = _link_from(data["link"])
    return SmartPathEntry(**data)


def _link_from(data: dict[str, Any]) -> Link:
    for name in ("allowed_domains", "target_countries", "target_devices", "target_os"):
        data[name] = tuple(data[name])
    data["caps"] = tuple(CapRule(**c) for c in data["caps"])
    data["fallback_chain"] = tuple(_target_from(t) for t in data["fallback_chain"])
    holdout = data.get("holdout")
    data["holdout"] = HoldoutRule(**holdout) if holdout else None
    data["variants"] = tuple(VariantEntry(**v) for v in data.get("variants", ()))
    return Link(**data)


def snapshot_from_json(raw: str | bytes) -> Link | SmartSnapshot:
    """A cached snapshot read back: a link, or a smart link (``{"smart": ...}``)."""
    data: dict[str, Any] = json.loads(raw)
    smart = data.get("smart")
    if smart is None:
        return _link_from(data)
    smart["paths"] = tuple(_path_from(p) for p in smart["paths"])
    smart["catch_all"] = _path_from(smart["catch_all"]) if smart["catch_all"] else None
    return SmartSnapshot(**smart)
