"""Staff invalidate clicks from the fraud review page: preview the lines' shrink, then confirm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Goal
from affiliates.tests import factories as f
from payouts.models import Commission
from payouts.traffic import traffic_reconcile
from tests.browser.conftest import login
from tracking.ids import new_click_id
from tracking.models import Click

pytestmark = pytest.mark.django_db(transaction=True)
DAY = datetime(2024, 5, 6, 9, tzinfo=UTC)


def test_staff_preview_and_invalidate_a_sub_ids_clicks(
    page: Any, shot: Any, nadia: Any, shoes: Any, pixelpush: Any
) -> None:
    f.GoalFactory(
        offer=shoes,
        code="click",
        payout_type=Goal.PayoutType.CPC,
        payout=Decimal("0.06"),
        revenue=Decimal("0.10"),
    )
    for i in range(12):
        t = DAY + timedelta(minutes=i)
        Click.objects.create(
            id=new_click_id(int(t.timestamp() * 1000)),
            created_at=t,
            offer=shoes,
            publisher=pixelpush,
            sub1="bad-source" if i < 5 else "good",
        )
    traffic_reconcile(day_from=DAY.date(), day_to=DAY.date())
    login(page, "nadia")

    page.goto("/staff/fraud/")
    page.get_by_role("link", name="invalidate traffic").click()
    page.get_by_label("Publisher").select_option(label=pixelpush.name)
    page.get_by_label("Sub id value").fill("bad-source")
    page.get_by_label("From (UTC)").fill("2024-05-06T00:00")
    page.get_by_label("To (UTC, exclusive)").fill("2024-05-07T00:00")
    page.get_by_label("Reason").fill("advertiser dispute upheld")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert page.get_by_role("table", name="Lines that shrink").inner_text().count("12 → 7") == 1
    shot("preview")
    assert Commission.objects.get(kind="cpc").quantity == 12

    page.get_by_role("button", name="Invalidate 5 clicks").click()
    page.wait_for_load_state()
    assert "Invalidated 5 clicks" in page.content()
    shot("invalidated")
    assert Commission.objects.get(kind="cpc").quantity == 7
