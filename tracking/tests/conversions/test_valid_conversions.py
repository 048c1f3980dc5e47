"""Only valid conversions earn: one per click on a goal that allows one, sale amounts within
sane bounds, and custom payouts whose conditions are explicit (issue 12, "Only valid traffic
earns")."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from affiliates.models import FxRate, Goal, Offer
from affiliates.tests import factories as f
from tracking.models import Conversion
from tracking.tests.conversions.conftest import postback

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(edge: Any) -> Any:
    return edge


def _post(client: Any, click: Any, **params: Any) -> Any:
    return postback(client, click_id=click.id.hex, **params)


# --- One conversion per click ------------------------------------------------------------------


def test_a_second_txn_id_on_the_same_click_is_recorded_rejected_and_earns_nothing(
    client, shoes_click
) -> None:
    first = _post(client, shoes_click, goal="lead", txn_id="A-1", status="approved").json()
    second = _post(client, shoes_click, goal="lead", txn_id="A-2", status="approved").json()
    assert first["result"] == "accepted"
    assert (second["result"], second["reason"], second["status"]) == (
        "rejected",
        "click_already_converted",
        "rejected",
    )
    assert second["conversion_id"] != first["conversion_id"]
    kept = Conversion.objects.get(pk=second["conversion_id"])
    assert (kept.txn_id, kept.status, kept.reason, kept.dedupe_key) == (
        "A-2",
        "rejected",
        "click_already_converted",
        None,
    )
    assert str(first["conversion_id"]) in kept.trace["rejection"]["detail"]
    assert kept.is_system_rejected  # no status update can make it earn
    assert Conversion.objects.get(pk=first["conversion_id"]).status == "approved"
    # Retries answer duplicate with their own original, whichever they retry.
    assert _post(client, shoes_click, goal="lead", txn_id="A-2").json()["conversion_id"] == kept.pk
    again = _post(client, shoes_click, goal="lead", txn_id="A-1").json()
    assert (again["result"], again["conversion_id"]) == ("duplicate", first["conversion_id"])
    assert Conversion.objects.count() == 2


def test_the_database_refuses_two_earning_conversions_of_one_click_and_goal(
    shoes, pixelpush, shoes_click
) -> None:
    goal = Goal.objects.get(offer=shoes, code="lead")
    key = f"{shoes_click.id.hex}:{goal.id}"
    common = {
        "offer": shoes,
        "publisher": pixelpush,
        "goal": goal,
        "click_id": shoes_click.id,
        "dedupe_key": key,
    }
    Conversion.objects.create(txn_id="X-1", **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversion.objects.create(txn_id="X-2", **common)


def test_a_goal_allowing_several_conversions_takes_each_txn_id(client, shoes, shoes_click) -> None:
    Goal.objects.filter(offer=shoes, code="lead").update(allow_multiple=True)
    results = [_post(client, shoes_click, goal="lead", txn_id=f"M-{n}").json()["result"] for n in range(3)]
    assert results == ["accepted"] * 3


def test_another_goal_of_the_same_click_still_converts(client, shoes_click) -> None:
    lead = _post(client, shoes_click, goal="lead", txn_id="L-1").json()
    sale = _post(client, shoes_click, goal="sale", amount="20", txn_id="S-1").json()
    assert (lead["result"], sale["result"]) == ("accepted", "accepted")


# --- Sale amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency"), [("10.005", ""), ("10.005", "USD"), ("100.5", "JPY"), ("1.0001", "KWD")]
)
def test_an_amount_finer_than_the_currencys_minor_unit_is_a_400(
    client, shoes_click, amount, currency
) -> None:
    response = _post(client, shoes_click, amount=amount, currency=currency or None)
    assert response.status_code == 400
    assert response.json()["reason"] == "bad_amount"
    assert Conversion.objects.count() == 0


def test_trailing_zeros_and_the_minor_unit_itself_are_fine(client, shoes_click) -> None:
    assert _post(client, shoes_click, amount="10.500", txn_id="T-1").json()["result"] == "accepted"
    assert _post(client, shoes_click, amount="1.001", currency="KWD", txn_id="T-2").status_code == 200


def test_a_sale_over_the_offers_maximum_is_refused_with_a_reason(client, shoes, shoes_click) -> None:
    Offer.objects.filter(pk=shoes.pk).update(max_sale_amount=Decimal("1000"))
    refused = _post(client, shoes_click, amount="1000.01", txn_id="BIG")
    assert refused.status_code == 400
    assert refused.json()["reason"] == "amount_over_max"
    assert "1000" in refused.json()["message"]
    assert Conversion.objects.count() == 0
    assert _post(client, shoes_click, amount="1000.00", txn_id="OK").json()["result"] == "accepted"


@pytest.mark.parametrize("amount", ["99999999999999", "100000000000000", "1e14", "5000000"])
def test_a_trillion_dollar_sale_never_becomes_a_commission(client, shoes_click, amount) -> None:
    response = _post(client, shoes_click, amount=amount, status="approved")
    assert response.status_code == 400
    assert response.json()["reason"] in {"amount_over_max", "bad_amount"}
    assert Conversion.objects.count() == 0


def test_the_network_maximum_applies_when_the_offer_sets_none(client, shoes_click, settings) -> None:
    settings.CONVERSION_MAX_SALE_AMOUNT = Decimal("50")
    assert _post(client, shoes_click, amount="50.01").json()["reason"] == "amount_over_max"
    assert _post(client, shoes_click, amount="50").json()["result"] == "accepted"


def test_a_sale_in_another_currency_is_bounded_after_conversion(client, shoes, shoes_click) -> None:
    Offer.objects.filter(pk=shoes.pk).update(max_sale_amount=Decimal("1000"))
    FxRate.objects.create(
        base="EUR", quote="USD", rate=Decimal("2"), valid_from=timezone.now() - timedelta(days=1)
    )
    assert _post(client, shoes_click, amount="600", currency="EUR").json()["reason"] == "amount_over_max"
    assert _post(client, shoes_click, amount="400", currency="EUR", txn_id="E").json()["result"] == "accepted"


# --- Custom payouts with a sale-amount condition -----------------------------------------------


def test_a_custom_payout_above_a_sale_amount_pays_its_own_rate(client, shoes, pixelpush, shoes_click) -> None:
    sale = Goal.objects.get(offer=shoes, code="sale")
    tier = f.CustomPayoutFactory(
        offer=shoes, publisher=pixelpush, goal=sale, payout=Decimal("10"), min_sale_amount=Decimal("500")
    )
    small = _post(client, shoes_click, amount="400", txn_id="S").json()
    large = _post(client, shoes_click, amount="500", txn_id="L").json()
    small_price = Conversion.objects.get(pk=small["conversion_id"]).trace["price"]
    large_price = Conversion.objects.get(pk=large["conversion_id"]).trace["price"]
    assert (small_price["source"], small_price["payout"]) == (f"goal:{sale.id}", "32.00")  # 8 %
    assert (large_price["source"], large_price["payout"]) == (f"custom_payout:{tier.id}", "50.00")  # 10 %
