"""Reports say how fresh they are and define their ratios honestly: "as of", events after the
rollups' watermark, CTR per offer, ROAS without a sale, one EPC for dashboard and report."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from affiliates.roles import Actor, Role
from payouts.reports.selectors import report_rows
from payouts.reports.services import rollups_refresh
from payouts.reports.tests.traffic import cpc_line
from tracking.ids import new_click_id
from tracking.models import Click, Impression

pytestmark = pytest.mark.django_db
STAFF = Actor(role=Role.STAFF, user_id=1)


def _click(offer: Any, publisher: Any, at: Any) -> Click:
    return Click.objects.create(id=new_click_id(), offer=offer, publisher=publisher, created_at=at)


def test_an_event_after_the_watermark_is_in_the_next_answer_and_as_of_says_so(shoes, pixelpush) -> None:
    now = timezone.now()
    _click(shoes, pixelpush, now - timedelta(hours=2))
    rollups_refresh(now=now - timedelta(minutes=30))  # the watermark: about half an hour ago
    _click(shoes, pixelpush, now - timedelta(seconds=5))  # after it: not rolled up yet
    report = report_rows(
        actor=STAFF, start=now.date() - timedelta(days=1), end=now.date(), group_by=["offer"]
    )
    assert report.source in ("daily", "hourly")
    assert report.totals[0]["gross_clicks"] == 2
    assert abs(report.as_of - timezone.now()) < timedelta(seconds=30)
    raw = report_rows(
        actor=STAFF, start=now.date() - timedelta(days=1), end=now.date(), group_by=["offer"], source="raw"
    )
    assert report.rows == raw.rows


def test_a_report_of_the_past_is_as_of_its_end(shoes, pixelpush) -> None:
    day = timezone.now().date() - timedelta(days=10)
    report = report_rows(actor=STAFF, start=day, end=day)
    assert report.as_of == report.query.utc_end


def test_the_api_answer_carries_as_of(api_as, nadia) -> None:
    body = api_as(nadia).get("/api/v1/reports/").json()
    assert "as_of" in body
    assert body["as_of"].endswith(("Z", "+00:00"))


def test_ctr_is_per_offer_and_roas_is_na_without_a_sale(shoes, boots, pixelpush) -> None:
    now = timezone.now() - timedelta(hours=1)
    for _ in range(4):
        _click(shoes, pixelpush, now)
        Impression.objects.create(offer=shoes, publisher=pixelpush, created_at=now)
    for _ in range(6):
        _click(boots, pixelpush, now)  # boots records no impressions
    cpc_line(offer=boots, publisher=pixelpush, goal=boots.goals.get(code="click"), day=now, clicks=6)
    today = now.date()
    by_offer = report_rows(actor=STAFF, start=today, end=today, group_by=["offer"], source="raw")
    ctr = {row["offer"]: row["ctr"] for row in by_offer.rows}
    assert ctr == {shoes.pk: Decimal("100.000000"), boots.pk: None}
    assert all(t["ctr"] is None for t in by_offer.totals)  # a total is not one offer's
    one = report_rows(actor=STAFF, start=today, end=today, filters={"offer": [shoes.pk]}, source="raw")
    assert one.totals[0]["ctr"] == Decimal("100.000000")
    boots_row = next(r for r in by_offer.rows if r["offer"] == boots.pk)
    assert boots_row["revenue"] > 0
    assert boots_row["roas"] is None  # CPC revenue, no sale amount: n/a, not 0.00x
