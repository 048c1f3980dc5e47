"""Clicks on the edge read X-Forwarded-For/-Proto through the one function that decides
(affiliates/core/proxies.py): from an untrusted peer they are ignored."""

from __future__ import annotations

import uuid

import pytest

from tracking.models import Click
from tracking.tests.asgi_driver import Edge

pytestmark = pytest.mark.django_db(transaction=True)

SPOOF = [(b"x-forwarded-for", b"81.2.69.160"), (b"x-forwarded-proto", b"https")]


@pytest.fixture
def edge_app():
    driver = Edge(interface="asgi")
    yield driver
    driver.close()


def click(edge_app, token: str, ip: str) -> tuple[Click, list[str]]:
    status, headers, _ = edge_app.get(f"/c/{token}", "", ip=ip, scheme="http", headers=SPOOF)
    assert status == 302
    click_id = dict(headers)["location"].split("cid=")[1].split("&")[0]
    return click_id, [v for k, v in headers if k == "set-cookie"]


def test_a_click_from_an_untrusted_peer_keeps_the_peer_ip_and_plain_http(edge_app, shoes_link, drain):
    click_id, cookies = click(edge_app, shoes_link.token, "8.8.8.8")
    assert all("SameSite=Lax" in c and "Secure" not in c for c in cookies)
    drain()
    stored = Click.objects.get(id=uuid.UUID(click_id))
    assert (stored.ip, stored.country) == ("8.8.8.8", "US")


def test_a_click_through_a_trusted_proxy_takes_the_forwarded_ip_and_scheme(
    edge_app, shoes_link, drain, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    click_id, cookies = click(edge_app, shoes_link.token, "10.1.2.3")
    assert all("Secure; SameSite=None" in c for c in cookies)
    drain()
    stored = Click.objects.get(id=uuid.UUID(click_id))
    assert (stored.ip, stored.country) == ("81.2.69.160", "GB")
