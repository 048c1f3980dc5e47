"""No oracles: search, ordering and id filters answer only from what the caller may see
(affiliates/api/lookups.py, the API's filter backends)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from affiliates.models import Cap, OfferAccess
from affiliates.tests import factories as f
from payouts.tests.factories_callbacks import CallbackEndpointFactory
from payouts.tests.factories_payouts import CommissionFactory
from tests.portal_data import conversion_make
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db

NO_SUCH_ID = 987_654_321


@pytest.fixture
def world(shoes, shoes_link, pixelpush, rival, globex, acme) -> dict[str, Any]:
    """Two advertisers, two publishers, and rows of every kind on both sides."""
    other = f.OfferFactory(advertiser=globex, name="Globex Gadgets")
    f.GoalFactory(offer=other, code="sale", payout_type="cps", is_default=True)
    f.OfferAccessFactory(offer=other, publisher=rival, status=OfferAccess.Status.APPROVED)
    for offer, publisher in ((shoes, pixelpush), (other, rival)):
        f.CustomPayoutFactory(offer=offer, publisher=publisher, payout=Decimal("5"))
        f.CapFactory(offer=offer, publisher=publisher, metric=Cap.Metric.CONVERSIONS)
        f.CouponFactory(offer=offer, publisher=publisher)
        conversion_make(click=click_make(offer=offer, publisher=publisher))
        CallbackEndpointFactory(publisher=publisher, offer=offer)
    return {"other": other}


# --- search and ordering ---------------------------------------------------------------------


def test_an_advertiser_cannot_search_publishers_by_their_hidden_email(api_as, ada, nadia, world) -> None:
    # pixelpush applied to acme's offer, so acme sees its public face: not its e-mail address.
    def found(user: Any) -> list[str]:
        response = api_as(user).get("/api/v1/publishers/", {"search": "ops@pixelpush"})
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    assert found(nadia) == ["PixelPush Media"]
    assert found(ada) == []
    names = api_as(ada).get("/api/v1/publishers/", {"search": "PixelPush"}).json()["results"]
    assert [row["name"] for row in names] == ["PixelPush Media"]  # its name stays searchable


def test_a_publisher_cannot_search_offers_by_the_advertiser_it_does_not_see(
    api_as, pia, nadia, world
) -> None:
    assert api_as(nadia).get("/api/v1/offers/", {"search": "Globex"}).json()["count"] == 1
    # "Globex Gadgets" matches by its own name only; acme's offer never matches "Acme Shoes" by
    # advertiser name (its own name does: it is "Acme Shoes - Summer Sale").
    rows = api_as(pia).get("/api/v1/offers/", {"search": "Globex"}).json()["results"]
    assert [r["name"] for r in rows] == ["Globex Gadgets"]
    f.OfferFactory(advertiser=world["other"].advertiser, name="Plain name", visibility="public")
    rows = api_as(pia).get("/api/v1/offers/", {"search": "Globex"}).json()["results"]
    assert [r["name"] for r in rows] == ["Globex Gadgets"]


def _order(api: Any, url: str, ordering: str) -> list[int]:
    response = api.get(url, {"ordering": ordering})
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_publisher_cannot_sort_its_commissions_by_revenue(api_as, pia, nadia, shoes, pixelpush) -> None:
    # Revenue runs against payout, so a sort by revenue would show the margin.
    for payout, revenue in (("1.00", "30.00"), ("2.00", "20.00"), ("3.00", "10.00")):
        CommissionFactory(offer=shoes, publisher=pixelpush, payout=Decimal(payout), revenue=Decimal(revenue))
    staff = api_as(nadia)
    assert _order(staff, "/api/v1/commissions/", "revenue") != _order(
        staff, "/api/v1/commissions/", "-revenue"
    )
    pub = api_as(pia)
    assert _order(pub, "/api/v1/commissions/", "revenue") == _order(pub, "/api/v1/commissions/", "-revenue")
    assert _order(pub, "/api/v1/commissions/", "payout") != _order(pub, "/api/v1/commissions/", "-payout")


def test_an_advertiser_cannot_sort_commissions_by_payout(api_as, ada, shoes, pixelpush) -> None:
    for payout, revenue in (("1.00", "30.00"), ("2.00", "20.00"), ("3.00", "10.00")):
        CommissionFactory(offer=shoes, publisher=pixelpush, payout=Decimal(payout), revenue=Decimal(revenue))
    adv = api_as(ada)
    assert _order(adv, "/api/v1/commissions/", "payout") == _order(adv, "/api/v1/commissions/", "-payout")
    assert _order(adv, "/api/v1/commissions/", "revenue") != _order(adv, "/api/v1/commissions/", "-revenue")


def test_a_publisher_cannot_sort_goals_by_the_list_price_behind_its_own(
    api_as, pia, shoes, shoes_link
) -> None:
    # The publisher's goal payout is computed (custom payouts applied); the column is not its.
    goals = api_as(pia)
    assert _order(goals, "/api/v1/goals/", "payout") == _order(goals, "/api/v1/goals/", "-payout")


# --- id filters: an id the caller cannot see answers as one that does not exist --------------


def _list_endpoints() -> list[tuple[str, Any]]:
    """(url, viewset) of every list endpoint under /api/v1/."""
    found: dict[str, Any] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and "list" in getattr(p.callback, "actions", {}).values():
                match = re.fullmatch(r"\^?([\w/-]+)/\$", str(p.pattern))
                if match and prefix == "api/v1/":
                    found[f"/api/v1/{match.group(1)}/"] = p.callback.cls

    walk(get_resolver().url_patterns, "")
    return sorted(found.items())


def _related_model(model: type[Model], path: str) -> type[Model] | None:
    """The model a filter's field path ends on, or None when it is not a relation."""
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part.removesuffix("_id"))
        except FieldDoesNotExist:
            return None
        if field.related_model is None:
            return None
        model = field.related_model  # type: ignore[assignment]
    return model


def _id_filters(viewset: Any, user: Any) -> dict[str, type[Model]]:
    """Every filter of the endpoint on a related object's id, whatever its filter class."""
    request = Request(APIRequestFactory().get("/"))
    request.user = user
    view = viewset(request=request, action="list", format_kwarg=None, kwargs={})
    queryset = view.get_queryset()
    filterset = DjangoFilterBackend().get_filterset_class(view, queryset)
    if filterset is None:
        return {}
    out = {}
    for name, flt in filterset.base_filters.items():
        if flt.method is None and (model := _related_model(queryset.model, flt.field_name)) is not None:
            out[name] = model
    return out


def test_every_list_endpoint_is_covered() -> None:
    urls = {url for url, _ in _list_endpoints()}
    assert {
        "/api/v1/conversions/",
        "/api/v1/commissions/",
        "/api/v1/offers/",
        "/api/v1/postback-deliveries/",
        "/api/v1/ledger/entries/",
    } <= urls


@pytest.mark.parametrize("who", ["ada", "pia", "nadia"])
def test_an_invisible_id_answers_exactly_as_a_missing_one_on_every_endpoint(
    request, api_as, world, who
) -> None:
    user = request.getfixturevalue(who)
    api = api_as(user)
    checked = 0
    for url, viewset in _list_endpoints():
        for param, model in _id_filters(viewset, user).items():
            missing = api.get(url, {param: NO_SUCH_ID})
            if missing.status_code == 403:  # the role may not list this at all
                continue
            assert missing.status_code == 200, (url, param, missing.content)
            assert missing.json()["results"] == [], (url, param)
            for pk in model._default_manager.values_list("pk", flat=True)[:20]:
                answer = api.get(url, {param: pk})
                assert answer.status_code == 200, (url, param, pk, answer.content)
                if answer.json()["results"] == []:
                    assert answer.json() == missing.json(), (url, param, pk)
                checked += 1
    assert checked > 20


@pytest.mark.parametrize("param", ["offer", "publisher", "goal", "advertiser"])
def test_a_report_filtered_by_an_invisible_id_answers_as_a_missing_one(
    api_as, ada, pia, world, param
) -> None:
    other = world["other"]
    theirs = {
        "offer": other.pk,
        "publisher": other.accesses.get().publisher_id,
        "goal": other.goals.get().pk,
        "advertiser": other.advertiser_id,
    }[param]
    query = {"start": "2024-01-01", "end": "2024-01-07", "group_by": "day"}
    for user in (ada, pia):
        api = api_as(user)
        missing = api.get("/api/v1/reports/", {**query, param: NO_SUCH_ID})
        invisible = api.get("/api/v1/reports/", {**query, param: theirs})
        assert invisible.status_code == missing.status_code
        # The answer echoes the filters asked for; everything else must be the same.
        echoed = ({k: v for k, v in r.json().items() if k != "filters"} for r in (invisible, missing))
        assert next(echoed) == next(echoed)
