"""Which forwarding headers to believe: the one place that decides, for every request path.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are set by whoever sends the request, so they
are believed only when the direct peer (REMOTE_ADDR) is one of settings.TRUSTED_PROXIES (CIDRs,
empty by default: no proxy is trusted and the peer is the client). Readers:

- clicks, impressions and postbacks on the edge (tracking/clickpath, tracking/conversions) take
  ``client_ip`` and ``is_https`` of their WSGI-style environ;
- Django pages and the API go through ``ForwardedHeadersMiddleware``, first in MIDDLEWARE: it
  drops the headers of an untrusted peer, so no later code can read a spoofed value, and marks
  the request HTTPS when a trusted proxy says so (instead of SECURE_PROXY_SSL_HEADER, which
  believes anyone). The brute-force lockout counts by ``request_client_ip``.

Here, in the bottom app, so tracking and the lockout (affiliates) share it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")


@lru_cache(maxsize=8)
def trusted_networks(proxies: tuple[str, ...] | None = None) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies or ())


Ranges = tuple[tuple[int, int], ...]


@lru_cache(maxsize=8)
def _trusted_ranges(proxies: tuple[str, ...]) -> tuple[Ranges, Ranges]:
    """The trusted networks as (first, last) address numbers: IPv4's, IPv6's."""
    nets = trusted_networks(proxies)
    ranges = [(int(n.network_address), int(n.broadcast_address)) for n in nets]
    v4 = tuple(r for r, n in zip(ranges, nets, strict=True) if n.version == 4)
    v6 = tuple(r for r, n in zip(ranges, nets, strict=True) if n.version == 6)
    return v4, v6


# TRUSTED_PROXIES as read last (the setting itself, and its ranges): a changed setting (tests'
# override_settings) is seen by comparing the list object, not by a tuple made per call.
_read: list[Any] = [None, ((), ())]


def is_trusted_proxy(ip: str) -> bool:
    # Asked for every hop of every click behind a load balancer, each client a new address: an
    # lru_cache on the text missed for nearly every visitor and ipaddress then parsed it in
    # Python (4 us a click). inet_pton is the C library's strict parser (no leading zeros, no
    # zone ids: such text is not a trusted proxy, as ipaddress refused it before).
    proxies = settings.TRUSTED_PROXIES
    if proxies is not _read[0]:
        _read[:] = [proxies, _trusted_ranges(tuple(proxies))]
    v4, v6 = _read[1]
    if not v4 and not v6:
        return False
    try:
        if ":" in ip:
            ranges, number = v6, int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big")
        else:
            ranges, number = v4, int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")
    except (OSError, ValueError):
        return False
    return any(first <= number <= last for first, last in ranges)


def peer_is_trusted(meta: dict[str, Any]) -> bool:
    return is_trusted_proxy(str(meta.get("REMOTE_ADDR") or ""))


def client_ip(meta: dict[str, Any]) -> str:
    """The client's address: REMOTE_ADDR, or, when that peer is a trusted proxy, the right-most
    X-Forwarded-For hop that is not itself a trusted proxy (hops left of it were written by
    the client and could be anything)."""
    remote = str(meta.get("REMOTE_ADDR") or "")
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    if not forwarded or not is_trusted_proxy(remote):
        return remote
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else remote


def is_https(meta: dict[str, Any]) -> bool:
    """The connection is HTTPS, or a trusted proxy says the client's was."""
    if meta.get("wsgi.url_scheme") == "https":
        return True
    return meta.get("HTTP_X_FORWARDED_PROTO") == "https" and peer_is_trusted(meta)


def request_client_ip(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: lock out the client, not the load balancer in front of it."""
    return client_ip(request.META)


class ForwardedHeadersMiddleware:
    """First in MIDDLEWARE: believe forwarding headers from TRUSTED_PROXIES only."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        meta = request.META
        if peer_is_trusted(meta):
            if meta.get("HTTP_X_FORWARDED_PROTO") == "https":
                # Django reads the scheme from here (WSGIRequest); SECURE_SSL_REDIRECT, secure
                # cookies and CSRF's origin check follow.
                meta["wsgi.url_scheme"] = "https"
        else:
            for name in FORWARDED_HEADERS:
                meta.pop(name, None)
        return self.get_response(request)
