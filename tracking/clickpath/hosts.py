"""Which hosts the edge serves tracking links on (issue 16: custom tracking domains).

- The network's own hosts (SITE_URL's, ALLOWED_HOSTS's patterns) and a request without a
  Host header serve every link, as before.
- A verified TrackingDomain (affiliates/tracking_domains.py) serves the links of its owner: a
  publisher's domain that publisher's links and smart links, an advertiser's domain the links
  to its offers, the network's any link. A link of someone else on it is a 404, never a
  redirect: a domain must not lend its name to another party's traffic.
- Any other host, an unverified domain included, is a 404.

The edge answers ``/c/`` and ``/i/`` before Django, so ALLOWED_HOSTS never sees a tracking
domain; Django's pages on one are refused by Django's own host check (400), as they should be.
The domains are read in the edge's thread pool every few seconds (a saved domain clears this
process's copy at once), so a click pays a dict look-up or two.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import Error as DatabaseError
from django.http.request import split_domain_port, validate_host

from affiliates.models import TrackingDomain
from affiliates.tracking_domains import WELL_KNOWN_PATH
from tracking.clickpath.snapshots import Link, SmartSnapshot

log = logging.getLogger(__name__)
RELOAD_SECONDS = 10.0
WELL_KNOWN = WELL_KNOWN_PATH


@dataclass(frozen=True)
class HostRule:
    token: str
    verified: bool
    publisher_id: int | None
    advertiser_id: int | None


_rules: dict[str, HostRule] = {}
_due_at = 0.0  # monotonic; 0: never loaded
_network: dict[str, bool] = {}  # Host header -> one of the network's own hosts (memo)
_NETWORK_MAX = 1000


def hosts_due() -> bool:
    return time.monotonic() >= _due_at


def hosts_load() -> None:
    """Read every tracking domain (blocking: the edge runs it in its thread pool)."""
    global _rules, _due_at
    _due_at = time.monotonic() + RELOAD_SECONDS
    try:
        rows = list(
            TrackingDomain.objects.values_list(
                "host", "token", "verified_at", "publisher_id", "advertiser_id"
            )
        )
    except DatabaseError:  # the database is down: the last list serves, clicks go on
        log.warning("tracking domains not reloaded: the database is unreachable")
        return
    _rules = {
        host: HostRule(token, verified is not None, pub, adv) for host, token, verified, pub, adv in rows
    }


def hosts_forget(**kwargs: Any) -> None:
    """Reload on the next request (connected to TrackingDomain's saves and deletes; tests)."""
    global _due_at
    _due_at = 0.0
    _network.clear()


def _host(environ: dict[str, Any]) -> str | None:
    raw = environ.get("HTTP_HOST")
    if not raw:
        return None
    return split_domain_port(raw)[0].rstrip(".") or raw


def _is_network(host: str) -> bool:
    known = _network.get(host)
    if known is None:
        site = urlsplit(settings.SITE_URL).hostname or ""
        known = validate_host(host, [site, *settings.ALLOWED_HOSTS])
        if len(_network) >= _NETWORK_MAX:
            _network.clear()
        _network[host] = known
    return known


def host_serves(environ: dict[str, Any], link: Link | SmartSnapshot) -> bool:
    """Whether the request's host may serve ``link`` (see the module's docstring)."""
    host = _host(environ)
    if host is None:
        return True
    rule = _rules.get(host)
    if rule is None:
        return _is_network(host)
    if not rule.verified:
        return False
    if rule.publisher_id is not None:
        return link.publisher_id == rule.publisher_id
    if rule.advertiser_id is not None:
        # A smart link's paths may lead to several advertisers' offers: not on one's domain.
        return isinstance(link, Link) and link.advertiser_id == rule.advertiser_id
    return True


def well_known_token(environ: dict[str, Any]) -> str | None:
    """The token the request's host answers at WELL_KNOWN (verified or not yet), or None."""
    host = _host(environ)
    rule = _rules.get(host) if host else None
    return rule.token if rule is not None else None
