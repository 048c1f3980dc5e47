"""An offer's view-through and assist settings through the API and the advertiser's offer form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from affiliates.tests.test_portal import _offer_post, client_for

pytestmark = pytest.mark.django_db


def test_an_advertiser_turns_on_view_through_and_assists(api_as, ada, shoes) -> None:
    body = {
        "view_through_enabled": True,
        "view_through_window_hours": 12,
        "view_through_goal": "lead",
        "assist_enabled": True,
        "assist_payout": "1.00",
        "assist_revenue": "1.50",
        "assist_daily_cap": 20,
    }
    response = api_as(ada).patch(f"/api/v1/offers/{shoes.id}/", body, format="json")
    assert response.status_code == 200, response.content
    shoes.refresh_from_db()
    assert (shoes.view_through_goal, shoes.assist_daily_cap, str(shoes.assist_payout)) == (
        "lead",
        20,
        "1.000000",
    )


def test_a_view_through_goal_must_be_one_of_the_offers_goals(api_as: Any, ada: Any, shoes: Any) -> None:
    response = api_as(ada).patch(f"/api/v1/offers/{shoes.id}/", {"view_through_goal": "nope"}, format="json")
    assert response.status_code == 400
    assert "view_through_goal" in response.json()["fields"]


def test_a_publisher_sees_the_assist_payout_but_not_the_assist_revenue(
    api_as, pia, shoes, shoes_link
) -> None:
    offer = api_as(pia).get(f"/api/v1/offers/{shoes.id}/").json()
    assert "assist_payout" in offer
    assert "assist_revenue" not in offer


def test_the_advertiser_sets_view_through_and_assists_in_the_offer_form(ada, shoes) -> None:
    client, url = client_for(ada), f"/advertiser/offers/{shoes.pk}/"
    assert "Pay assist commissions" in client.get(url).content.decode()
    on = {"view_through_enabled": "on", "view_through_window_hours": "12", "assist_enabled": "on"}
    refused = client.post(url, _offer_post(shoes, **on, assist_payout="0", assist_revenue="0"))
    assert refused.status_code == 200
    assert "An assist earns or costs nothing" in refused.context["form"].errors["assist_payout"][0]
    unknown = client.post(url, _offer_post(shoes, **on, assist_payout="1", view_through_goal="nope"))
    assert "is not the code of one of the offer" in unknown.content.decode()
    too_long = client.post(
        url, _offer_post(shoes, **{**on, "assist_payout": "1", "view_through_window_hours": "721"})
    )
    assert "At most the attribution window (720 hours)" in too_long.content.decode()
    saved = client.post(
        url,
        _offer_post(
            shoes,
            **on,
            view_through_goal="lead",
            assist_payout="1.00",
            assist_revenue="1.50",
            assist_daily_cap="20",
        ),
    )
    assert saved.status_code == 302
    shoes.refresh_from_db()
    assert (shoes.view_through_enabled, shoes.view_through_window_hours, shoes.view_through_goal) == (
        True,
        12,
        "lead",
    )
    assert (shoes.assist_enabled, shoes.assist_payout, shoes.assist_daily_cap) == (True, Decimal("1"), 20)
    # A post without these fields (an older form) leaves them as they are.
    assert client.post(url, _offer_post(shoes)).status_code == 302
    shoes.refresh_from_db()
    assert (shoes.view_through_window_hours, shoes.assist_payout) == (12, Decimal("1"))


def test_the_api_refuses_assists_that_pay_nothing(api_as, ada, shoes) -> None:
    response = api_as(ada).patch(f"/api/v1/offers/{shoes.id}/", {"assist_enabled": True}, format="json")
    assert response.status_code == 400
    assert "assist_payout" in response.json()["fields"]
