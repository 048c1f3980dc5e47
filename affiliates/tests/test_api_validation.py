"""Bad input answers 400 with field errors and a machine-readable code; nothing gives a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from affiliates.models import Offer

ENDPOINTS = [
    "advertisers",
    "publishers",
    "offers",
    "goals",
    "custom-payouts",
    "caps",
    "coupons",
    "accesses",
    "links",
]
GOAL = {"code": "sale", "name": "Sale", "payout_type": "cpa", "payout": "5", "revenue": "8"}


def _offer(acme: Any, **over: Any) -> dict[str, Any]:
    return {
        "advertiser": acme.pk,
        "name": "O",
        "landing_url": "https://a.example.com/",
        "goals": [GOAL],
        **over,
    }


@pytest.mark.parametrize(
    ("over", "field", "code"),
    [
        ({"landing_url": "javascript:alert(1)"}, "landing_url", "bad_url"),
        ({"landing_url": "https://a.example.com/?x={evil}"}, "landing_url", "unknown_macro"),
        ({"landing_url": "ftp://a.example.com/"}, "landing_url", "bad_url"),
        ({"preview_url": "https://a.example.com/{click_id}"}, "preview_url", "bad_url"),
        ({"currency": "XXY"}, "currency", "unknown_currency"),
        ({"target_countries": ["USA"]}, "target_countries", "bad_country"),
        ({"target_countries": "US"}, "target_countries", "bad_country"),
        ({"target_devices": ["toaster"]}, "target_devices", "bad_device"),
        ({"target_os": ["beos"]}, "target_os", "bad_os"),
        ({"allowed_domains": ["Not A Host"]}, "allowed_domains", "bad_domain"),
        ({"status": "sleeping"}, "status", "invalid_choice"),
        ({"attribution_window_days": -1}, "attribution_window_days", "min_value"),
        ({"name": ""}, "name", "blank"),
        ({"goals": [{**GOAL, "payout_type": "cps", "payout": "180"}]}, "goals", "out_of_range"),
        ({"goals": [{**GOAL, "payout": "abc"}]}, "goals", "invalid"),
        ({"goals": [{**GOAL, "payout": "NaN"}]}, "goals", "invalid"),
        ({"goals": [{**GOAL, "payout_type": "cpx"}]}, "goals", "invalid_choice"),
        ({"goals": "sale"}, "goals", "not_a_list"),
    ],
)
def test_a_bad_offer_field_is_a_400_naming_the_field_and_code(acme, nadia, api_as, over, field, code) -> None:
    response = api_as(nadia).post("/api/v1/offers/", _offer(acme, **over), format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == code
    assert field in body["fields"]
    assert not Offer.objects.exists()


@pytest.mark.parametrize(
    ("goals", "code"),
    [
        ([], "no_goals"),
        ([GOAL, GOAL], "duplicate_goal_code"),
        ([{**GOAL, "is_default": True}, {**GOAL, "code": "b", "is_default": True}], "many_default_goals"),
    ],
)
def test_goal_list_rules_are_400_with_a_code(acme, nadia, api_as, goals, code) -> None:
    response = api_as(nadia).post("/api/v1/offers/", _offer(acme, goals=goals), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("raw", ["{not json", "[1, 2", '"just a string"', "null", "[]", "\x00\xff"])
def test_malformed_json_is_a_400_never_a_500(nadia, api_as, endpoint, raw) -> None:
    response = api_as(nadia).post(f"/api/v1/{endpoint}/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "param",
    [
        "page=abc",
        "page=999999",
        "page_size=-5",
        "ordering=nonexistent",
        "offer=xyz",
        "created_after=yesterday",
        "status=%00",
    ],
)
def test_malformed_query_strings_never_give_a_500(world, api_as, endpoint, param) -> None:
    response = api_as(world.nadia).get(f"/api/v1/{endpoint}/?{param}")
    assert response.status_code in (200, 400, 404)
    assert response.json() is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
offer_fields = [
    "name",
    "landing_url",
    "currency",
    "goals",
    "target_countries",
    "starts_at",
    "ends_at",
    "status",
    "attribution_window_days",
    "allowed_domains",
    "fallback_offer",
    "advertiser",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(offer_fields), json_values, max_size=6))
def test_random_json_to_offers_never_gives_a_500(world, api_as, data) -> None:
    client = api_as(world.nadia)
    created = client.post("/api/v1/offers/", json.dumps(data), content_type="application/json")
    assert created.status_code in (201, 400), created.content
    patched = client.patch(
        f"/api/v1/offers/{world.shoes.pk}/", json.dumps(data), content_type="application/json"
    )
    assert patched.status_code in (200, 400, 409), patched.content


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    endpoint=st.sampled_from(
        ["publishers", "goals", "custom-payouts", "caps", "coupons", "accesses", "links"]
    ),
    data=st.dictionaries(
        st.sampled_from(
            [
                "offer",
                "publisher",
                "goal",
                "code",
                "payout",
                "revenue",
                "limit",
                "metric",
                "countries",
                "payout_details",
                "email",
                "name",
                "minimum_payout",
                "payout_type",
            ]
        ),
        json_values,
        max_size=6,
    ),
)
def test_random_json_to_every_create_endpoint_never_gives_a_500(world, api_as, endpoint, data) -> None:
    response = api_as(world.nadia).post(
        f"/api/v1/{endpoint}/", json.dumps(data), content_type="application/json"
    )
    assert response.status_code in (201, 400, 409), response.content
    if response.status_code == 400:
        assert response.json()["code"]
