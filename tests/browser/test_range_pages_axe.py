"""axe at 1366 px and 390 px on the pages this work gave a range picker, comparisons or
reporting-currency totals (the whole-site sweep is test_accessibility.py; this one is quick
to run on its own): the customers, attribution, smart link, advertiser offers and publishers
pages, and the staff overview and detail pages, with two currencies of sales."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from affiliates.models import Offer
from affiliates.roles import Actor, Role
from tests.browser.conftest import login
from tests.browser.test_accessibility import _sweep
from tests.browser.test_portal_ranges import _sales
from tracking.smartlinks.services import PathSpec, smart_link_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_range_and_money_pages_have_no_axe_violation(page, shot, pia, ada, nadia, acme, shoes_link):
    _sales(shoes_link, acme)
    smart = smart_link_create(
        actor=Actor(role=Role.STAFF),
        publisher=shoes_link.publisher,
        name="Spring",
        paths=[
            PathSpec(offer=shoes_link.offer, weight=100),
            PathSpec(offer=Offer.objects.get(name="Acme Boots EU"), is_catch_all=True),
        ],
    )
    assert smart.paths.exists()
    axe, problems = Axe(), []
    login(page, "pia")
    problems += _sweep(page, axe, "publisher", f"/smart-links/{smart.pk}/?range=30d")
    login(page, "ada")
    for url in ("/customers/", "/attribution/", "/advertiser/offers/", "/advertiser/publishers/"):
        problems += _sweep(page, axe, "advertiser", url)
    login(page, "nadia")
    for url in ("/staff/", f"/staff/advertisers/{acme.pk}/", f"/staff/publishers/{shoes_link.publisher_id}/"):
        problems += _sweep(page, axe, "staff", url)
    page.set_viewport_size({"width": 1360, "height": 900})
    page.goto(f"/staff/publishers/{shoes_link.publisher_id}/?range=30d")
    shot("staff-publisher")
    assert problems == []
