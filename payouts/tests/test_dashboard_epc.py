"""The dashboard's EPC is the reports' EPC (payouts.reports.metrics.epc), over the same clicks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from affiliates.models import Goal
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from payouts.portal.dashboard_selectors import traffic_kpis
from payouts.reports.selectors import report_rows
from payouts.reports.tests.traffic import cpc_line
from tracking.ids import new_click_id
from tracking.models import Click

pytestmark = pytest.mark.django_db


def _click(offer: Any, publisher: Any, at: Any) -> Click:
    return Click.objects.create(id=new_click_id(), offer=offer, publisher=publisher, created_at=at)


def test_dashboard_and_report_compute_epc_the_same_way(globex, pixelpush) -> None:
    boots = f.OfferFactory(advertiser=globex, name="Globex Boots", currency="EUR")
    f.GoalFactory(
        offer=boots,
        code="click",
        payout_type=Goal.PayoutType.CPC,
        payout=Decimal("0.05"),
        revenue=Decimal("0.08"),
    )
    f.OfferAccessFactory(offer=boots, publisher=pixelpush, status="approved")
    # This hour's start: the clicks, and the commission written now, fall in the same UTC day
    # (an hour ago was yesterday just after midnight).
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for _ in range(8):
        _click(boots, pixelpush, now)
    cpc_line(offer=boots, publisher=pixelpush, goal=boots.goals.get(code="click"), day=now, clicks=8)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    kpis = traffic_kpis(start=start, end=start + timedelta(days=1), publisher_id=pixelpush.pk)
    publisher = Actor(role=Role.PUBLISHER, user_id=3, publisher_id=pixelpush.pk)
    report = report_rows(actor=publisher, start=start.date(), end=start.date(), source="raw")
    assert report.totals[0]["epc"] is not None
    assert kpis.epc == {report.totals[0]["currency"]: report.totals[0]["epc"]}
