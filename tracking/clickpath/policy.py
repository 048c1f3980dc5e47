"""Negative lists and frequency caps on the click's hot path (issue 14).

The network's, advertisers' and offers' list entries and frequency caps are compiled into one
``Policy`` per process (policy_load.py builds it from the database): plain sets and dicts, so a
click with no rule in its scopes pays two dict look-ups. The edge keeps it fresh
(``policy_ensure``): every ``CLICK_POLICY_REFRESH_SECONDS`` one click starts a reload in the
blocking pool and goes on with the current policy, so an upload applies within seconds and no
click waits for it (except the process's very first, which must not run without the lists).

Negative lists are decided here, before the durable write (reason ``blocked``). Frequency caps
need a counter shared by every process, so they are only *described* here (``FreqCheck``): the
click script (store.click_lua()) checks and counts them in the same round trip as the click caps.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from django.conf import settings
from django.db import Error as DatabaseError
from django.db.models import Count, Max

from affiliates.models import Offer
from tracking.clickpath.blocking import blocking
from tracking.clickpath.links import Link
from tracking.clickpath.visitor_ids import VISITOR_ID_LENGTH
from tracking.models.clicks import ClickReason
from tracking.models.policy import FrequencyCap, ListEntry
from tracking.visitor import network_for_ip

log = logging.getLogger(__name__)

VISITOR_COOKIE = "afv"
# ClickReason.OK's value, read once: an Enum member read through its class costs a click
# as much as a small function call, and every click compared it half a dozen times.
_OK: str = ClickReason.OK.value


@dataclass(frozen=True)
class FreqRule:
    """One frequency cap as the click script applies it: ``scope`` names the counter ("n": the
    network, "a12": advertiser 12, "o34": offer 34)."""

    scope: str
    days: int
    limit: int

    @cached_property
    def key_infix(self) -> str:
        """The counter's key after the key base, before the visitor (store.py)."""
        return f"fq:{self.scope}:{self.days}:"

    @cached_property
    def script_arg(self) -> str:
        """The click script's one ARGV for it, "-<window seconds> <limit>" (made once per policy
        load, not per click; one argument where two cost the packing and Redis an object more)."""
        return f"-{self.days * 86400} {self.limit}"


@dataclass(slots=True)
class FreqCheck:
    """The frequency caps one click is counted against, and who the visitor is."""

    visitor: str
    rules: tuple[FreqRule, ...]
    # The visitor had no cookie yet: the ``Set-Cookie`` header the answer carries (None: it had).
    set_cookie: tuple[str, str] | None


@dataclass
class Matchers:
    """One scope's block list or allow list, by kind."""

    publishers: frozenset[int] = frozenset()
    subs: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    asns: frozenset[str] = frozenset()  # lower case
    # (IP version, prefix length) -> the networks' addresses shifted down to their prefix: an
    # address matches when its own shifted address is in the set, one look-up per prefix length.
    nets: dict[tuple[int, int], frozenset[int]] = field(default_factory=dict)

    def kinds(self) -> list[str]:
        names = ("publishers", "subs", "sources", "domains", "asns", "nets")
        return [name for name in names if getattr(self, name)]


@dataclass(frozen=True)
class ScopeRules:
    block: Matchers | None = None
    allow: Matchers | None = None
    freq: tuple[FreqRule, ...] = ()


@dataclass(frozen=True)
class OfferRules:
    """What applies to one offer's clicks: the lists of its scopes, and its frequency caps."""

    lists: tuple[ScopeRules, ...]
    freq: tuple[FreqRule, ...]


NO_RULES = OfferRules((), ())


@dataclass(frozen=True)
class Policy:
    network: ScopeRules | None = None
    advertisers: dict[int, ScopeRules] = field(default_factory=dict)
    offers: dict[int, ScopeRules] = field(default_factory=dict)
    # offer id -> advertiser id, for the offers of advertisers that have rules of their own.
    offer_advertiser: dict[int, int] = field(default_factory=dict)
    fingerprint: tuple[object, ...] = ()
    # offer id -> its OfferRules, filled as clicks ask: a click pays one dict look-up.
    per_offer: dict[int, OfferRules] = field(default_factory=dict)

    def offer_rules(self, offer_id: int) -> OfferRules:
        scopes = [] if self.network is None else [self.network]
        advertiser = self.advertisers.get(self.offer_advertiser.get(offer_id, 0))
        if advertiser is not None:
            scopes.append(advertiser)
        offer = self.offers.get(offer_id)
        if offer is not None:
            scopes.append(offer)
        lists = tuple(s for s in scopes if s.block is not None or s.allow is not None)
        freq = tuple(rule for s in scopes for rule in s.freq)
        rules = OfferRules(lists, freq) if lists or freq else NO_RULES
        self.per_offer[offer_id] = rules
        return rules


EMPTY = Policy()


class _Facts:
    """The click's values the lists compare, each worked out only when a list asks for it."""

    def __init__(self, rec: dict[str, object], ip: str) -> None:
        self.rec, self.ip = rec, ip
        self._host: str | None = None
        self._addr: ipaddress.IPv4Address | ipaddress.IPv6Address | bool | None = False

    def host_suffixes(self) -> list[str]:
        if self._host is None:
            referer = str(self.rec.get("referer") or "")
            try:
                self._host = (urlsplit(referer).hostname or "") if referer else ""
            except ValueError:
                self._host = ""
        labels = self._host.rstrip(".").split(".") if self._host else []
        return [".".join(labels[i:]) for i in range(len(labels))]

    def addr(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        if self._addr is False:
            try:
                self._addr = ipaddress.ip_address(self.ip)
            except ValueError:
                self._addr = None
        return self._addr  # type: ignore[return-value]


def _matches(m: Matchers, kind: str, facts: _Facts) -> bool:
    rec = facts.rec
    if kind == "publishers":
        return rec["publisher_id"] in m.publishers
    if kind == "subs":
        return any(rec[name] in m.subs for name in ("sub1", "sub2", "sub3", "sub4", "sub5") if rec[name])
    if kind == "sources":
        return bool(rec["source"]) and rec["source"] in m.sources
    if kind == "domains":
        return any(suffix in m.domains for suffix in facts.host_suffixes())
    if kind == "asns":
        name = network_for_ip(facts.ip).asn_name.lower()
        return bool(name) and name in m.asns
    addr = facts.addr()
    if addr is None:
        return False
    bits, number = addr.max_prefixlen, int(addr)
    return any(
        number >> (bits - prefix) in nets
        for (version, prefix), nets in m.nets.items()
        if version == addr.version
    )


def _refused(rules: ScopeRules, facts: _Facts) -> bool:
    block, allow = rules.block, rules.allow
    if block is not None and any(_matches(block, kind, facts) for kind in block.kinds()):
        return True
    # An allow list of a kind admits only its values: a click without one (no referrer, say)
    # is not on it.
    return allow is not None and not all(_matches(allow, kind, facts) for kind in allow.kinds())


def _rules(offer_id: int) -> OfferRules:
    return _policy.per_offer.get(offer_id) or _policy.offer_rules(offer_id)


def click_checks(
    link: Link, rec: dict[str, object], ip: str, *, cookie_header: str, visitor: str, https: bool
) -> tuple[str, FreqCheck | None]:
    """The negative lists' reason (``blocked`` when a list of the network, the offer's
    advertiser or the offer refuses the click: it reads ``publisher_id``, the sub ids,
    ``source`` and ``referer`` of rec) and, for a click they let through, the frequency caps
    over its offer (None: none). One dict look-up for an offer without rules in any of its
    scopes, which is nearly every offer. ``visitor``: the click's visitor_ids.visitor_hash,
    which identifies a visitor without the ``afv`` cookie."""
    rules = _policy.per_offer.get(link.offer_id) or _policy.offer_rules(link.offer_id)  # _rules
    if rules is NO_RULES:
        return _OK, None
    if rules.lists and _listed(rules.lists, rec, ip):
        return ClickReason.BLOCKED, None
    if not rules.freq:
        return _OK, None
    # The visitor is the first-party ``afv`` cookie; without one, the keyed hash of IP and user
    # agent the click has made already (its uniqueness key's), which the answer then stores in
    # the cookie so the visitor keeps the same counters when the address changes. The header
    # is made here, not in the answer: one call less.
    known = _cookie_visitor(cookie_header) if cookie_header else ""
    if known:
        return _OK, FreqCheck(known, rules.freq, None)
    cookie = ("Set-Cookie", _VISITOR_COOKIE_HEAD + visitor + _VISITOR_COOKIE_TAILS[https])
    return _OK, FreqCheck(visitor, rules.freq, cookie)


def _listed(lists: tuple[ScopeRules, ...], rec: dict[str, object], ip: str) -> bool:
    facts = _Facts(rec, ip)
    return any(_refused(s, facts) for s in lists)


def _cookie_visitor(cookie_header: str) -> str:
    at = cookie_header.find(VISITOR_COOKIE + "=")
    if at < 0 or (at > 0 and cookie_header[at - 1] not in " ;"):
        return ""
    value = cookie_header[at + len(VISITOR_COOKIE) + 1 :].split(";", 1)[0].strip()
    ok = len(value) == VISITOR_ID_LENGTH and all(c in "0123456789abcdef" for c in value)
    return value if ok else ""


# After the visitor's id: Max-Age (it outlives the longest window) and the attributes, over
# plain HTTP and over HTTPS.
_TAIL = f"; Max-Age={2 * 14 * 86400}; Path=/; HttpOnly"
_VISITOR_COOKIE_TAILS = (_TAIL + "; SameSite=Lax", _TAIL + "; Secure; SameSite=None")
_VISITOR_COOKIE_HEAD = VISITOR_COOKIE + "="


# --- Building it from the database --------------------------------------------------------------


def _fingerprint() -> tuple[object, ...]:
    """Changes whenever a row is added, edited or deleted: the rebuild is skipped without it."""
    out: list[object] = []
    for model in (ListEntry, FrequencyCap):
        out.extend(model.objects.aggregate(n=Count("pk"), last=Max("updated_at"), top=Max("pk")).values())
    return tuple(out)


def _scope_key(row: ListEntry | FrequencyCap) -> tuple[str, int]:
    if row.offer_id is not None:
        return "offer", row.offer_id
    return ("advertiser", row.advertiser_id) if row.advertiser_id is not None else ("network", 0)


def _matchers(rows: list[ListEntry]) -> Matchers:
    sets: dict[str, set[object]] = {}
    nets: dict[tuple[int, int], set[int]] = {}
    for row in rows:
        if row.kind == ListEntry.Kind.IP_RANGE:
            net = ipaddress.ip_network(row.value, strict=False)
            key = (net.version, net.prefixlen)
            nets.setdefault(key, set()).add(int(net.network_address) >> (net.max_prefixlen - net.prefixlen))
        elif row.kind == ListEntry.Kind.PUBLISHER:
            sets.setdefault("publishers", set()).add(int(row.value))
        else:
            name = {"sub_id": "subs", "source": "sources", "referrer_domain": "domains", "asn": "asns"}[
                row.kind
            ]
            sets.setdefault(name, set()).add(row.value.lower() if name == "asns" else row.value)
    return Matchers(
        **{name: frozenset(values) for name, values in sets.items()},  # type: ignore[arg-type]
        nets={key: frozenset(values) for key, values in nets.items()},
    )


def policy_build(previous: Policy | None = None) -> Policy:
    """The policy as the database has it (``previous`` when nothing changed since)."""
    fingerprint = _fingerprint()
    if previous is not None and previous.fingerprint == fingerprint:
        return previous
    entries: dict[tuple[str, int], dict[str, list[ListEntry]]] = {}
    for entry in ListEntry.objects.all():
        entries.setdefault(_scope_key(entry), {}).setdefault(entry.mode, []).append(entry)
    freq: dict[tuple[str, int], list[FreqRule]] = {}
    for cap in FrequencyCap.objects.all():
        scope, pk = _scope_key(cap)
        name = "n" if scope == "network" else f"{scope[0]}{pk}"
        freq.setdefault((scope, pk), []).append(FreqRule(name, cap.window_days, cap.limit))
    compiled: dict[tuple[str, int], ScopeRules] = {}
    for key in {*entries, *freq}:
        modes = entries.get(key, {})
        compiled[key] = ScopeRules(
            block=_matchers(modes["block"]) if "block" in modes else None,
            allow=_matchers(modes["allow"]) if "allow" in modes else None,
            freq=tuple(freq.get(key, ())),
        )
    advertisers = {pk: rules for (scope, pk), rules in compiled.items() if scope == "advertiser"}
    return Policy(
        network=compiled.get(("network", 0)),
        advertisers=advertisers,
        offers={pk: rules for (scope, pk), rules in compiled.items() if scope == "offer"},
        offer_advertiser=dict(
            Offer.objects.filter(advertiser_id__in=list(advertisers)).values_list("pk", "advertiser_id")
        ),
        fingerprint=fingerprint,
    )


# --- Keeping the process's policy fresh ---------------------------------------------------------

_policy: Policy = EMPTY
_loaded = False
_next_check = 0.0
_tasks: set[asyncio.Future[None]] = set()


def current() -> Policy:
    return _policy


def policy_stale() -> None:
    """The lists or caps changed: this process's next click waits for a reload (services call
    it on commit, so a portal upload applies to the very next click served here)."""
    global _next_check, _loaded
    _next_check, _loaded = 0.0, False


def policy_reset() -> None:
    """Forget the policy altogether (tests: ids repeat between them)."""
    global _policy
    _policy = EMPTY
    policy_stale()


def policy_reload() -> None:
    """Blocking: read the policy again (the database down: the lists we have beat none)."""
    global _policy, _loaded
    try:
        _policy, _loaded = policy_build(_policy), True
    except DatabaseError:
        log.warning("click policy not reloaded (database unreachable); keeping the one loaded")


def policy_due() -> bool:
    """A reload is due (``policy_ensure``); asked by every click, so the usual answer (no)
    costs no coroutine."""
    return time.monotonic() >= _next_check


async def policy_ensure() -> None:
    """Reload the policy when it is due: in the background, except before the process's first
    load, when the click waits for it."""
    global _next_check
    now = time.monotonic()
    if now < _next_check:
        return
    if not _loaded:
        await blocking(policy_reload)
        _next_check = now + settings.CLICK_POLICY_REFRESH_SECONDS
        return
    _next_check = now + settings.CLICK_POLICY_REFRESH_SECONDS
    task = asyncio.ensure_future(blocking(policy_reload))
    _tasks.add(task)  # a reference, or the loop may drop the task half-way
    task.add_done_callback(_tasks.discard)
