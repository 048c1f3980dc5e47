"""Which addresses a publisher postback may reach: public ones only (contract section 5).

A publisher controls the URL, so without these checks a postback is a request forgery from
inside the network: to the metadata service (169.254.169.254), to Redis on loopback, to
the private LAN. Every address a name resolves to is vetted, not just the first, because the
client may connect to any of them; and the client then connects to the vetted address itself,
so a second DNS answer (rebinding) cannot swap in a private one between check and connect.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Indirection so tests can answer DNS for made-up public names without a resolver.
_getaddrinfo = socket.getaddrinfo


class AddressRefused(Exception):
    """The target is not a public address; no connection was attempted."""

    code = "blocked_address"


class AmbiguousAddress(AddressRefused):
    """An IPv4 literal in a non-canonical form (2130706433, 0177.0.0.1, 0x7f000001, 127.1).

    Resolvers disagree on what these mean, and they exist mostly to slip past filters, so
    they are refused outright instead of guessed at.
    """

    code = "ambiguous_ip"


class ResolutionFailed(Exception):
    """DNS gave no answer. Usually transient, so the delivery retries."""

    code = "dns_error"


def allowed_private_networks() -> list[IPNetwork]:
    """Operator exceptions (POSTBACK_ALLOWED_PRIVATE_NETWORKS), e.g. a tracker on the same LAN."""
    return [ipaddress.ip_network(n, strict=False) for n in settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 one carries: mapped, NAT64, 6to4 and Teredo."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo:
        found.append(ip.teredo[1])
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def refusal_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in _embedded_ipv4(ip):
            if (reason := refusal_reason(inner)) is not None:
                return f"embeds {inner}, which is {reason}"
    for reason, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return reason
    # is_global also excludes shared address space (CGNAT, 100.64.0.0/10) and IPv6 ranges
    # the flags above do not name.
    if not ip.is_global:
        return "not globally routable"
    return None


def address_is_allowed(ip: IPAddress, allowed: Iterable[IPNetwork]) -> bool:
    if refusal_reason(ip) is None:
        return True
    # Exact-version match only: ::ffff:127.0.0.1 is not let in by an allowance for 127.0.0.1/32.
    return any(ip.version == net.version and ip in net for net in allowed)


def ip_literal(host: str) -> IPAddress | None:
    """The address when ``host`` is an IP literal; raises AmbiguousAddress for odd IPv4 forms."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    try:
        socket.inet_aton(bare)
    except OSError:
        return None
    raise AmbiguousAddress(f"{host!r} is an IP address in a non-canonical form; write it as a.b.c.d.")


def vet_ip(ip: IPAddress, host: str) -> None:
    if not address_is_allowed(ip, allowed_private_networks()):
        reason = refusal_reason(ip)
        raise AddressRefused(
            f"{host} resolves to {ip}, which is {reason}; only public addresses are allowed."
        )


def resolve_public(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in resolver order, if and only if all are allowed."""
    literal = ip_literal(host)
    if literal is not None:
        vet_ip(literal, host)
        return [str(literal)]
    try:
        infos = _getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolutionFailed(f"Could not resolve {host}: {exc}") from exc
    addresses: list[str] = []
    for info in infos:
        raw = str(info[4][0])
        ip = ipaddress.ip_address(raw.split("%", 1)[0])
        vet_ip(ip, host)
        if str(ip) not in addresses:
            addresses.append(str(ip))
    if not addresses:
        raise ResolutionFailed(f"{host} has no address.")
    return addresses
