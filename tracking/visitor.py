"""Facts about the visitor behind a request: client IP, country, network, device, bot.

Shared by the click hot path and conversion fraud rules. The geo-IP and ASN data ship inside
the geoip2fast package (no download at run time); device and OS come from ua-parser; bot
patterns from the crawler-user-agents package. Each database loads once per process.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from affiliates.core import proxies

# Hosting and cloud networks, matched against the ASN name geoip2fast reports. Traffic from
# them is rarely a person; conversions through such clicks are held for review.
DATACENTER_ASN_PATTERNS = (
    r"AMAZON|AWS|GOOGLE-CLOUD|GOOGLE CLOUD|MICROSOFT|AZURE|DIGITALOCEAN|OVH|HETZNER|LINODE|AKAMAI-LINODE"
    r"|CHOOPA|VULTR|ALIBABA|ORACLE|TENCENT|CONTABO|SCALEWAY|ONLINE S\.A\.S|LEASEWEB|M247|CLOUDFLARE"
    r"|IONOS|HOSTINGER|HOSTWINDS|DATACAMP|CDN77|G-CORE|GCORE|FASTLY|PSYCHZ|QUADRANET|COLOCROSSING"
    r"|SERVERS\.COM|WORLDSTREAM|NFORCE|HOSTROYALE|IPXO|CLOUDVIDER|KAMATERA|UPCLOUD|EQUINIX"
)
_DATACENTER_RE = re.compile(DATACENTER_ASN_PATTERNS, re.IGNORECASE)


# The client's address and scheme are decided in one place for every path
# (affiliates/core/proxies.py): X-Forwarded-For/-Proto are believed only from TRUSTED_PROXIES.
client_ip = proxies.client_ip
is_https = proxies.is_https


def ip_for_storage(ip: str, *, mode: str | None = None) -> str:
    """Apply settings.IP_PRIVACY (or ``mode``, the same setting as the click path's snapshot
    holds it: clickpath/conf.py): keep the full address, truncate it (/24, /48), or hash it."""
    if mode is None:
        mode = settings.IP_PRIVACY
    if mode == "full" or not ip:
        return ip
    if mode == "hashed":
        digest = hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()
        return f"h:{digest[:40]}"
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False).network_address)


@cache
def _geo() -> Any:
    import geoip2fast
    from geoip2fast import GeoIP2Fast

    # The ASN edition carries country data too, so one lookup answers both questions; its
    # IPv6 edition holds the IPv4 ranges as well, so one file serves every visitor (the IPv4-only
    # file answered every IPv6 address as unknown, and geo-targeted offers refused them all).
    data = Path(geoip2fast.__file__).parent / "geoip2fast-asn-ipv6.dat.gz"
    return GeoIP2Fast(geoip2fast_data_file=str(data))


@dataclass(frozen=True)
class Network:
    country: str
    asn_name: str
    # Decided once per network name, not on every click: the pattern is long, and a few
    # thousand ASNs carry nearly all traffic.
    is_datacenter: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_datacenter", _is_datacenter_asn(self.asn_name))


@lru_cache(maxsize=8192)
def _is_datacenter_asn(asn_name: str) -> bool:
    return bool(asn_name) and bool(_DATACENTER_RE.search(asn_name))


@lru_cache(maxsize=65536)
def network_for_ip(ip: str) -> Network:
    if not ip:
        return Network("", "")
    try:
        result = _geo().lookup(ip)
    except Exception:  # a malformed address is "unknown", never an error on the hot path
        return Network("", "")
    # geoip2fast answers "--" (and other non-codes) for private, reserved and unknown ranges.
    code = result.country_code or ""
    country = code if len(code) == 2 and code.isalpha() else ""
    return Network(country=country, asn_name=result.asn_name or "")


@dataclass(frozen=True)
class Device:
    device: str  # desktop, mobile, tablet, other
    os: str  # windows, macos, linux, android, ios, chromeos, other


_OS_MAP = {
    "windows": "windows",
    "mac os x": "macos",
    "macos": "macos",
    "ios": "ios",
    "ipados": "ios",
    "android": "android",
    "chrome os": "chromeos",
    "chromeos": "chromeos",
    "linux": "linux",
    "ubuntu": "linux",
    "fedora": "linux",
    "debian": "linux",
}
_TABLET_RE = re.compile(r"ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))", re.IGNORECASE)
_MOBILE_RE = re.compile(
    r"mobi|iphone|ipod|android.*mobile|windows phone|blackberry|opera mini", re.IGNORECASE
)


# User agents repeat heavily in real traffic (a few browser builds make most of it), while
# parsing one costs tens of microseconds (ua-parser) to over a hundred (the crawler patterns).
# So the answers are cached per user-agent string, in one bounded LRU cache: a flood of unique
# strings can evict entries but never grow memory past about UA_CACHE_SIZE x 512 characters.
UA_CACHE_SIZE = 16384


def _device_for_ua(user_agent: str) -> Device:
    if not user_agent:
        return Device("other", "other")
    from ua_parser import parse_os

    family = (parse_os(user_agent) or _NoOS).family.lower()
    os_name = next((v for k, v in _OS_MAP.items() if family.startswith(k)), "other")
    if _TABLET_RE.search(user_agent):
        device = "tablet"
    elif _MOBILE_RE.search(user_agent):
        device = "mobile"
    elif os_name in {"windows", "macos", "linux", "chromeos"}:
        device = "desktop"
    else:
        device = "other"
    return Device(device=device, os=os_name)


class _NoOS:
    family = "other"


def _is_bot(user_agent: str) -> bool:
    if not user_agent.strip():
        return True
    import crawleruseragents

    return bool(crawleruseragents.is_crawler(user_agent))


@dataclass(frozen=True)
class UserAgentFacts:
    device: str
    os: str
    is_bot: bool


@lru_cache(maxsize=UA_CACHE_SIZE)
def ua_facts(user_agent: str) -> UserAgentFacts:
    """Device, OS and bot verdict of a user agent in one lookup of the one cache (the click
    path needs all three; the conversion path's bot check reads the same entries)."""
    device = _device_for_ua(user_agent)
    return UserAgentFacts(device=device.device, os=device.os, is_bot=_is_bot(user_agent))


def is_bot(user_agent: str) -> bool:
    """Known crawlers (crawler-user-agents), and requests with no user agent at all."""
    return ua_facts(user_agent).is_bot
