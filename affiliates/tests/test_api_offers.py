"""Offers with nested goals, goals on their own, custom payouts, caps and coupons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Cap, Coupon, CustomPayout, Goal, Offer
from affiliates.tests import factories as f

LANDING = "https://shop.example.com/?c={click_id}&s={sub1}"


def _goal(code: str = "sale", **kw: Any) -> dict[str, Any]:
    return {"code": code, "name": code.title(), "payout_type": "cpa", "payout": "5", "revenue": "8", **kw}


def test_an_advertiser_creates_an_offer_for_itself_in_its_currency(globex, gus, api_as) -> None:
    response = api_as(gus).post(
        "/api/v1/offers/",
        {"advertiser": globex.pk, "name": "Gadgets", "landing_url": LANDING, "goals": [_goal()]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    offer = Offer.objects.get(pk=response.json()["id"])
    assert (offer.advertiser, offer.currency) == (globex, "EUR")


def test_updating_an_offer_with_goals_updates_adds_and_removes_them(shoes, ada, api_as) -> None:
    sale = shoes.goals.get(code="sale")
    lead = shoes.goals.get(code="lead")
    response = api_as(ada).patch(
        f"/api/v1/offers/{shoes.pk}/",
        {
            "name": "Acme Shoes - Autumn",
            "goals": [
                {**_goal("sale", payout_type="cps", payout="9", revenue="13"), "id": sale.pk},
                _goal("install", payout_type="cpi", is_default=True),
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    shoes.refresh_from_db()
    assert shoes.name == "Acme Shoes - Autumn"
    goals = {g.code: g for g in shoes.goals.all()}
    assert set(goals) == {"sale", "install"}
    assert goals["sale"].pk == sale.pk
    assert goals["sale"].payout == Decimal("9")
    assert goals["install"].is_default
    assert not goals["sale"].is_default
    assert not Goal.objects.filter(pk=lead.pk).exists()
    assert [g["code"] for g in response.json()["goals"]] == ["install", "sale"]


def test_swapping_goal_codes_in_one_update_works(shoes, ada, api_as) -> None:
    sale = shoes.goals.get(code="sale")
    lead = shoes.goals.get(code="lead")
    response = api_as(ada).patch(
        f"/api/v1/offers/{shoes.pk}/",
        {"goals": [{**_goal("lead"), "id": sale.pk}, {**_goal("sale"), "id": lead.pk}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    sale.refresh_from_db()
    assert sale.code == "lead"


def test_an_offer_update_cannot_drop_every_goal_or_move_the_offer(shoes, globex, ada, api_as) -> None:
    client = api_as(ada)
    emptied = client.patch(f"/api/v1/offers/{shoes.pk}/", {"goals": []}, format="json")
    assert emptied.status_code == 400
    assert emptied.json()["code"] == "no_goals"
    moved = client.patch(f"/api/v1/offers/{shoes.pk}/", {"advertiser": globex.pk}, format="json")
    assert moved.status_code == 200
    shoes.refresh_from_db()
    assert shoes.advertiser_id != globex.pk
    assert shoes.goals.count() == 2


def test_a_goal_of_another_offer_cannot_be_updated_through_this_one(shoes, acme, ada, api_as) -> None:
    other = f.GoalFactory(offer=f.OfferFactory(advertiser=acme))
    response = api_as(ada).patch(
        f"/api/v1/offers/{shoes.pk}/", {"goals": [{**_goal("x"), "id": other.pk}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_goal"


def test_an_offer_cannot_end_before_it_starts(shoes, ada, api_as) -> None:
    response = api_as(ada).patch(
        f"/api/v1/offers/{shoes.pk}/",
        {"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    shoes.refresh_from_db()
    assert shoes.ends_at is None


def test_a_publisher_sees_its_own_price_and_no_revenue(shoes, shoes_link, pixelpush, pia, api_as) -> None:
    sale = shoes.goals.get(code="sale")
    f.CustomPayoutFactory(publisher=pixelpush, offer=shoes, goal=sale, payout=Decimal("10"))
    body = api_as(pia).get(f"/api/v1/offers/{shoes.pk}/").json()
    goals = {g["code"]: g for g in body["goals"]}
    assert goals["sale"]["payout"] == "10.000000"
    assert goals["lead"]["payout"] == "1.500000"
    assert "revenue" not in goals["sale"]
    assert "landing_url" not in body
    assert body["access_status"] == "approved"
    assert body["tracking_url"].endswith(f"/c/{shoes_link.token}")


def test_a_publisher_sees_public_approval_and_invited_private_offers(acme, pixelpush, pia, api_as) -> None:
    public = f.OfferFactory(advertiser=acme, visibility="public")
    approval = f.OfferFactory(advertiser=acme, visibility="approval")
    invited = f.OfferFactory(advertiser=acme, visibility="private")
    hidden = f.OfferFactory(advertiser=acme, visibility="private")
    f.OfferAccessFactory(offer=invited, publisher=pixelpush, status="approved")
    ids = {o["id"] for o in api_as(pia).get("/api/v1/offers/").json()["results"]}
    assert {public.pk, approval.pk, invited.pk} <= ids
    assert hidden.pk not in ids


def test_a_publisher_cannot_edit_an_offer_it_sees(shoes, pia, api_as) -> None:
    response = api_as(pia).patch(f"/api/v1/offers/{shoes.pk}/", {"name": "mine"}, format="json")
    assert response.status_code == 403


def test_offers_filter_by_payout_type_country_and_search(acme, nadia, api_as) -> None:
    app = f.OfferFactory(advertiser=acme, name="Photo app", target_countries=["US"])
    f.GoalFactory(offer=app, payout_type="cpi", is_default=True)
    shop = f.OfferFactory(advertiser=acme, name="Shoe shop", target_countries=["DE"])
    f.GoalFactory(offer=shop, payout_type="cps", payout=Decimal("5"), revenue=Decimal("7"), is_default=True)
    anywhere = f.OfferFactory(advertiser=acme, name="Anywhere")
    client = api_as(nadia)

    def names(**params: str) -> set[str]:
        return {o["name"] for o in client.get("/api/v1/offers/", params).json()["results"]}

    assert names(payout_type="cpi") == {"Photo app"}
    assert names(country="us") == {"Photo app", "Anywhere"}
    assert names(search="photo") == {"Photo app"}
    assert anywhere.pk


def test_a_new_default_goal_takes_over_and_the_old_one_steps_down(shoes, ada, api_as) -> None:
    response = api_as(ada).post(
        "/api/v1/goals/", {"offer": shoes.pk, **_goal("install", is_default=True)}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert list(shoes.goals.filter(is_default=True).values_list("code", flat=True)) == ["install"]


def test_deleting_the_default_goal_hands_the_default_on(shoes, ada, api_as) -> None:
    sale = shoes.goals.get(code="sale")
    assert api_as(ada).delete(f"/api/v1/goals/{sale.pk}/").status_code == 204
    assert shoes.goals.get().code == "lead"
    assert shoes.goals.get().is_default


def test_the_last_goal_cannot_be_deleted(shoes, ada, api_as) -> None:
    shoes.goals.filter(code="lead").delete()
    sale = shoes.goals.get()
    response = api_as(ada).delete(f"/api/v1/goals/{sale.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "last_goal"


def test_a_goal_does_not_move_between_offers(shoes, acme, ada, api_as) -> None:
    other = f.OfferFactory(advertiser=acme)
    sale = shoes.goals.get(code="sale")
    api_as(ada).patch(f"/api/v1/goals/{sale.pk}/", {"offer": other.pk, "name": "Purchase"}, format="json")
    sale.refresh_from_db()
    assert (sale.offer_id, sale.name) == (shoes.pk, "Purchase")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"payout": "120"}, "payout"),
        ({"payout": "-1"}, "payout"),
        ({"revenue": "100.5"}, "revenue"),
    ],
)
def test_a_custom_payout_out_of_range_is_refused(
    shoes, shoes_link, pixelpush, ada, api_as, payload, field
) -> None:
    sale = shoes.goals.get(code="sale")
    body = {"offer": shoes.pk, "goal": sale.pk, "publisher": pixelpush.pk, "payout": "5", **payload}
    response = api_as(ada).post("/api/v1/custom-payouts/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "out_of_range"
    assert field in response.json()["fields"]
    assert not CustomPayout.objects.exists()


def test_a_custom_payout_goal_must_belong_to_its_offer(
    shoes, shoes_link, acme, pixelpush, ada, api_as
) -> None:
    other_goal = f.GoalFactory(offer=f.OfferFactory(advertiser=acme))
    body = {"offer": shoes.pk, "goal": other_goal.pk, "publisher": pixelpush.pk, "payout": "5"}
    response = api_as(ada).post("/api/v1/custom-payouts/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "goal_mismatch"


def test_a_publisher_sees_its_custom_payouts_without_revenue(shoes, pixelpush, pia, api_as) -> None:
    f.CustomPayoutFactory(publisher=pixelpush, offer=shoes, payout=Decimal("9"), revenue=Decimal("13"))
    rows = api_as(pia).get("/api/v1/custom-payouts/").json()["results"]
    assert [r["payout"] for r in rows] == ["9.000000"]
    assert "revenue" not in rows[0]


def test_an_advertiser_caps_its_offer_and_duplicates_are_refused(shoes, ada, api_as) -> None:
    client = api_as(ada)
    body = {"offer": shoes.pk, "metric": "clicks", "period": "day", "scope": "offer", "limit": "1000"}
    assert client.post("/api/v1/caps/", body, format="json").status_code == 201
    again = client.post("/api/v1/caps/", body, format="json")
    assert again.status_code == 400
    assert Cap.objects.filter(offer=shoes).count() == 1


def test_a_click_cap_is_a_whole_number(shoes, ada, api_as) -> None:
    body = {"offer": shoes.pk, "metric": "clicks", "period": "day", "limit": "10.5"}
    response = api_as(ada).post("/api/v1/caps/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "not_integer"


def test_a_publisher_sees_shared_caps_of_offers_it_runs_and_its_own(
    shoes, shoes_link, pixelpush, rival, pia, api_as
) -> None:
    shared = f.CapFactory(offer=shoes)
    own = f.CapFactory(offer=shoes, scope="each_publisher", publisher=pixelpush)
    others = f.CapFactory(offer=shoes, scope="each_publisher", publisher=rival)
    ids = {c["id"] for c in api_as(pia).get("/api/v1/caps/").json()["results"]}
    assert ids == {shared.pk, own.pk}
    assert others.pk not in ids


@pytest.mark.parametrize("code", ["a", "has space", "semi;colon", "x" * 65])
def test_a_malformed_coupon_code_is_refused(shoes, pixelpush, shoes_link, ada, api_as, code) -> None:
    body = {"code": code, "offer": shoes.pk, "publisher": pixelpush.pk}
    response = api_as(ada).post("/api/v1/coupons/", body, format="json")
    assert response.status_code == 400
    assert "code" in response.json()["fields"]


def test_a_coupon_code_is_unique_across_the_network(shoes, pixelpush, shoes_link, ada, api_as) -> None:
    f.CouponFactory(code="SUMMER10")
    body = {"code": "SUMMER10", "offer": shoes.pk, "publisher": pixelpush.pk}
    response = api_as(ada).post("/api/v1/coupons/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unique"
    assert Coupon.objects.filter(code="SUMMER10").count() == 1


def test_an_advertiser_deactivates_a_coupon(shoes, pixelpush, ada, api_as) -> None:
    coupon = f.CouponFactory(offer=shoes, publisher=pixelpush)
    response = api_as(ada).patch(f"/api/v1/coupons/{coupon.pk}/", {"active": False}, format="json")
    assert response.status_code == 200
    coupon.refresh_from_db()
    assert coupon.active is False
