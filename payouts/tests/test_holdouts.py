"""Holdout test reports, stopping and the API (payouts/incrementality): a simulation with a
known true lift that the report recovers within its intervals, the intervals' coverage, the
sequential and end-date stops with their notification, and the API's scopes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from affiliates.models import AuditEntry, Offer, Publisher
from affiliates.notifications import Notification
from affiliates.roles import Actor, Role
from affiliates.tests.signin import sign_in
from payouts.incrementality import stats
from payouts.incrementality.modelled import modelled_incrementality
from payouts.incrementality.report import holdout_report
from payouts.incrementality.tasks import holdouts_tick
from payouts.models import Commission
from payouts.reconcile import conversions_reconcile
from tracking.holdouts.services import HoldoutSpec, holdout_test_create
from tracking.ids import new_click_id
from tracking.models import Click, Conversion, HoldoutArm, HoldoutTest
from tracking.reasons import Reason

pytestmark = pytest.mark.django_db
STAFF = Actor(role=Role.STAFF)


def start(offer: Offer, *, share: str = "0.2", days: int = 14, **spec: Any) -> HoldoutTest:
    now = timezone.now()
    test = holdout_test_create(
        actor=STAFF,
        offer=offer,
        spec=HoldoutSpec(
            name="PixelPush lift",
            holdout_share=Decimal(share),
            starts_at=now - timedelta(days=2),
            ends_at=now + timedelta(days=days),
            **spec,
        ),
    )
    # Started two days ago (a new test starts now at the earliest), so seeded clicks fall in it.
    HoldoutTest.objects.filter(pk=test.pk).update(starts_at=now - timedelta(days=2))
    test.refresh_from_db()
    return test


def seed(test: HoldoutTest, publisher: Publisher, arm: str, *, visitors: int, conversions: int) -> None:
    """``visitors`` clicks of the arm, the first ``conversions`` of them converting on the
    offer's CPL goal: earning when exposed, rejected as held out otherwise (as intake does)."""
    base = timezone.now() - timedelta(days=1)
    clicks = [
        Click(
            id=new_click_id(int((base + timedelta(milliseconds=i)).timestamp() * 1000)),
            offer=test.offer,
            publisher=publisher,
            created_at=base + timedelta(milliseconds=i),
            ip=f"10.{hash(arm) % 200}.{i // 256}.{i % 256}",
            user_agent="ua",
            holdout_test_id=test.pk,
            holdout_arm=arm,
        )
        for i in range(visitors)
    ]
    Click.objects.bulk_create(clicks)
    goal = test.offer.goals.get(code="lead")
    held = arm == HoldoutArm.CONTROL
    Conversion.objects.bulk_create(
        Conversion(
            advertiser_id=test.offer.advertiser_id,
            offer=test.offer,
            publisher=publisher,
            goal=goal,
            click_id=c.id,
            click_time=c.created_at,
            created_at=c.created_at + timedelta(minutes=3),
            status="rejected" if held else "pending",
            reason=Reason.HOLDOUT_CONTROL if held else "",
        )
        for c in clicks[:conversions]
    )


def test_a_simulated_test_with_a_known_true_lift_is_recovered_within_its_intervals(
    shoes, shoes_link, pixelpush
):
    true_control, true_exposed = 0.04, 0.06  # the promotion truly lifts conversion by half
    rng = np.random.default_rng(20261204)
    test = start(shoes, share="0.2")
    n_e, n_c = 8000, 2000
    x_e, x_c = int(rng.binomial(n_e, true_exposed)), int(rng.binomial(n_c, true_control))
    seed(test, pixelpush, HoldoutArm.EXPOSED, visitors=n_e, conversions=x_e)
    seed(test, pixelpush, HoldoutArm.CONTROL, visitors=n_c, conversions=x_c)
    conversions_reconcile()

    report = holdout_report(test=test)

    lift = report["lift"]
    assert (lift["visitors_exposed"], lift["conversions_exposed"]) == (n_e, x_e)
    assert (lift["visitors_control"], lift["conversions_control"]) == (n_c, x_c)
    low, high = lift["absolute_lift_ci"]
    assert low < true_exposed - true_control < high
    low, high = lift["relative_lift_ci"]
    assert low < true_exposed / true_control - 1 < high
    low, high = report["incremental_conversions_ci"]
    assert low < (true_exposed - true_control) * n_e < high
    assert report["incremental_conversions"] == pytest.approx(x_e - x_c / n_c * n_e)
    # CPL revenue 2.00 per exposed conversion; the held-out ones earned nothing.
    assert Decimal(report["exposed_cost"]) == Decimal("2.00") * x_e
    assert not Commission.objects.filter(conversion__reason=Reason.HOLDOUT_CONTROL).exists()
    expected = (Decimal("2.00") * x_e / Decimal(str(round(report["incremental_conversions"], 6)))).quantize(
        Decimal("0.01")
    )
    assert Decimal(report["cost_per_incremental"]) == expected
    assert any("95 % interval" in line for line in report["explanation"])


def test_the_lift_intervals_cover_the_true_lift_about_95_times_in_100() -> None:
    rng = np.random.default_rng(7)
    p_c, p_e, n_e, n_c = 0.05, 0.065, 4000, 1000
    absolute = relative = 0
    runs = 400
    for _ in range(runs):
        r = stats.lift(x_e=int(rng.binomial(n_e, p_e)), n_e=n_e, x_c=int(rng.binomial(n_c, p_c)), n_c=n_c)
        assert r.absolute_lift_ci is not None
        assert r.relative_lift_ci is not None
        absolute += r.absolute_lift_ci[0] < p_e - p_c < r.absolute_lift_ci[1]
        relative += r.relative_lift_ci[0] < p_e / p_c - 1 < r.relative_lift_ci[1]
    assert 0.92 <= absolute / runs <= 0.98
    assert 0.92 <= relative / runs <= 0.98


def test_power_grows_with_visitors_and_says_how_many_are_needed() -> None:
    small = stats.power(baseline=0.05, minimum_lift=0.2, share=0.5, n_e=500, n_c=500)
    large = stats.power(baseline=0.05, minimum_lift=0.2, share=0.5, n_e=20000, n_c=20000)
    assert small.power is not None
    assert large.power is not None
    assert small.power < 0.3
    assert not small.enough
    assert large.power > 0.95
    assert large.enough
    # At the planned size the power is the target's 80 %.
    assert small.visitors_needed is not None
    half = small.visitors_needed // 2
    planned = stats.power(baseline=0.05, minimum_lift=0.2, share=0.5, n_e=half, n_c=half)
    assert planned.power == pytest.approx(0.8, abs=0.01)


def test_the_sequential_rule_stops_a_clear_test_and_notifies_the_advertiser(
    shoes, shoes_link, pixelpush, ada
):
    test = start(shoes, share="0.5", minimum_lift=Decimal("0.5"))
    seed(test, pixelpush, HoldoutArm.EXPOSED, visitors=3000, conversions=300)
    seed(test, pixelpush, HoldoutArm.CONTROL, visitors=3000, conversions=90)

    assert holdouts_tick() == {"stopped": 1}

    test.refresh_from_db()
    assert (test.status, test.stop_reason) == ("stopped", "sequential")
    assert test.result["sequential"]["reason"] == "lift"
    note = Notification.objects.get(recipient=ada)
    assert "stopped: the sequential rule found the answer clear" in note.title
    assert note.link == f"/holdout-tests/{test.pk}/"
    assert holdouts_tick() == {"stopped": 0}  # once


def test_an_unclear_test_runs_on_and_stops_at_its_end_date(shoes, shoes_link, pixelpush, ada):
    test = start(shoes, share="0.5")
    seed(test, pixelpush, HoldoutArm.EXPOSED, visitors=200, conversions=10)
    seed(test, pixelpush, HoldoutArm.CONTROL, visitors=200, conversions=9)
    assert holdouts_tick() == {"stopped": 0}
    HoldoutTest.objects.filter(pk=test.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert holdouts_tick() == {"stopped": 1}
    test.refresh_from_db()
    assert (test.status, test.stop_reason) == ("stopped", "end_date")
    assert any("cannot yet tell" in line for line in test.result["explanation"])


def test_modelled_incrementality_is_fractional_credit_over_orders_touched(
    shoes, shoes_link, pixelpush, rival
):
    now = timezone.now()

    def click(publisher: Publisher, ip: str, ago: int) -> Click:
        at = now - timedelta(hours=ago)
        click_id = new_click_id(int(at.timestamp() * 1000))
        return Click.objects.create(
            id=click_id, offer=shoes, publisher=publisher, created_at=at, ip=ip, user_agent="ua"
        )

    goal = shoes.goals.get(code="lead")
    # Order 1: pixelpush alone. Order 2: rival then pixelpush (pixelpush closes).
    alone = click(pixelpush, "1.1.1.1", 5)
    click(rival, "2.2.2.2", 6)
    shared = click(pixelpush, "2.2.2.2", 5)
    for c in (alone, shared):
        Conversion.objects.create(
            offer=shoes,
            publisher=pixelpush,
            goal=goal,
            click=c,
            advertiser_id=shoes.advertiser_id,
            created_at=now,
        )
    rows = {
        r.publisher_id: r
        for r in modelled_incrementality(
            offer=shoes, start=now - timedelta(days=1), end=now + timedelta(seconds=1)
        )
    }
    assert (rows[pixelpush.pk].orders_touched, rows[pixelpush.pk].fractional_credit) == (2, 1.5)
    assert rows[pixelpush.pk].incrementality == 0.75
    assert (
        rows[rival.pk].orders_touched,
        rows[rival.pk].incrementality,
        rows[rival.pk].last_click_orders,
    ) == (1, 0.5, 0)


def test_the_api_starts_reads_and_stops_a_test_for_its_advertiser_only(
    api_as, ada, gus, pia, shoes, shoes_link
):
    ends = (timezone.now() + timedelta(days=10)).isoformat()
    body = {"offer": shoes.pk, "name": "Lift", "holdout_share": "0.1", "ends_at": ends}
    assert api_as(gus).post("/api/v1/holdout-tests/", body, format="json").status_code == 404
    assert api_as(pia).post("/api/v1/holdout-tests/", body, format="json").status_code == 403
    created = api_as(ada).post("/api/v1/holdout-tests/", body, format="json")
    assert created.status_code == 201, created.json()
    test_id = created.json()["id"]
    assert created.json()["report"]["lift"]["visitors_exposed"] == 0
    again = api_as(ada).post("/api/v1/holdout-tests/", body, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "test_running")
    bad = api_as(ada).post("/api/v1/holdout-tests/", {**body, "holdout_share": "0.9"}, format="json")
    assert bad.status_code == 400
    assert "holdout_share" in bad.json()["fields"]
    assert api_as(gus).get(f"/api/v1/holdout-tests/{test_id}/").status_code == 404
    assert api_as(pia).get("/api/v1/holdout-tests/").json()["results"] == []
    stopped = api_as(ada).post(f"/api/v1/holdout-tests/{test_id}/stop/")
    assert (stopped.status_code, stopped.json()["stop_reason"]) == (200, "manual")
    assert api_as(ada).post(f"/api/v1/holdout-tests/{test_id}/stop/").status_code == 409
    modelled = api_as(ada).get(f"/api/v1/holdout-tests/modelled/?offer={shoes.pk}")
    assert (modelled.status_code, modelled.json()) == (200, [])
    assert api_as(gus).get(f"/api/v1/holdout-tests/modelled/?offer={shoes.pk}").status_code == 404


def test_starting_and_stopping_a_test_is_in_the_audit_log(shoes, shoes_link):
    test = start(shoes)
    test.status = HoldoutTest.Status.STOPPED
    test.save()
    ct = ContentType.objects.get_for_model(HoldoutTest)
    changes = [
        e.changes for e in AuditEntry.objects.filter(content_type=ct, object_pk=str(test.pk)).order_by("id")
    ]
    assert len(changes) == 2  # created, then stopped (the backdating in start() is a bare update)
    assert "stopped" in str(changes[-1]["status"])


def test_the_pages_show_staff_every_test_and_publishers_none(
    client, nadia, pia, gus, shoes, shoes_link, pixelpush
):
    test = start(shoes, share="0.5")
    seed(test, pixelpush, HoldoutArm.EXPOSED, visitors=40, conversions=4)
    seed(test, pixelpush, HoldoutArm.CONTROL, visitors=40, conversions=2)
    sign_in(client, nadia)
    listed = client.get("/holdout-tests/")
    assert listed.status_code == 200
    assert "PixelPush lift" in listed.content.decode()
    page = client.get(f"/holdout-tests/{test.pk}/").content.decode()
    assert "The exposed visitors converted at 10.00 % (4 of 40)" in page
    assert "the held-out ones at 5.00 % (2 of 40)" in page
    sign_in(client, pia)
    assert client.get(f"/holdout-tests/{test.pk}/").status_code == 404
    sign_in(client, gus)
    assert client.get(f"/holdout-tests/{test.pk}/").status_code == 404
