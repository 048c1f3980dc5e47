"""The advertiser's offers and publishers tables read their clicks and conversions over the range
picker (default: the last 30 days) and show each row's change against the previous period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from affiliates.tests.signin import sign_in
from tests.portal_data import conversion_make
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def traffic(shoes_link: Any) -> None:
    now = timezone.now()
    for days_ago in (0, 0, 1, 10):  # clicks: two today, one yesterday, one ten days ago
        click = click_make(
            shoes_link.offer, shoes_link.publisher, at=now - timedelta(days=days_ago, minutes=5)
        )
        if days_ago == 0:  # each of today's converts
            conversion_make(click=click, status="approved", at=now - timedelta(days=days_ago, minutes=1))


@pytest.mark.parametrize("path", ["/advertiser/offers/", "/advertiser/publishers/"])
def test_the_tables_follow_the_range_and_compare_with_the_previous_period(ada, traffic, path) -> None:
    client = Client()
    sign_in(client, ada)
    today = client.get(path, {"range": "today"})
    assert today.status_code == 200
    (row,) = today.context["rows"]
    assert (row["clicks"], row["conversions"]) == (2, 2)
    assert (row["deltas"]["clicks"].diff, row["deltas"]["conversions"].diff) == (1, 2)  # vs yesterday
    assert 'data-delta="clicks"' in today.content.decode()
    assert 'class="daterange"' in today.content.decode()
    month = client.get(path)  # the default: the last 30 days
    assert month.context["range"].preset == "30d"
    assert month.context["rows"][0]["clicks"] == 4
    alone = client.get(path, {"range": "7d", "compare": "0"})
    assert alone.context["rows"][0]["clicks"] == 3
    assert 'data-delta="clicks"' not in alone.content.decode()
    assert client.get(path, {"range": "forever"}).status_code == 400
