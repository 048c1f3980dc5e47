"""The Attribution page: staff see names, revenue and view-through apart; publishers have no such page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.journeys.services import journeys_refresh
from payouts.journeys.tests.journey_story import AS_OF, three_touches

pytestmark = pytest.mark.django_db
DAY = {"start": "2026-11-20", "end": "2026-11-20", "by": "publisher", "scope": "click"}


@pytest.fixture
def story(shoes: Any, pixelpush: Any, rival: Any) -> None:
    three_touches(shoes, rival, f.PublisherFactory(name="Beta Deals"), pixelpush)
    journeys_refresh(as_of=AS_OF, days=3)


def test_staff_compare_the_models_with_publisher_names(client: Client, nadia: Any, story: None) -> None:
    sign_in(client, nadia)
    page = client.get("/attribution/", DAY).content.decode()
    assert 'aria-label="Attribution comparison"' in page
    assert "PixelPush Media" in page
    assert "Beta Deals" in page
    assert "Markov (data-driven)" in page
    assert 'aria-label="Participation"' in page


def test_view_through_only_shows_no_click_journeys(client: Client, nadia: Any, story: None) -> None:
    sign_in(client, nadia)
    page = client.get("/attribution/", {**DAY, "scope": "view_through"}).content.decode()
    assert "No journeys in these days yet." in page


def test_a_publisher_has_no_such_page(client: Client, pia: Any, story: None) -> None:
    sign_in(client, pia)
    assert client.get("/attribution/", DAY).status_code == 404  # the portals' answer for another role
