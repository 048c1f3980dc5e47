"""Deep links: the only place a visitor-supplied URL can become a redirect target.

A deep link is followed only when the offer allows deep links and its host is one of the
offer's allowed domains (``shop.example.com`` exactly, or ``*.example.com`` for subdomains).
Browsers repair many malformed URLs (backslashes as slashes, tabs and newlines dropped,
userinfo before ``@``, percent-encoded hosts, Unicode dots), so anything a browser might read
differently from us is refused outright rather than interpreted, and the URL we answer with is
rebuilt from the parts we checked, re-encoded, never echoed.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

# The raw value: no backslash, whitespace or control characters anywhere (non-ASCII letters
# may appear in the path and query, where they are percent-encoded; the host is ASCII-only).
_RAW_OK = re.compile(r"^[^\x00-\x20\x7f-\x9f\\\s]+$")
_HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Characters kept as they are in the path, query and fragment; the rest is percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"


def host_allowed(host: str, allowed_domains: tuple[str, ...]) -> bool:
    for domain in allowed_domains:
        if domain.startswith("*."):
            if host.endswith(domain[1:]) and len(host) > len(domain) - 1:
                return True
        elif host == domain:
            return True
    return False


def deep_link_target(raw: str, allowed_domains: tuple[str, ...]) -> str | None:
    """The safe URL to send the visitor to, or None to ignore the deep link."""
    if not raw or len(raw) > 2000 or not _RAW_OK.match(raw) or "\\" in raw:
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or port is not None:
        return None
    # netloc must be exactly the host: no userinfo, no port, no trailing dot, no encoding.
    host = parts.netloc
    if not _HOST_RE.match(host) or not raw.startswith(f"{parts.scheme}://{host}"):
        return None
    if not host_allowed(host, allowed_domains):
        return None
    path = quote(parts.path, safe=_PATH_SAFE)
    if path and not path.startswith("/"):
        return None
    url = f"{parts.scheme}://{host}{path or '/'}"
    if parts.query:
        url += "?" + quote(parts.query, safe=_QUERY_SAFE)
    if parts.fragment:
        url += "#" + quote(parts.fragment, safe=_QUERY_SAFE)
    return url
