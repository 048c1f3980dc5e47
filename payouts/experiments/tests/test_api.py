"""The A/B test and budget-shift API: advertisers on their offers, staff on all, publishers not."""

from __future__ import annotations

import pytest
from django.utils import timezone

from payouts.experiments.tests.conftest import day_row
from tracking.models import AbTest, AbVariant

pytestmark = pytest.mark.django_db
BODY = {
    "name": "Hero image",
    "hypothesis": "A bigger hero image converts better.",
    "preset": "weekly",
    "min_sample": 100,
    "max_sample": 2000,
    "variants": [
        {"label": "A", "landing_url": ""},
        {"label": "B", "landing_url": "https://shoes.example.com/b?cid={click_id}"},
    ],
}


def test_an_advertiser_creates_starts_looks_promotes_and_undoes_through_the_api(api_as, ada, shoes) -> None:
    api = api_as(ada)
    created = api.post("/api/v1/ab-tests/", {**BODY, "offer": shoes.pk}, format="json")
    assert created.status_code == 201, created.content
    test = created.json()
    assert (test["status"], test["max_looks"], test["keep_winner_days"]) == ("draft", 7, 30)
    started = api.post(f"/api/v1/ab-tests/{test['id']}/start/")
    assert started.json()["status"] == "running"
    a, b = AbVariant.objects.order_by("position")
    day_row(a, timezone.now().date(), 500, 10)
    day_row(b, timezone.now().date(), 500, 60)
    looked = api.post(f"/api/v1/ab-tests/{test['id']}/look/").json()
    assert looked["last_look"]["verdict"] == "winner"
    decision = api.post(f"/api/v1/ab-tests/{test['id']}/promote/", {}, format="json").json()
    assert (decision["kind"], decision["winner"]) == ("promote", b.pk)
    undo = api.post(f"/api/v1/ab-tests/{test['id']}/decisions/{decision['id']}/undo/")
    assert undo.json()["undone_at"] is not None
    again = api.post(f"/api/v1/ab-tests/{test['id']}/decisions/{decision['id']}/undo/")
    assert (again.status_code, again.json()["code"]) == (409, "already_undone")


def test_bad_input_gets_a_machine_readable_400(api_as, ada, shoes) -> None:
    response = api_as(ada).post(
        "/api/v1/ab-tests/", {**BODY, "offer": shoes.pk, "variants": []}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "variant_count"


def test_publishers_are_refused_and_other_advertisers_see_nothing(api_as, pia, gus, ada, shoes) -> None:
    test_id = api_as(ada).post("/api/v1/ab-tests/", {**BODY, "offer": shoes.pk}, format="json").json()["id"]
    assert api_as(pia).get("/api/v1/ab-tests/").status_code == 403
    assert api_as(gus).get(f"/api/v1/ab-tests/{test_id}/").status_code == 404
    foreign = api_as(gus).post("/api/v1/ab-tests/", {**BODY, "offer": shoes.pk}, format="json")
    assert foreign.status_code == 400
    assert AbTest.objects.count() == 1


def test_budget_shift_settings_round_trip_and_proposals_list(api_as, ada) -> None:
    api = api_as(ada)
    assert api.get("/api/v1/budget-shift-settings/").json() == {"auto_apply": False, "share": "0.25"}
    saved = api.put("/api/v1/budget-shift-settings/", {"auto_apply": True, "share": "0.30"}, format="json")
    assert saved.json() == {"auto_apply": True, "share": "0.30"}
    bad = api.put("/api/v1/budget-shift-settings/", {"auto_apply": True, "share": "0.90"}, format="json")
    assert bad.status_code == 400
    assert api.post("/api/v1/budget-shifts/propose/").status_code == 201
    assert api.get("/api/v1/budget-shifts/").json()["results"] == []


def test_the_schema_lists_the_endpoints(api_as, ada) -> None:
    schema = api_as(ada).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/ab-tests/", "/api/v1/ab-tests/{id}/promote/", "/api/v1/budget-shifts/{id}/undo/"):
        assert path in schema["paths"]


def test_a_settings_put_without_its_fields_is_a_400_not_a_500(api_as, ada) -> None:
    # The fuzzer's find: a PUT with neither field reached the service and raised a TypeError.
    answer = api_as(ada).put("/api/v1/budget-shift-settings/", {}, format="json")
    assert answer.status_code == 400
    assert set(answer.json()["fields"]) == {"auto_apply", "share"}
