"""Forwarding headers are believed only from TRUSTED_PROXIES (affiliates/core/proxies.py): the
client IP, HTTPS, and what the lockout counts, whoever sends X-Forwarded-For/-Proto."""

from __future__ import annotations

import pytest
from django.test import Client

from affiliates.core.proxies import client_ip, is_https

PROXY = "10.0.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]


def test_an_untrusted_peer_cannot_pick_its_ip_or_scheme():
    meta = {
        "REMOTE_ADDR": "198.51.100.9",
        "HTTP_X_FORWARDED_FOR": "1.2.3.4",
        "HTTP_X_FORWARDED_PROTO": "https",
    }
    assert client_ip(meta) == "198.51.100.9"
    assert not is_https(meta)


def test_by_default_no_proxy_is_trusted_not_even_loopback():
    meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4", "HTTP_X_FORWARDED_PROTO": "https"}
    assert client_ip(meta) == "127.0.0.1"
    assert not is_https(meta)


def test_a_trusted_proxy_gives_the_right_most_untrusted_hop_and_the_scheme(behind_proxy):
    # The client wrote "6.6.6.6" itself; the proxy appended the address it saw.
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.4, 10.0.0.7"}
    assert client_ip(meta) == "203.0.113.4"
    assert is_https({**meta, "HTTP_X_FORWARDED_PROTO": "https"})
    assert not is_https(meta)


def test_an_untrusted_peer_claiming_https_is_still_redirected(settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client(REMOTE_ADDR="198.51.100.9").get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_a_trusted_proxy_saying_https_is_believed(settings, behind_proxy):
    settings.SECURE_SSL_REDIRECT = True
    response = Client(REMOTE_ADDR=PROXY).get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response.wsgi_request.is_secure()


def test_a_spoofed_forwarded_for_does_not_dodge_the_lockout(settings, pia):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client(REMOTE_ADDR="198.51.100.9")
    for n in range(3):
        client.post(
            "/login/", {"username": f"nobody-{n}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        )
    refused = client.post(
        "/login/", {"username": "pia", "password": "pass-word-123"}, HTTP_X_FORWARDED_FOR="192.0.2.99"
    )
    assert refused.status_code == 429


def test_behind_a_trusted_proxy_the_lockout_counts_each_client(settings, behind_proxy, pia):
    settings.AXES_FAILURE_LIMIT = 3
    proxy = Client(REMOTE_ADDR=PROXY)
    for n in range(3):
        proxy.post(
            "/login/", {"username": f"nobody-{n}", "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.4"
        )
    assert (
        proxy.post(
            "/login/", {"username": "pia", "password": "pass-word-123"}, HTTP_X_FORWARDED_FOR="203.0.113.4"
        ).status_code
        == 429
    )
    other = proxy.post(
        "/login/", {"username": "pia", "password": "pass-word-123"}, HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert other.status_code == 302


@pytest.mark.parametrize(
    "hop",
    [
        "10.0.0.0", "10.0.0.255", "10.0.1.0", "9.255.255.255", "2001:db8::1", "2001:db8:0:1::",
        "2001:db9::", "::ffff:10.0.0.5", "010.0.0.5", "10.0.0.5 ", "", "unknown", "10.0.0",
        "fe80::1%eth0", "10.0.0.256", "2001:db8::zz",
    ],
)  # fmt: skip
def test_a_hop_is_trusted_exactly_when_ipaddress_puts_it_in_a_trusted_network(settings, hop):
    import ipaddress

    from affiliates.core.proxies import is_trusted_proxy

    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8::/64"]
    try:
        address = ipaddress.ip_address(hop)
        nets = [ipaddress.ip_network(n) for n in settings.TRUSTED_PROXIES]
        expected = any(address in n for n in nets) and "%" not in hop
    except ValueError:
        expected = False
    assert is_trusted_proxy(hop) is expected
    settings.TRUSTED_PROXIES = []
    assert is_trusted_proxy(hop) is False
