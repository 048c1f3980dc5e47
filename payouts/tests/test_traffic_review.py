"""Staff invalidate clicks and impressions after the fact, from the fraud pages or the API: a preview that
writes nothing, then the invalidation, whose decrease the ledger carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from affiliates.models import Goal, Offer, Publisher
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.models import Commission, CommissionShare, Transaction
from payouts.traffic import traffic_reconcile
from tracking.ids import new_click_id
from tracking.models import Click, Impression
from tracking.models.clicks import ClickFlag

pytestmark = pytest.mark.django_db
DAY = datetime(2024, 5, 6, 9, tzinfo=UTC)


def _clicks(offer: Offer, publisher: Publisher, n: int, sub1: str, start: datetime = DAY) -> list[str]:
    out = []
    for i in range(n):
        t = start + timedelta(minutes=i)
        out.append(
            Click.objects.create(
                id=new_click_id(int(t.timestamp() * 1000)),
                created_at=t,
                offer=offer,
                publisher=publisher,
                sub1=sub1,
            ).pk
        )
    return out


@pytest.fixture
def cpc(shoes: Offer, pixelpush: Publisher) -> dict[str, list[str]]:
    f.GoalFactory(
        offer=shoes,
        code="click",
        payout_type=Goal.PayoutType.CPC,
        payout=Decimal("0.06"),
        revenue=Decimal("0.10"),
    )
    clicks = {
        "fb": _clicks(shoes, pixelpush, 6, "fb"),
        "tt": _clicks(shoes, pixelpush, 4, "tt", DAY + timedelta(hours=2)),
    }
    traffic_reconcile(day_from=DAY.date(), day_to=DAY.date())
    return clicks


def _line() -> Commission:
    return Commission.objects.get(kind="cpc")


def test_the_api_previews_without_writing_then_invalidates_with_the_ledger_correction(
    api_as: Any, nadia: Any, cpc: dict[str, list[str]]
) -> None:
    body = {"click_ids": cpc["fb"][:2], "reason": "proxy network"}

    preview = api_as(nadia).post("/api/v1/traffic/invalidate/", body, format="json")

    assert preview.status_code == 200, preview.content
    data = preview.json()
    assert (data["clicks"], data["paid_clicks"], data["applied"]) == (2, 2, False)
    (line,) = data["lines"]
    assert (line["quantity_before"], line["quantity_after"]) == (10, 8)
    assert (line["revenue_before"], line["revenue_after"]) == ("1.000000", "0.800000")
    assert _line().quantity == 10  # nothing written
    assert not any(
        ClickFlag.INVALIDATED.value in fl for fl in Click.objects.values_list("fraud_flags", flat=True)
    )
    assert not Transaction.objects.filter(kind=Transaction.Kind.COMMISSION_DECREASE).exists()

    done = api_as(nadia).post("/api/v1/traffic/invalidate/", {**body, "confirm": True}, format="json")

    assert done.status_code == 200
    assert done.json()["applied"] is True
    assert (_line().quantity, _line().revenue, _line().payout) == (8, Decimal("0.80"), Decimal("0.48"))
    decrease = Transaction.objects.get(kind=Transaction.Kind.COMMISSION_DECREASE)
    assert "proxy network" in decrease.memo
    assert sum(decrease.entries.values_list("amount", flat=True)) == 0


def test_the_api_picks_a_publishers_sub_id_in_a_time_range(
    api_as: Any, nadia: Any, pixelpush: Publisher, cpc: dict[str, list[str]]
) -> None:
    body = {
        "publisher": pixelpush.pk,
        "sub": "sub1",
        "value": "tt",
        "start": (DAY + timedelta(hours=1)).isoformat(),
        "end": (DAY + timedelta(hours=3)).isoformat(),
        "reason": "advertiser dispute upheld",
        "confirm": True,
    }
    answer = api_as(nadia).post("/api/v1/traffic/invalidate/", body, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["clicks"] == 4
    assert _line().quantity == 6
    again = api_as(nadia).post("/api/v1/traffic/invalidate/", body, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "nothing_selected")


def test_only_staff_invalidate_and_a_selection_is_required(
    api_as: Any, nadia: Any, pia: Any, cpc: dict[str, list[str]]
) -> None:
    refused = api_as(pia).post(
        "/api/v1/traffic/invalidate/", {"click_ids": cpc["fb"], "reason": "x"}, format="json"
    )
    assert refused.status_code == 403
    empty = api_as(nadia).post("/api/v1/traffic/invalidate/", {"reason": "x"}, format="json")
    assert (empty.status_code, empty.json()["code"]) == (400, "selection_required")
    assert _line().quantity == 10


def test_the_staff_page_shows_how_much_the_lines_shrink_before_confirming(
    client: Client, nadia: Any, cpc: dict[str, list[str]]
) -> None:
    sign_in(client, nadia)
    url = "/staff/fraud/invalid-traffic/"
    form = {"click_ids": " ".join(map(str, cpc["fb"])), "sub": "sub1", "reason": "bot farm"}

    preview = client.post(url, {**form, "confirm": "0"})

    assert preview.status_code == 200
    html = preview.content.decode()
    assert "10 → 4" in html
    assert "Invalidate 6 clicks" in html
    assert _line().quantity == 10

    done = client.post(url, {**form, "confirm": "1"}, follow=True)

    assert "Invalidated 6 clicks; 1 line(s) shrunk" in done.content.decode()
    assert _line().quantity == 4
    fraud_page = client.get("/staff/fraud/").content.decode()
    assert url in fraud_page


def _impressions(offer: Offer, publisher: Publisher, n: int, sub1: str) -> list[str]:
    return [
        Impression.objects.create(
            created_at=DAY + timedelta(seconds=i), offer=offer, publisher=publisher, sub1=sub1
        ).pk
        for i in range(n)
    ]


@pytest.fixture
def cpm(shoes: Offer, pixelpush: Publisher) -> dict[str, list[str]]:
    """A CPM goal at 2.00 revenue / 1.50 payout per 1000, and 2000 + 1000 impressions."""
    f.GoalFactory(
        offer=shoes,
        code="view",
        payout_type=Goal.PayoutType.CPM,
        payout=Decimal("1.50"),
        revenue=Decimal("2.00"),
    )
    shown = {
        "web": _impressions(shoes, pixelpush, 2000, "web"),
        "app": _impressions(shoes, pixelpush, 1000, "app"),
    }
    traffic_reconcile(day_from=DAY.date(), day_to=DAY.date())
    return shown


def _cpm_line() -> Commission:
    return Commission.objects.get(kind="cpm")


def test_the_api_invalidates_impressions_and_the_cpm_line_shrinks_with_the_ledger_correction(
    api_as: Any, nadia: Any, cpm: dict[str, list[str]]
) -> None:
    body = {"impression_ids": [str(i) for i in cpm["app"][:500]], "reason": "stacked ad slots"}

    preview = api_as(nadia).post("/api/v1/traffic/invalidate/", body, format="json")

    assert preview.status_code == 200, preview.content
    data = preview.json()
    assert (data["clicks"], data["impressions"], data["paid_impressions"]) == (0, 500, 500)
    (line,) = data["lines"]
    assert (line["kind"], line["quantity_before"], line["quantity_after"]) == ("cpm", 3000, 2500)
    assert (line["revenue_before"], line["revenue_after"]) == ("6.000000", "5.000000")
    assert _cpm_line().quantity == 3000  # a preview writes nothing

    done = api_as(nadia).post("/api/v1/traffic/invalidate/", {**body, "confirm": True}, format="json")

    assert done.status_code == 200
    line_after = _cpm_line()
    assert (line_after.quantity, line_after.revenue, line_after.payout) == (
        2500,
        Decimal("5.00"),
        Decimal("3.75"),
    )
    decrease = Transaction.objects.get(kind=Transaction.Kind.COMMISSION_DECREASE)
    assert "stacked ad slots" in decrease.memo
    assert sum(decrease.entries.values_list("amount", flat=True)) == 0
    shares = dict(CommissionShare.objects.filter(commission=line_after).values_list("sub1", "quantity"))
    assert shares == {"web": 2000, "app": 500}
    again = api_as(nadia).post("/api/v1/traffic/invalidate/", {**body, "confirm": True}, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "nothing_selected")


def test_the_api_picks_a_publishers_impressions_by_sub_id_and_range(
    api_as: Any, nadia: Any, pixelpush: Publisher, cpm: dict[str, list[str]]
) -> None:
    body = {
        "publisher": pixelpush.pk,
        "traffic": "impressions",
        "value": "app",
        "start": DAY.isoformat(),
        "end": (DAY + timedelta(hours=1)).isoformat(),
        "reason": "advertiser dispute upheld",
        "confirm": True,
    }
    answer = api_as(nadia).post("/api/v1/traffic/invalidate/", body, format="json")

    assert answer.status_code == 200, answer.content
    assert (answer.json()["clicks"], answer.json()["impressions"]) == (0, 1000)
    assert _cpm_line().quantity == 2000
    bad = api_as(nadia).post("/api/v1/traffic/invalidate/", {**body, "traffic": "views"}, format="json")
    assert bad.status_code == 400
    assert "traffic" in bad.json()["fields"]


def test_the_staff_page_invalidates_clicks_and_impressions_together(
    client: Client, nadia: Any, cpc: dict[str, list[str]], cpm: dict[str, list[str]]
) -> None:
    sign_in(client, nadia)
    url = "/staff/fraud/invalid-traffic/"
    form = {
        "click_ids": " ".join(map(str, cpc["tt"])),
        "impression_ids": "\n".join(map(str, cpm["app"])),
        "sub": "sub1",
        "reason": "bot farm",
    }

    preview = client.post(url, {**form, "confirm": "0"})

    html = preview.content.decode()
    assert "10 → 6" in html
    assert "3000 → 2000" in html
    assert "Invalidate 4 clicks and 1000 impressions" in html
    assert (_line().quantity, _cpm_line().quantity) == (10, 3000)

    done = client.post(url, {**form, "confirm": "1"}, follow=True)

    assert "Invalidated 4 clicks and 1000 impressions; 2 line(s) shrunk" in done.content.decode()
    assert (_line().quantity, _cpm_line().quantity) == (6, 2000)
