"""The traffic policy pages: who reaches them, a cap set from the page, and the naming report."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from affiliates.tests.signin import sign_in
from tracking.models import FrequencyCap, NamingTemplate
from tracking.models.reports import DailyStat

pytestmark = pytest.mark.django_db


def test_an_advertiser_sets_an_offer_cap_from_the_page_and_publishers_have_no_page(ada, pia, shoes):
    client = sign_in(Client(), ada)
    page = client.get("/policy/")
    assert page.status_code == 200
    assert b"The whole network" not in page.content  # the network's scope is staff's
    response = client.post(
        "/policy/caps/", {"cap-scope": f"offer:{shoes.pk}", "cap-window_days": "7", "cap-limit": "3"}
    )
    assert response.status_code == 302
    cap = FrequencyCap.objects.get()
    assert (cap.offer_id, cap.advertiser_id, cap.window_days, cap.limit) == (
        shoes.pk,
        shoes.advertiser_id,
        7,
        3,
    )
    assert sign_in(Client(), pia).get("/policy/").status_code == 404


def test_staff_add_a_template_and_the_report_page_splits_sub1(nadia, ada, shoes, pixelpush):
    staff = sign_in(Client(), nadia)
    staff.post("/policy/templates/", {"name": "Channels", "field": "sub1", "pattern": "{channel}-{geo}"})
    template = NamingTemplate.objects.get()
    DailyStat.objects.create(
        day=timezone.now().date() - timedelta(days=1), advertiser_id=shoes.advertiser_id, offer=shoes,
        publisher=pixelpush, currency="USD", country="NO", device="desktop", sub1="fb-no", gross_clicks=12,
        revenue=Decimal("5"), payout=Decimal("2"),
    )  # fmt: skip
    page = sign_in(Client(), ada).get(f"/policy/naming/{template.pk}/", {"group_by": "channel"})
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [(r["parts"], r["clicks"]) for r in rows] == [({"channel": "fb"}, 12)]


def test_a_suspended_advertiser_sets_no_cap_and_no_cap_past_an_integer_column(ada, acme, shoes):
    """The page holds advertisers to the API's rules: account status (403 account_suspended, as
    the API's AccountStanding) and a limit the column holds (a form error, not PostgreSQL's 500)."""
    client = sign_in(Client(), ada)
    form = {"cap-scope": f"offer:{shoes.pk}", "cap-window_days": "7", "cap-limit": str(2**31)}
    assert client.post("/policy/caps/", form).status_code == 200  # the form again, with its error
    type(acme).objects.filter(pk=acme.pk).update(status="suspended")
    refused = client.post("/policy/caps/", {**form, "cap-limit": "3"})
    assert refused.status_code == 403
    assert b"account_suspended" in refused.content
    assert not FrequencyCap.objects.exists()
