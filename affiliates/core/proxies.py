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


@lru_cache(maxsize=4096)
def _is_trusted(ip: str, proxies: tuple[str, ...]) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in net for net in trusted_networks(proxies))


def is_trusted_proxy(ip: str) -> bool:
    # Keyed on the setting's value, so a changed setting (tests) takes effect at once.
    return _is_trusted(ip, tuple(settings.TRUSTED_PROXIES))


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
