"""Prices say what unit they are in, and a price that loses money says so (issue 12: custom
payouts are unambiguous about units; a payout over revenue warns in the API, the portal and the
admin)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from affiliates.models import CustomPayout, Goal, Offer
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from affiliates.tests.test_portal import _offer_post

pytestmark = pytest.mark.django_db


def _custom(client, shoes, pixelpush, **body):
    return client.post(
        "/api/v1/custom-payouts/", {"offer": shoes.pk, "publisher": pixelpush.pk, **body}, format="json"
    )


def test_a_custom_payout_for_every_goal_of_a_mixed_offer_is_refused_as_ambiguous(
    shoes, shoes_link, pixelpush, ada, api_as
) -> None:
    response = _custom(api_as(ada), shoes, pixelpush, payout="5")  # 5 % of a sale, or 5 USD a lead?
    assert response.status_code == 400
    assert response.json()["code"] == "ambiguous_unit"
    assert "goal" in response.json()["fields"]
    assert not CustomPayout.objects.exists()


def test_a_custom_payout_says_its_unit(shoes, shoes_link, pixelpush, ada, api_as) -> None:
    client = api_as(ada)
    sale, lead = shoes.goals.get(code="sale"), shoes.goals.get(code="lead")
    percent = _custom(client, shoes, pixelpush, goal=sale.pk, payout="9").json()
    amount = _custom(client, shoes, pixelpush, goal=lead.pk, payout="1.75").json()
    assert (percent["unit"], amount["unit"]) == ("percent", "amount")
    leads_only = f.OfferFactory(advertiser=shoes.advertiser)
    f.GoalFactory(
        offer=leads_only, payout_type=Goal.PayoutType.CPL, payout=Decimal("1"), revenue=Decimal("2")
    )
    offer_wide = _custom(client, leads_only, pixelpush, payout="1.25").json()
    assert offer_wide["unit"] == "amount"


def test_a_custom_payout_may_start_at_a_sale_amount(shoes, shoes_link, pixelpush, ada, api_as) -> None:
    sale = shoes.goals.get(code="sale")
    response = _custom(api_as(ada), shoes, pixelpush, goal=sale.pk, payout="10", min_sale_amount="500")
    assert response.status_code == 201, response.json()
    assert CustomPayout.objects.get().min_sale_amount == Decimal("500")
    refused = _custom(api_as(ada), shoes, pixelpush, goal=sale.pk, payout="10", min_sale_amount="-1")
    assert refused.status_code == 400


def test_a_payout_over_revenue_warns_in_the_api(shoes, shoes_link, pixelpush, ada, api_as) -> None:
    client = api_as(ada)
    lead = shoes.goals.get(code="lead")  # pays 1.50, earns 2.00
    generous = _custom(client, shoes, pixelpush, goal=lead.pk, payout="2.50").json()
    fair = _custom(client, shoes, pixelpush, goal=lead.pk, payout="1.90", countries=["DE"]).json()
    assert (generous["warnings"], fair["warnings"]) == (["payout_exceeds_revenue"], [])
    Goal.objects.filter(pk=lead.pk).update(payout=Decimal("3"))
    goals = {g["code"]: g["warnings"] for g in client.get(f"/api/v1/offers/{shoes.pk}/").json()["goals"]}
    assert goals == {"sale": [], "lead": ["payout_exceeds_revenue"]}


def test_a_payout_over_revenue_warns_the_advertiser_in_the_portal(shoes, ada) -> None:
    client = Client()
    sign_in(client, ada)
    url = f"/advertiser/offers/{shoes.pk}/"
    lead_index = [g.code for g in shoes.goals.order_by("id")].index("lead")
    response = client.post(url, _offer_post(shoes, **{f"goals-{lead_index}-payout": "2.50"}), follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "“lead” pays the publisher 2.50" in text
    assert "every conversion loses money" in text
    assert "payout &gt; revenue" in client.get("/advertiser/offers/").content.decode()


def test_staff_see_losing_prices_in_the_admin(shoes, pixelpush, nadia) -> None:
    client = Client()
    sign_in(client, nadia)
    Goal.objects.filter(offer=shoes, code="lead").update(payout=Decimal("3"))
    f.CustomPayoutFactory(
        offer=shoes, publisher=pixelpush, goal=shoes.goals.get(code="sale"), payout=Decimal("20")
    )
    assert "payout exceeds revenue" in client.get("/admin/affiliates/goal/").content.decode()
    page = client.get("/admin/affiliates/custompayout/").content.decode()
    assert "payout exceeds revenue" in page
    assert "percent" in page


def test_the_offer_settings_for_slow_conversions_and_sale_bounds_are_in_the_api(shoes, ada, api_as) -> None:
    client = api_as(ada)
    body = {"slow_conversion_action": "hold", "max_sale_amount": "2500"}
    response = client.patch(f"/api/v1/offers/{shoes.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    offer = Offer.objects.get(pk=shoes.pk)
    assert (offer.slow_conversion_action, offer.max_sale_amount) == ("hold", Decimal("2500"))


def test_a_maximum_sale_amount_must_be_positive(shoes, ada, api_as) -> None:
    response = api_as(ada).patch(f"/api/v1/offers/{shoes.pk}/", {"max_sale_amount": "0"}, format="json")
    assert response.status_code == 400
    assert "max_sale_amount" in response.json()["fields"]
