"""Open-redirect fuzz on the deep link ``url``: no Location outside the allowed domains, ever,
and no CR/LF in any header."""

from __future__ import annotations

import itertools
from urllib.parse import quote, urlsplit

import pytest

from affiliates.models import Offer
from tracking.clickpath.deeplinks import deep_link_target, host_allowed

ALLOWED = ("shoes.example.com", "*.acme.test")

HOSTS = [
    "//evil.com", "evil.com", "shoes.example.com.evil.com", "evil.com#shoes.example.com",
    "shoes.example.com@evil.com", "user:pw@shoes.example.com", "shoes.example.com:443@evil.com",
    "evil.com\\@shoes.example.com", "shoes.example.com\\evil.com", "evil.com\\.shoes.example.com",
    "shoes.example.com%2eevil.com", "shoes%2eexample%2ecom", "evil%2ecom", "shoes.example.com%00.evil.com",
    "shoes.example.com%0d%0aSet-Cookie:x=1", "shoes.example.com\r\nSet-Cookie: x=1",
    "shoes.example.com\n.evil.com",
    "shoes.example.com\t.evil.com", "ｅｖｉｌ.com", "shoes.example.com。evil.com", "xn--e1afmkfd.xn--p1ai",
    "еxample.com", "shoes.exаmple.com", "SHOES.EXAMPLE.COM.evil.com", "shoes.example.co", "example.com",
    "acme.test", "evilacme.test", "a.acme.test.evil.com", "acme.test.evil.com", "[::1]", "127.0.0.1",
    "0x7f.1", "2130706433", "shoes.example.com:8080", "shoes.example.com.", "shoes.example.com:",
    ".shoes.example.com", "shoes..example.com", "*.acme.test", "%2F%2Fevil.com", "/\\evil.com",
    "\\\\evil.com", "shoes.example.com/%2F%2Fevil.com", "evil.com/shoes.example.com",
]  # fmt: skip
SCHEMES = [
    "https://", "http://", "//", "///", "https:", "https:/", "https:\\\\", "javascript://",
    "data://", "HTTPS://", " https://", "\x00https://", "ftp://", "https://\t", "%68ttps://",
]  # fmt: skip
GOOD = [
    "https://shoes.example.com/sale?x=1", "http://shoes.example.com/", "https://www.acme.test/p/1",
    "https://a.b.acme.test/deep/path?q=1#frag", "https://shoes.example.com//evil.com",
    "https://shoes.example.com/%0d%0a", "https://shoes.example.com/\u00e9",
]  # fmt: skip


def payloads() -> list[str]:
    raw = [s + h for s, h in itertools.product(SCHEMES, HOSTS)]
    raw += [p + "/path?next=https://evil.com" for p in raw[:60]]
    raw += [quote(p, safe="") for p in raw[:40]]
    raw += [p.replace("/", "\\") for p in GOOD] + [p + "\r\nLocation: https://evil.com" for p in GOOD]
    raw += ["https://shoes.example.com@evil.com/", "https://shoes.example.com%40evil.com/"]
    return raw


def landed_host_ok(location: str) -> bool:
    parts = urlsplit(location)
    return (
        parts.scheme in ("http", "https")
        and host_allowed(parts.hostname or "", ALLOWED)
        and "@" not in parts.netloc
    )


def test_there_are_at_least_300_payloads() -> None:
    assert len(payloads()) >= 300


@pytest.mark.parametrize("payload", payloads())
def test_a_deep_link_never_leaves_the_allowed_domains(payload: str) -> None:
    target = deep_link_target(payload, ALLOWED)
    if target is not None:
        assert landed_host_ok(target), (payload, target)
        assert not any(c in target for c in "\r\n\t\\\x00 ")


@pytest.mark.parametrize("good", GOOD)
def test_a_deep_link_to_an_allowed_host_is_followed(good: str) -> None:
    target = deep_link_target(good, ALLOWED)
    assert target is not None
    assert urlsplit(target).hostname == urlsplit(good).hostname


@pytest.mark.django_db
def test_no_response_ever_redirects_outside_or_splits_headers(edge, shoes, shoes_link) -> None:
    Offer.objects.filter(pk=shoes.pk).update(allowed_domains=list(ALLOWED), deep_links_allowed=True)
    followed = 0
    for payload in [*payloads(), *GOOD]:
        response = edge.get(f"/c/{shoes_link.token}", {"url": payload}, REMOTE_ADDR="8.8.8.8")
        assert response.status_code == 302
        location = response["Location"]
        assert landed_host_ok(location), (payload, location)
        for name, value in response.items():
            assert not set(value) & {"\r", "\n"}, (payload, name)
        followed += not location.startswith("https://shoes.example.com/?cid=")
    assert followed >= len(GOOD)


@pytest.mark.django_db
def test_a_deep_link_is_ignored_when_the_offer_does_not_allow_deep_links(edge, shoes, shoes_link) -> None:
    Offer.objects.filter(pk=shoes.pk).update(deep_links_allowed=False)
    response = edge.get(f"/c/{shoes_link.token}", {"url": "https://shoes.example.com/sale"})
    assert response["Location"].startswith("https://shoes.example.com/?cid=")


@pytest.mark.django_db
def test_an_allowed_deep_link_gets_the_click_id(edge, shoes, shoes_link) -> None:
    response = edge.get(f"/c/{shoes_link.token}", {"url": "https://shoes.example.com/sale?x=1#top"})
    location = response["Location"]
    assert location.startswith("https://shoes.example.com/sale?x=1&click_id=")
    assert location.endswith("#top")
