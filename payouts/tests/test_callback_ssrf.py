"""Postbacks never reach loopback, private, link-local or otherwise non-public addresses.

These run with POSTBACK_ALLOWED_PRIVATE_NETWORKS empty (the default). A real server listens on
127.0.0.1 and must record zero hits, and a spy on the client's one connect function proves no
connection was even attempted.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from affiliates.models import Publisher
from payouts.callbacks import addresses, client
from payouts.callbacks.services import callbacks_fire
from payouts.callbacks.templates import validate_callback_url
from payouts.models.callbacks import CallbackDelivery
from payouts.tests.callback_server import Recorder, local_server
from payouts.tests.factories_callbacks import CallbackEndpointFactory, ConversionFactory
from payouts.tests.factories_payouts import CommissionFactory


@pytest.fixture
def server(settings: Any) -> Iterator[Recorder]:
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = []
    with local_server() as recorder:
        yield recorder


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []
    real = client._open_socket

    def spy(ip: str, port: int, timeout: float) -> socket.socket:
        calls.append((ip, port))
        return real(ip, port, timeout)

    monkeypatch.setattr(client, "_open_socket", spy)
    return calls


SSRF_TARGETS = [
    ("http://127.0.0.1:{port}/pb", "blocked_address"),
    ("http://10.1.2.3:{port}/pb", "blocked_address"),
    ("http://172.16.0.9:{port}/pb", "blocked_address"),
    ("http://172.31.255.1:{port}/pb", "blocked_address"),
    ("http://192.168.1.20:{port}/pb", "blocked_address"),
    ("http://169.254.169.254/latest/meta-data/", "blocked_address"),
    ("http://100.64.0.1:{port}/pb", "blocked_address"),
    ("http://0.0.0.0:{port}/pb", "blocked_address"),
    ("http://224.0.0.1:{port}/pb", "blocked_address"),
    ("http://[::1]:{port}/pb", "blocked_address"),
    ("http://[fe80::1]:{port}/pb", "blocked_address"),
    ("http://[fc00::5]:{port}/pb", "blocked_address"),
    ("http://[::ffff:127.0.0.1]:{port}/pb", "blocked_address"),
    ("http://[2002:7f00:1::]:{port}/pb", "blocked_address"),
    ("http://2130706433:{port}/pb", "ambiguous_ip"),
    ("http://0177.0.0.1:{port}/pb", "ambiguous_ip"),
    ("http://0x7f000001:{port}/pb", "ambiguous_ip"),
    ("http://127.1:{port}/pb", "ambiguous_ip"),
    ("http://localhost:{port}/pb", "blocked_address"),
]


@pytest.mark.parametrize(("template", "code"), SSRF_TARGETS)
def test_a_postback_to_a_non_public_address_is_refused_without_connecting(
    template: str,
    code: str,
    server: Recorder,
    connects: list[Any],
    pixelpush: Publisher,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Saved unchecked, as if the name resolved elsewhere when the publisher saved it.
    CallbackEndpointFactory(publisher=pixelpush, url=template.format(port=server.port) + "?c={click_id}")
    commission = CommissionFactory(conversion=ConversionFactory(publisher=pixelpush))

    with django_capture_on_commit_callbacks(execute=True):
        callbacks_fire(commission_ids=[commission.pk], event="created")

    delivery = CallbackDelivery.objects.get()
    [attempt] = delivery.attempts.all()
    assert attempt.error_code == code
    assert not attempt.ok
    assert attempt.status_code is None
    # Retrying cannot make a private address public: given up at once, and marked.
    assert delivery.status == CallbackDelivery.Status.FAILED
    assert delivery.given_up_at is not None
    assert connects == []
    assert server.hits == []


def test_a_name_is_refused_when_any_of_its_addresses_is_private(
    server: Recorder, connects: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        addresses,
        "_getaddrinfo",
        lambda host, port, **kw: [(2, 1, 6, "", ("93.184.216.34", port)), (2, 1, 6, "", ("127.0.0.1", port))],
    )

    outcome = client.send(method="GET", url=f"http://mixed.publisher.example:{server.port}/pb")

    assert outcome.error_code == "blocked_address"
    assert "127.0.0.1" in outcome.error
    assert connects == []
    assert server.hits == []


def test_a_redirect_to_loopback_is_not_followed(
    settings: Any, connects: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The "public" tracker runs on 127.0.0.2, let through for this test only; the loopback
    # target on 127.0.0.1 is not, and must never be reached.
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.2/32"]
    monkeypatch.setattr(
        addresses, "_getaddrinfo", lambda host, port, **kw: [(2, 1, 6, "", ("127.0.0.2", port))]
    )
    with local_server("127.0.0.1") as internal, local_server("127.0.0.2") as tracker:
        tracker.reply(302, "", Location=f"{internal.base_url}/admin/delete-everything")

        outcome = client.send(method="GET", url=f"http://tracker.publisher.example:{tracker.port}/pb")

        assert outcome.status_code == 302
        assert outcome.error_code == "redirect_not_followed"
        assert not outcome.ok
        assert outcome.retryable
        assert len(tracker.hits) == 1
        assert internal.hits == []
        assert connects == [("127.0.0.2", tracker.port)]


def test_an_https_url_is_checked_the_same_way(connects: list[Any], settings: Any) -> None:
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = []

    outcome = client.send(method="GET", url="https://192.168.0.1/pb")

    assert outcome.error_code == "blocked_address"
    assert connects == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "2002:a00:1::",
        "2001:db8::1",
        # Mapped IPv4 is never a real IPv6 destination, so even a public one is refused.
        "::ffff:8.8.8.8",
    ],
)
def test_these_addresses_are_not_public(address: str) -> None:
    assert addresses.refusal_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_these_addresses_are_public(address: str) -> None:
    assert addresses.refusal_reason(ipaddress.ip_address(address)) is None


def test_an_allowance_for_an_ipv4_network_does_not_let_its_mapped_ipv6_form_in(settings: Any) -> None:
    allowed = [ipaddress.ip_network("127.0.0.1/32")]

    assert addresses.address_is_allowed(ipaddress.ip_address("127.0.0.1"), allowed)
    assert not addresses.address_is_allowed(ipaddress.ip_address("::ffff:127.0.0.1"), allowed)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1/pb", "blocked_address"),
        ("http://[::1]/pb", "blocked_address"),
        ("http://2130706433/pb", "ambiguous_ip"),
        ("http://0x7f000001/pb", "ambiguous_ip"),
        ("ftp://tracker.example.com/pb", "bad_url"),
        ("file:///etc/passwd", "bad_url"),
        ("http://user:pw@tracker.example.com/pb", "bad_url"),
        ("http://{sub1}.example.com/pb", "macro_in_host"),
        ("https://tracker.example.com/pb?x={nope}", "unknown_macro"),
        ("https://tracker.example.com/pb?x=a b", "bad_url"),
        ("https://tracker.example.com:99999/pb", "bad_url"),
    ],
)
def test_saving_a_template_rejects_what_firing_would_refuse(url: str, code: str, settings: Any) -> None:
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = []

    with pytest.raises(ValidationError) as caught:
        validate_callback_url(url)

    assert caught.value.code == code
