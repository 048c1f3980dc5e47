"""Holdout tests on the click path: a stable share of visitors is held out and sent to the
control destination, the arm is recorded on the click, and a held-out visitor's conversion is
recorded and attributed but rejected as ``holdout_control`` (tracking/clickpath/holdout.py)."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from scipy.stats import binomtest

from affiliates.models import Offer, Publisher
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from tracking.clickpath import lines, redis_conn, visitor_ids
from tracking.clickpath.holdout import arm_for, holdout_arm_of
from tracking.clickpath.snapshots import HoldoutRule
from tracking.holdouts.services import HoldoutSpec, holdout_test_create
from tracking.models import Click, Conversion, HoldoutArm, HoldoutTest
from tracking.tests.asgi_driver import DESKTOP_UA
from tracking.tests.conversions.conftest import postback

STAFF = Actor(role=Role.STAFF)


def start_test(offer: Offer, *, publishers: list[Publisher] | None = None, **spec: Any) -> HoldoutTest:
    now = timezone.now()
    values: dict[str, Any] = {
        "name": "Is PixelPush incremental?",
        "holdout_share": Decimal("0.5"),
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(days=14),
        **spec,
    }
    return holdout_test_create(
        actor=STAFF, offer=offer, spec=HoldoutSpec(publishers=publishers or [], **values)
    )


def visitor_in(test: HoldoutTest, arm: str, *, skip: int = 0) -> str:
    """An IP whose visitor (with the desktop user agent) the test puts in ``arm``."""
    for i in range(1, 250):
        ip = f"8.8.{i}.{i}"
        if holdout_arm_of(test=test, visitor=f"{ip}|{DESKTOP_UA}", at=timezone.now()) == arm:
            if skip == 0:
                return ip
            skip -= 1
    raise AssertionError("no visitor found")


@pytest.mark.django_db(transaction=True)
def test_a_held_out_visitor_goes_to_the_neutral_page_and_stays_held_out(visit, drain, shoes, shoes_link):
    test = start_test(shoes, control=HoldoutTest.Control.NEUTRAL, control_url="https://neutral.example.org/")
    ip = visitor_in(test, HoldoutArm.CONTROL)
    first = visit(shoes_link.token, ip=ip, sub1="fb")
    second = visit(shoes_link.token, ip=ip, sub1="fb")
    drain()
    clicks = list(Click.objects.order_by("created_at"))
    assert [c.holdout_arm for c in clicks] == [HoldoutArm.CONTROL, HoldoutArm.CONTROL]
    assert {c.holdout_test_id for c in clicks} == {test.pk}
    assert first.status_code == 302
    assert first["Location"] == f"https://neutral.example.org/?click_id={clicks[0].id.hex}"
    assert second["Location"] == f"https://neutral.example.org/?click_id={clicks[1].id.hex}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not django_settings.REDIS_URL, reason="the keys of the click script in Redis")
def test_a_click_under_a_holdout_test_keeps_the_address_out_of_redis(visit, drain, shoes, shoes_link):
    """The holdout's draw reads address and browser; the uniqueness key in Redis must still
    carry the keyed visitor id, never the address (it once carried "<ip>|<user agent>")."""
    test = start_test(shoes)
    ip = visitor_in(test, HoldoutArm.EXPOSED)
    assert visit(shoes_link.token, ip=ip).status_code == 302
    assert visit(shoes_link.token, ip=ip).status_code == 302
    client = redis_conn.client_always()
    keys = [k.decode() for k in client.scan_iter(match=redis_conn.key("*"), count=1000)]
    visitor = visitor_ids.visitor_hash(ip, DESKTOP_UA, now=time.time())
    assert redis_conn.key("u", shoes.pk, visitor) in keys
    assert not [k for k in keys if ip in k]
    drain()
    assert sorted(Click.objects.values_list("is_unique", flat=True)) == [False, True]


@pytest.mark.django_db(transaction=True)
def test_a_visitor_whose_ip_changes_keeps_the_arm_of_their_first_click(visit, drain, edge, shoes, shoes_link):
    test = start_test(shoes, control=HoldoutTest.Control.NEUTRAL, control_url="https://neutral.example.org/")
    visit(shoes_link.token, ip=visitor_in(test, HoldoutArm.CONTROL))
    assert edge.cookies[f"afho_{test.pk}"].value == "c"
    moved = visit(shoes_link.token, ip=visitor_in(test, HoldoutArm.EXPOSED))  # same browser, new IP
    drain()
    assert moved["Location"].startswith("https://neutral.example.org/")
    assert list(Click.objects.values_list("holdout_arm", flat=True)) == [HoldoutArm.CONTROL] * 2


@pytest.mark.django_db(transaction=True)
def test_an_exposed_visitor_goes_to_the_offer_as_usual_and_a_landing_control_drops_the_deep_link(
    visit, drain, edge, shoes, shoes_link
):
    test = start_test(shoes)  # control: the offer's landing page without the publisher's deep link
    exposed = visit(
        shoes_link.token, ip=visitor_in(test, HoldoutArm.EXPOSED), url="https://shoes.example.com/promo"
    )
    edge.cookies.clear()  # another visitor's browser
    held = visit(
        shoes_link.token, ip=visitor_in(test, HoldoutArm.CONTROL), url="https://shoes.example.com/promo"
    )
    drain()
    arms = {c.holdout_arm: c for c in Click.objects.all()}
    assert exposed["Location"] == f"https://shoes.example.com/promo?click_id={arms['exposed'].id.hex}"
    assert held["Location"] == f"https://shoes.example.com/?cid={arms['control'].id.hex}&s1=&src="


@pytest.mark.django_db(transaction=True)
def test_a_test_limited_to_another_publisher_leaves_this_publishers_clicks_alone(
    visit, drain, shoes, shoes_link, rival
):
    f.OfferAccessFactory(offer=shoes, publisher=rival, status="approved")
    start_test(shoes, publishers=[rival], holdout_share=Decimal("0.5"))
    for i in range(1, 6):
        assert visit(shoes_link.token, ip=f"8.8.{i}.{i}")["Location"].startswith("https://shoes.example.com/")
    drain()
    assert set(Click.objects.values_list("holdout_arm", "holdout_test_id")) == {("", None)}


@pytest.mark.django_db(transaction=True)
def test_a_held_out_visitors_conversion_is_attributed_but_rejected_as_holdout_control(
    visit, drain, edge, shoes, shoes_link, pixelpush
):
    test = start_test(shoes)
    location = visit(shoes_link.token, ip=visitor_in(test, HoldoutArm.CONTROL))["Location"]
    click_id = location.split("cid=")[1].split("&")[0]
    # Before the consumer wrote the click (its pending copy in Redis carries the arm), then after.
    body = postback(edge, click_id=click_id, goal="lead", txn_id="HO-1").json()
    drain()
    assert (body["result"], body["reason"]) == ("rejected", "holdout_control")
    conversion = Conversion.objects.get()
    assert (conversion.offer_id, conversion.publisher_id, conversion.click_id.hex) == (
        shoes.pk,
        pixelpush.pk,
        click_id,
    )
    assert conversion.status == "rejected"
    assert f"incrementality test {test.pk}" in conversion.trace["rejection"]["detail"]
    # An advertiser's later approval cannot revive it: held out is a rule, not an opinion.
    again = postback(edge, txn_id="HO-1", status="approved").json()
    assert again["result"] != "updated"


@pytest.mark.django_db(transaction=True)
def test_stopping_a_test_stops_assignment_within_the_snapshot(visit, drain, shoes, shoes_link):
    test = start_test(shoes)
    test.status = HoldoutTest.Status.STOPPED
    test.save()
    visit(shoes_link.token, ip=visitor_in(test, HoldoutArm.CONTROL))
    drain()
    assert Click.objects.get().holdout_arm == ""


def test_the_held_out_share_is_the_configured_share_and_assignment_is_deterministic() -> None:
    rule = HoldoutRule(test_id=7, share=0.2, starts_at=0.0, ends_at=2e9, control_url="")
    arms = [arm_for(rule, visitor=f"10.0.{i // 256}.{i % 256}|ua", now=1e9) for i in range(20_000)]
    held = arms.count(HoldoutArm.CONTROL)
    assert binomtest(held, len(arms), 0.2).pvalue > 0.001
    assert arms == [arm_for(rule, visitor=f"10.0.{i // 256}.{i % 256}|ua", now=1e9) for i in range(20_000)]
    assert arm_for(rule, visitor="x", now=3e9) == ""  # after the end: no arm


def test_a_click_line_carries_the_test_and_arm() -> None:
    rec: dict[str, Any] = {
        "id": "0" * 32, "created_at": 1_700_000_000_000, "offer_id": 3, "publisher_id": 4, "ip": "1.2.3.4",
        "user_agent": "ua", "country": "US", "device": "desktop", "os": "linux", "sub1": "", "sub2": "",
        "sub3": "", "sub4": "", "sub5": "", "source": "", "referer": "", "fraud_flags": [],
        "holdout_test_id": 9, "holdout_arm": "control",
    }  # fmt: skip
    line = (lines.click_line(rec) + "\t reason 1 0").replace("\t reason", "\t").encode()
    back = lines.line_record(line)
    assert (back["holdout_test_id"], back["holdout_arm"], back["smart_path_id"]) == (9, "control", None)
    rows, _ = lines.copy_rows([line])
    assert rows[0].split(b"\t")[len(lines.CLICK_BODY) - 3 : len(lines.CLICK_BODY) - 1] == [b"9", b"control"]
