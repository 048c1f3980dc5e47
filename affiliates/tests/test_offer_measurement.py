"""An offer's view-through and assist settings through the API."""

from __future__ import annotations

from typing import Any

import pytest

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
