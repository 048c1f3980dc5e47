"""The Customers page's range (the one picker): cohorts and LTV:CAC cover the months the range
touches, new vs returning its days, and LTV:CAC is compared with the previous period. Numbers
are the ``story``'s (customer_story.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db

FEBRUARY = "range=custom&start=2026-02-01&end=2026-02-28"


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_the_range_picks_the_cohort_months_and_the_mix_days(nadia, story, acme, pixelpush, rival) -> None:
    response = client_for(nadia).get(f"/customers/?{FEBRUARY}&advertiser={acme.pk}")
    assert response.status_code == 200
    assert [r["cohort_month"].month for r in response.context["cohorts"]] == [2]
    mix = {r["publisher"]: (r["new_orders"], r["returning_orders"]) for r in response.context["mix"]}
    # February's days: C1's repeat of Feb 24 and C3's reported-returning first (pixelpush);
    # the reported new of Feb 10 and C3's repeat of Feb 25 (rival).
    assert mix == {pixelpush.pk: (0, 2), rival.pk: (1, 1)}
    body = response.content.decode()
    assert 'class="daterange"' in body
    assert "Feb 01 – Feb 28, 2026" in body
    assert "Cohorts by first-conversion month, Feb 2026" in body


def test_ltv_cac_is_compared_with_the_previous_period(nadia, story, acme, pixelpush) -> None:
    response = client_for(nadia).get(f"/customers/?{FEBRUARY}&advertiser={acme.pk}")
    (row,) = response.context["ltv"]
    # February: C3 (revenue 18 within 90 days, first order's payout 8); January (the 28 days
    # before): C1 (revenue 24, payout 8).
    assert (row["publisher"], row["ltv_cac"], row["ltv_cac_before"]) == (
        pixelpush.pk,
        Decimal("2.25"),
        Decimal("3"),
    )
    assert row["delta"].diff == Decimal("-0.75")
    assert 'data-delta="ltv_cac"' in response.content.decode()
    assert "−0.75 (−25.0%)" in response.content.decode()
    alone = client_for(nadia).get(f"/customers/?{FEBRUARY}&advertiser={acme.pk}&compare=0")
    assert "ltv_cac_before" not in alone.context["ltv"][0]
    assert 'data-delta="ltv_cac"' not in alone.content.decode()


def test_links_from_before_the_picker_still_mean_whole_months(nadia, story, acme) -> None:
    old = client_for(nadia).get(f"/customers/?start=2026-02&end=2026-02&advertiser={acme.pk}")
    assert old.status_code == 200
    assert (old.context["range"].first.isoformat(), old.context["range"].last.isoformat()) == (
        "2026-02-01",
        "2026-02-28",
    )


def test_a_bad_range_is_a_400_that_shows_the_default(ada, story) -> None:
    response = client_for(ada).get("/customers/?range=forever")
    assert response.status_code == 400
    assert 'data-code="bad_range"' in response.content.decode()
    assert response.context["range"].first.day == 1  # the default: whole months, still shown
    assert response.context["range"].days > 300
    assert response.context["table"] is not None
