"""seed_demo builds the documented demo network, and running it again changes nothing.

These look at the network alone (``--days 0``); its traffic and money are tested in
tests/test_demo_activity.py."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from affiliates import demo
from affiliates.models import Advertiser, Coupon, CustomPayout, Goal, Offer, OfferAccess, Publisher

pytestmark = pytest.mark.django_db


def _everything() -> dict[str, list[tuple[Any, ...]]]:
    models = [*apps.get_app_config("affiliates").get_models(), get_user_model(), Token]
    return {m.__name__: sorted(map(tuple, m.objects.values_list())) for m in models} | {
        "members": sorted(Advertiser.members.through.objects.values_list("advertiser_id", "user_id"))
        + sorted(Publisher.members.through.objects.values_list("publisher_id", "user_id"))
    }


def test_running_seed_demo_twice_changes_nothing() -> None:
    first = StringIO()
    call_command("seed_demo", "--days", "0", stdout=first)
    before = _everything()
    second = StringIO()
    call_command("seed_demo", "--days", "0", stdout=second)
    assert _everything() == before
    assert "nothing changed" in second.getvalue()
    assert "created" in first.getvalue()


def test_the_demo_network_has_what_the_readme_promises() -> None:
    demo.seed()
    assert Advertiser.objects.count() >= 3
    assert Offer.objects.count() == 12
    assert set(Goal.objects.values_list("payout_type", flat=True)) == set(Goal.PayoutType.values)
    assert Publisher.objects.count() == 25
    assert set(Publisher.objects.values_list("status", flat=True)) == set(Publisher.Status.values)
    assert OfferAccess.objects.filter(status="approved").count() >= 25
    assert OfferAccess.objects.filter(status="pending").exists()
    assert CustomPayout.objects.exists()
    assert Coupon.objects.exists()
    assert all(o.goals.filter(is_default=True).count() == 1 for o in Offer.objects.all())


def test_the_printed_logins_work(client) -> None:
    out = StringIO()
    call_command("seed_demo", "--days", "0", stdout=out)
    for username, password in (demo.STAFF_LOGIN, demo.ADVERTISER_LOGIN, demo.PUBLISHER_LOGIN):
        assert username in out.getvalue()
        assert password in out.getvalue()
        assert client.login(username=username, password=password)
    staff_key = Token.objects.get(user__username=demo.STAFF_LOGIN[0]).key
    assert staff_key in out.getvalue()


def test_each_demo_login_sees_its_own_slice(api_as) -> None:
    net = demo.seed()
    acme = api_as(net.users["advertiser"]).get("/api/v1/offers/", {"page_size": 100}).json()
    assert {o["advertiser"] for o in acme["results"]} == {net.advertisers["acme"].pk}
    pixel = api_as(net.users["publisher"]).get("/api/v1/publishers/").json()
    assert [p["name"] for p in pixel["results"]] == ["PixelPush Media"]
    staff = api_as(net.users["staff"]).get("/api/v1/offers/").json()
    assert staff["count"] == 12
