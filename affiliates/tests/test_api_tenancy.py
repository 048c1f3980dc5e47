"""Cross-tenant access on every endpoint: another tenant's object is 404, absent from lists,
and every write that reaches for it is refused without changing anything."""

from __future__ import annotations

from typing import Any

import pytest

from affiliates.models import Advertiser, Cap, Coupon, CustomPayout, Goal, Offer, OfferAccess, Publisher

MODELS = {
    "advertisers": Advertiser,
    "publishers": Publisher,
    "offers": Offer,
    "goals": Goal,
    "custom-payouts": CustomPayout,
    "caps": Cap,
    "coupons": Coupon,
    "accesses": OfferAccess,
    "links": OfferAccess,
}
PATCHABLE = {"advertisers", "publishers", "offers", "goals", "custom-payouts", "caps", "coupons"}
DELETABLE = {"goals", "custom-payouts", "caps", "coupons"}

# endpoint -> (their object, my object) for the advertiser ada (tenant acme)
ADVERTISER_VIEW = {
    "advertisers": ("globex", "acme"),
    "publishers": ("rival", "pixelpush"),
    "offers": ("gadgets", "shoes"),
    "goals": ("gadgets_goal", "shoes_goal"),
    "custom-payouts": ("cp_globex", "cp_acme"),
    "caps": ("cap_globex", "cap_acme"),
    "coupons": ("coupon_globex", "coupon_acme"),
    "accesses": ("rival_gadgets", "shoes_link"),
    "links": ("rival_gadgets", "shoes_link"),
}
# ... and for the publisher pia (tenant pixelpush)
PUBLISHER_VIEW = {
    "advertisers": ("globex", None),
    "publishers": ("rival", "pixelpush"),
    "offers": ("secret", "shoes"),
    "goals": ("secret_goal", "shoes_goal"),
    "custom-payouts": ("cp_globex", "cp_acme"),
    "caps": ("cap_globex", "cap_acme"),
    "coupons": ("coupon_globex", "coupon_acme"),
    "accesses": ("rival_gadgets", "shoes_link"),
    "links": ("rival_gadgets", "shoes_link"),
}
CASES = [("ada", ep, *objs) for ep, objs in ADVERTISER_VIEW.items()] + [
    ("pia", ep, *objs) for ep, objs in PUBLISHER_VIEW.items()
]
IDS = [f"{user}-{ep}" for user, ep, *_ in CASES]


def _ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def _snapshot(obj: Any) -> dict[str, Any]:
    fresh = type(obj).objects.get(pk=obj.pk)
    return {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}


@pytest.mark.parametrize(("user", "endpoint", "theirs", "mine"), CASES, ids=IDS)
def test_another_tenants_object_is_not_found(world, api_as, user, endpoint, theirs, mine) -> None:
    their_obj = getattr(world, theirs)
    response = api_as(getattr(world, user)).get(f"/api/v1/{endpoint}/{their_obj.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(("user", "endpoint", "theirs", "mine"), CASES, ids=IDS)
def test_the_list_shows_mine_and_excludes_theirs(world, api_as, user, endpoint, theirs, mine) -> None:
    response = api_as(getattr(world, user)).get(f"/api/v1/{endpoint}/", {"page_size": 500})
    assert response.status_code == 200
    ids = _ids(response)
    assert getattr(world, theirs).pk not in ids
    if mine is not None:
        assert getattr(world, mine).pk in ids


@pytest.mark.parametrize(("user", "endpoint", "theirs", "mine"), CASES, ids=IDS)
def test_writes_to_another_tenants_object_are_refused(world, api_as, user, endpoint, theirs, mine) -> None:
    their_obj = getattr(world, theirs)
    before = _snapshot(their_obj)
    client = api_as(getattr(world, user))
    url = f"/api/v1/{endpoint}/{their_obj.pk}/"
    patched = client.patch(url, {"name": "hijacked", "payout": "99", "active": False}, format="json")
    assert patched.status_code == (404 if endpoint in PATCHABLE else 405)
    deleted = client.delete(url)
    assert deleted.status_code == (404 if endpoint in DELETABLE else 405)
    assert _snapshot(their_obj) == before


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("ada", "/api/v1/advertisers/{globex}/rotate_postback_token/"),
        ("ada", "/api/v1/advertisers/{globex}/rotate_hmac_secret/"),
        ("ada", "/api/v1/accesses/{rival_gadgets}/approve/"),
        ("ada", "/api/v1/accesses/{rival_gadgets}/reject/"),
        ("pia", "/api/v1/accesses/{rival_gadgets}/reject/"),
        ("pia", "/api/v1/advertisers/{globex}/rotate_postback_token/"),
    ],
)
def test_actions_on_another_tenants_object_are_not_found(world, api_as, user, path) -> None:
    names = {"globex": world.globex.pk, "rival_gadgets": world.rival_gadgets.pk}
    digest = Advertiser.objects.get(pk=world.globex.pk).postback_token_digest
    response = api_as(getattr(world, user)).post(path.format(**names), {}, format="json")
    assert response.status_code == 404
    assert Advertiser.objects.get(pk=world.globex.pk).postback_token_digest == digest
    assert OfferAccess.objects.get(pk=world.rival_gadgets.pk).status == OfferAccess.Status.APPROVED


def _creates_reaching_for_globex(w: Any) -> list[tuple[str, dict[str, Any], str]]:
    landing = "https://x.example.com/?c={click_id}"
    goal = {"code": "sale", "name": "Sale", "payout_type": "cpa", "payout": "1", "revenue": "2"}
    return [
        (
            "offers",
            {"advertiser": w.globex.pk, "name": "X", "landing_url": landing, "goals": [goal]},
            "advertiser",
        ),
        ("goals", {"offer": w.gadgets.pk, **goal, "code": "new"}, "offer"),
        ("custom-payouts", {"offer": w.gadgets.pk, "publisher": w.pixelpush.pk, "payout": "1"}, "offer"),
        ("custom-payouts", {"offer": w.shoes.pk, "publisher": w.rival.pk, "payout": "1"}, "publisher"),
        ("caps", {"offer": w.gadgets.pk, "metric": "clicks", "period": "day", "limit": "5"}, "offer"),
        ("coupons", {"code": "NEWCODE", "offer": w.gadgets.pk, "publisher": w.pixelpush.pk}, "offer"),
        ("accesses", {"offer": w.gadgets.pk, "publisher": w.pixelpush.pk}, "offer"),
        ("links", {"offer": w.gadgets.pk, "publisher": w.pixelpush.pk}, "offer"),
        ("links", {"offer": w.shoes.pk, "publisher": w.rival.pk}, "publisher"),
    ]


def test_an_advertiser_cannot_create_anything_on_another_tenants_objects(world, api_as) -> None:
    client = api_as(world.ada)
    for endpoint, body, field in _creates_reaching_for_globex(world):
        before = MODELS[endpoint].objects.count()
        response = client.post(f"/api/v1/{endpoint}/", body, format="json")
        assert response.status_code == 400, (endpoint, response.json())
        assert response.json()["code"] == "does_not_exist", (endpoint, response.json())
        assert field in response.json()["fields"], endpoint
        assert MODELS[endpoint].objects.count() == before


@pytest.mark.parametrize(
    "endpoint", ["advertisers", "publishers", "offers", "goals", "custom-payouts", "caps", "coupons", "links"]
)
def test_a_publisher_cannot_create_network_or_advertiser_objects(world, api_as, endpoint) -> None:
    before = MODELS[endpoint].objects.count()
    response = api_as(world.pia).post(f"/api/v1/{endpoint}/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert MODELS[endpoint].objects.count() == before


def test_a_publisher_cannot_apply_to_a_private_offer_it_was_not_invited_to(world, api_as) -> None:
    response = api_as(world.pia).post("/api/v1/accesses/", {"offer": world.secret.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["offer"]
    assert not OfferAccess.objects.filter(offer=world.secret, publisher=world.pixelpush).exists()


@pytest.mark.parametrize("endpoint", sorted(MODELS))
def test_anonymous_requests_are_unauthorised(db, client, endpoint) -> None:
    response = client.get(f"/api/v1/{endpoint}/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("endpoint", sorted(MODELS))
def test_a_user_without_a_role_sees_nothing(world, api_as, endpoint) -> None:
    from affiliates.tests.factories import UserFactory

    response = api_as(UserFactory(username="nobody")).get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("endpoint", sorted(MODELS))
def test_staff_see_every_tenant(world, api_as, endpoint) -> None:
    response = api_as(world.nadia).get(f"/api/v1/{endpoint}/", {"page_size": 500})
    assert response.status_code == 200
    theirs, mine = ADVERTISER_VIEW[endpoint]
    assert {getattr(world, theirs).pk, getattr(world, mine).pk} <= _ids(response)
