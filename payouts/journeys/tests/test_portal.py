"""The Attribution page: staff see names, revenue and view-through apart; publishers have no such page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.test import Client

from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.journeys.services import journeys_refresh
from payouts.journeys.tests.journey_story import AS_OF, T, converted, three_touches
from tracking.tests.factories import click_make

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


@pytest.fixture
def day_before(shoes: Any, pixelpush: Any) -> None:
    """Another visitor's 50.00 sale through pixelpush on the day before: the previous period."""
    click = click_make(shoes, pixelpush, at=T - timedelta(days=1, hours=1), ip="203.0.113.9")
    converted(shoes, click, at=T - timedelta(days=1), amount="50")


def test_the_paid_model_and_participation_are_compared_with_the_previous_period(
    client: Client, nadia: Any, pixelpush: Any, day_before: None, story: None
) -> None:
    journeys_refresh(as_of=AS_OF, days=3)
    sign_in(client, nadia)
    response = client.get("/attribution/", DAY)
    row = next(r for r in response.context["rows"] if r["publisher"] == pixelpush.pk)
    # Nov 20: the closer's 12.00 (12 % of 100); Nov 19: 6.00 (12 % of 50).
    assert (row["before"]["conversions"], row["before"]["revenue"]) == (Decimal("1.00"), Decimal("6.00"))
    assert row["delta_revenue"].diff == Decimal("6.00")
    assert row["delta_conversions"].diff == Decimal(0)
    roles = {r["publisher"]: r for r in response.context["roles"]}
    assert (roles[pixelpush.pk]["conversions_touched"], roles[pixelpush.pk]["touched_before"]) == (1, 1)
    page = response.content.decode()
    assert "Paid vs Nov 19, 2026" in page
    assert "+6.00 (+100.0%)" in page
    alone = client.get("/attribution/", {**DAY, "compare": "0"})
    assert "before" not in alone.context["rows"][0]
    assert "Paid vs" not in alone.content.decode()


@pytest.mark.parametrize("compare", ["1", "0"])
def test_the_csv_holds_exactly_the_rows_and_columns_shown(
    client: Client, nadia: Any, day_before: None, story: None, compare: str
) -> None:
    journeys_refresh(as_of=AS_OF, days=3)
    sign_in(client, nadia)
    query = {**DAY, "by": "sub1", "compare": compare}
    page = client.get("/attribution/", query)
    shown = page.context
    links = re.findall(r'href="\?([^"]+)"[^>]*data-export="(\w+)"', page.content.decode())
    assert [kind for _, kind in links] == ["models", "participation"]
    for href, _ in links:  # the page's own export links ask for what it shows
        asked = dict(parse_qsl(href.replace("&amp;", "&")))
        assert (asked["by"], asked["format"], asked.get("compare", "1")) == ("sub1", "csv", compare)
    export = client.get("/attribution/", {**query, "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [(r["publisher"], r["sub1"], r["currency"]) for r in lines] == [
        (r["name"], r["label"], r["currency"]) for r in shown["rows"]
    ]
    for line, row in zip(lines, shown["rows"], strict=True):
        for model, _ in shown["models"]:
            assert Decimal(line[f"{model}_revenue"]) == row["models"][model]["revenue"]
            assert Decimal(line[f"{model}_conversions"]) == row["models"][model]["conversions"]
        assert ("paid_revenue_previous" in line) == (compare == "1")
    assert lines[0]["last_click_revenue_vs_last_click"] == ""  # shown as "—"
    roles = client.get("/attribution/", {**query, "format": "csv", "table": "participation"})
    role_lines = list(csv.DictReader(io.StringIO(roles.content.decode())))
    assert [r["publisher"] for r in role_lines] == [r["name"] for r in shown["roles"]]
    assert [int(r["conversions_touched"]) for r in role_lines] == [
        r["conversions_touched"] for r in shown["roles"]
    ]
    assert ("conversions_touched_previous" in role_lines[0]) == (compare == "1")
