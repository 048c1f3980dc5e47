"""A smart link's page reads its per-path numbers over the one range picker (default: the
optimiser's window) and shows each path's change against the previous period."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.models import OfferAccess
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from tracking.models import SmartLink
from tracking.smartlinks.services import PathSpec, smart_link_create
from tracking.tests.factories import smart_path_day_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(acme: Any, pixelpush: Any) -> SmartLink:
    offers = []
    for name in ("a", "rest"):
        offer = f.OfferFactory(advertiser=acme, name=name)
        f.OfferAccessFactory(offer=offer, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
        offers.append(offer)
    return smart_link_create(
        actor=Actor(role=Role.STAFF),
        publisher=pixelpush,
        name="Spring",
        paths=[PathSpec(offer=offers[0], weight=100), PathSpec(offer=offers[1], is_catch_all=True)],
    )


def test_the_paths_follow_the_range_and_compare_with_the_previous_period(link, pia) -> None:
    path = link.paths.get(is_catch_all=False)
    smart_path_day_make(path=path, days_ago=0, clicks=100, conversions=4)  # today: in "today"
    smart_path_day_make(path=path, days_ago=1, clicks=50, conversions=1)  # yesterday: today's previous period
    smart_path_day_make(path=path, days_ago=3, clicks=1000, conversions=10)  # in the last 7 days only
    client = Client()
    sign_in(client, pia)
    today = client.get(f"/smart-links/{link.pk}/?range=today")
    assert today.status_code == 200
    (stats,) = [s for s in today.context["stats"] if s.path.pk == path.pk]
    assert (stats.clicks, stats.conversions) == (100, 4)
    deltas = today.context["deltas"][path.pk]
    assert (deltas["clicks"].diff, deltas["conversions"].diff) == (50, 3)
    body = today.content.decode()
    assert 'class="daterange"' in body
    assert "+50 (+100.0%)" in body
    week = client.get(f"/smart-links/{link.pk}/?range=7d&compare=0")
    (stats,) = [s for s in week.context["stats"] if s.path.pk == path.pk]
    assert stats.clicks == 1150
    assert week.context["deltas"] == {}
    assert 'data-delta="clicks"' not in week.content.decode()


def test_without_a_range_the_page_shows_the_optimiser_s_window(link, pia) -> None:
    path = link.paths.get(is_catch_all=False)
    smart_path_day_make(path=path, days_ago=0, clicks=10, conversions=1)
    client = Client()
    sign_in(client, pia)
    response = client.get(f"/smart-links/{link.pk}/")
    assert response.context["range"].first == response.context["since"]
    assert client.get(f"/smart-links/{link.pk}/?range=forever").status_code == 400
