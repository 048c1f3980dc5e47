"""/api/v1/smart-links/: role-scoped creation, editing of weights and paths, per-path numbers,
stored runs, and the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest

from affiliates.models import OfferAccess
from affiliates.tests import factories as f
from tracking.models import SmartLink, SmartPath, SmartRun

pytestmark = pytest.mark.django_db
URL = "/api/v1/smart-links/"


@pytest.fixture
def offers(acme: Any, pixelpush: Any) -> list[Any]:
    out = []
    for name in ("a", "b", "c", "rest"):
        offer = f.OfferFactory(advertiser=acme, name=f"Offer {name}")
        f.OfferAccessFactory(offer=offer, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
        out.append(offer)
    return out


def body(offers: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "Summer",
        "paths": [
            {"offer": offers[0].pk, "weight": 60, "countries": ["us", "CA"]},
            {"offer": offers[1].pk, "weight": 30, "devices": ["mobile"], "daily_cap": 500},
            {"offer": offers[2].pk, "weight": 10, "hours": [8, 9, 10]},
            {"offer": offers[3].pk, "is_catch_all": True},
        ],
        **extra,
    }


def test_a_publisher_creates_a_smart_link_with_three_paths_and_a_catch_all(
    api_as, pia, pixelpush, offers
) -> None:
    response = api_as(pia).post(URL, body(offers, mode="auto", kpi="epc"), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["url"].endswith(f"/c/{data['token']}")
    assert data["publisher"] == pixelpush.pk
    assert [p["weight"] for p in data["paths"]] == [60, 30, 10, 100]
    assert data["paths"][0]["countries"] == ["US", "CA"]
    assert [p["share"] for p in data["paths"]] == [0.6, 0.3, 0.1, 0.0]
    assert "revenue" not in data["paths"][0]  # a publisher sees its payout, never revenue
    assert SmartLink.objects.get().mode == "auto"


def test_a_publisher_may_route_only_to_offers_it_is_approved_on(api_as, pia, acme, offers) -> None:
    other = f.OfferFactory(advertiser=acme)
    paths = body(offers)["paths"]
    paths[0]["offer"] = other.pk
    response = api_as(pia).post(URL, {"name": "x", "paths": paths}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "not_approved")
    assert not SmartLink.objects.exists()


def test_a_smart_link_needs_exactly_one_catch_all(api_as, pia, offers) -> None:
    paths = body(offers)["paths"][:3]
    response = api_as(pia).post(URL, {"name": "x", "paths": paths}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "catch_all_required")


def test_an_advertiser_makes_one_over_its_own_offers_only(api_as, ada, gus, pixelpush, offers) -> None:
    mine = api_as(ada).post(URL, body(offers, publisher=pixelpush.pk), format="json")
    assert mine.status_code == 201, mine.json()
    assert "revenue" in mine.json()["paths"][0]
    theirs = api_as(gus).post(URL, body(offers, publisher=pixelpush.pk), format="json")
    assert theirs.status_code in (403, 404)
    # The advertiser's link is not another advertiser's to see.
    assert api_as(gus).get(f"{URL}{mine.json()['id']}/").status_code == 404


def test_another_publisher_never_sees_the_link(api_as, pia, rex, offers) -> None:
    created = api_as(pia).post(URL, body(offers), format="json").json()
    assert api_as(rex).get(f"{URL}{created['id']}/").status_code == 404
    assert api_as(rex).get(URL).json()["count"] == 0


def test_weights_by_hand_are_stored_as_a_run_and_shown(api_as, pia, offers) -> None:
    created = api_as(pia).post(URL, body(offers), format="json").json()
    ids = [p["id"] for p in created["paths"]]
    run = api_as(pia).post(
        f"{URL}{created['id']}/weights/", {"weights": {str(ids[0]): 10, str(ids[1]): 80}}, format="json"
    )
    assert run.status_code == 200, run.json()
    assert run.json()["outcome"] == "manual"
    assert run.json()["weights_before"][str(ids[0])] == 60
    detail = api_as(pia).get(f"{URL}{created['id']}/").json()
    assert [p["weight"] for p in detail["paths"]][:2] == [10, 80]
    assert detail["runs"][0]["outcome"] == "manual"


def test_adding_and_removing_a_path_resets_learning(api_as, pia, acme, pixelpush, offers) -> None:
    created = api_as(pia).post(URL, body(offers), format="json").json()
    extra = f.OfferFactory(advertiser=acme)
    f.OfferAccessFactory(offer=extra, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
    added = api_as(pia).post(f"{URL}{created['id']}/paths/", {"offer": extra.pk, "weight": 5}, format="json")
    assert added.status_code == 201, added.json()
    assert added.json()["runs"][0]["outcome"] == "reset"
    path_id = next(p["id"] for p in added.json()["paths"] if p["offer"] == extra.pk)
    paused = api_as(pia).patch(f"{URL}{created['id']}/paths/{path_id}/", {"status": "paused"}, format="json")
    assert paused.status_code == 200, paused.json()
    assert SmartPath.objects.get(pk=path_id).status == "paused"
    removed = api_as(pia).delete(f"{URL}{created['id']}/paths/{path_id}/")
    assert removed.status_code == 204
    assert SmartRun.objects.filter(outcome="reset").count() == 2
    catch_all = next(p["id"] for p in created["paths"] if p["is_catch_all"])
    refused = api_as(pia).delete(f"{URL}{created['id']}/paths/{catch_all}/")
    assert (refused.status_code, refused.json()["code"]) == (400, "catch_all")


def test_optimise_now_stores_a_run_and_a_smart_link_is_never_deleted(api_as, pia, offers) -> None:
    created = api_as(pia).post(URL, body(offers, mode="auto"), format="json").json()
    run = api_as(pia).post(f"{URL}{created['id']}/optimise/")
    assert run.status_code == 200
    assert run.json()["outcome"] == "learning"  # no clicks yet
    assert run.json()["inputs"]["min_clicks"] == 200
    manual = api_as(pia).post(URL, body(offers), format="json").json()
    refused = api_as(pia).post(f"{URL}{manual['id']}/optimise/")
    assert (refused.status_code, refused.json()["code"]) == (409, "manual_mode")
    gone = api_as(pia).delete(f"{URL}{created['id']}/")
    assert (gone.status_code, gone.json()["code"]) == (409, "in_use")


def test_the_schema_documents_smart_links(api_as, nadia) -> None:
    schema = api_as(nadia).get("/api/schema/?format=json").json()
    assert "/api/v1/smart-links/" in schema["paths"]
    assert "/api/v1/smart-links/{id}/weights/" in schema["paths"]
    assert "/api/v1/smart-links/{id}/paths/{path_id}/" in schema["paths"]
