"""The A/B test and budget-shift pages: who sees them, a test's page after a look, and a
proposal applied and undone from the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from affiliates.tests.signin import sign_in
from payouts.experiments import abtests
from payouts.experiments.models import BudgetShift
from payouts.experiments.tests.conftest import STAFF, day_row, make_test
from tracking.models import AbVariant

pytestmark = pytest.mark.django_db


def test_an_advertiser_sees_the_winner_with_its_interval_and_promotes_it(client, ada, shoes) -> None:
    test = make_test(shoes, min_sample=100, max_sample=1000)
    abtests.ab_test_start(actor=STAFF, test=test, now=timezone.now() - timedelta(hours=1))
    a, b = test.variants.order_by("position")
    day_row(a, timezone.now().date(), 900, 18)
    day_row(b, timezone.now().date(), 900, 72)
    sign_in(client, ada)
    assert f"/ab-tests/{test.pk}/" in client.get("/ab-tests/").content.decode()
    client.post(f"/ab-tests/{test.pk}/look/")
    page = client.get(f"/ab-tests/{test.pk}/").content.decode()
    assert "A winner is clear" in page
    assert "8.00 %" in page  # B's CVR, with its interval beside it
    assert "significant" in page
    client.post(f"/ab-tests/{test.pk}/promote/")
    assert AbVariant.objects.get(pk=a.pk).status == AbVariant.Status.PAUSED
    assert "Winner promoted: B" in client.get(f"/ab-tests/{test.pk}/").content.decode()


def test_another_advertiser_and_publishers_do_not_reach_the_pages(client, gus, pia, shoes) -> None:
    test = make_test(shoes)
    sign_in(client, gus)
    assert client.get(f"/ab-tests/{test.pk}/").status_code == 404
    assert client.post(f"/ab-tests/{test.pk}/start/").status_code == 404
    sign_in(client, pia)
    assert client.get("/ab-tests/").status_code in (403, 404)
    assert client.get("/budget-shifts/").status_code in (403, 404)


def test_an_advertiser_applies_and_undoes_a_proposal_from_the_page(client, ada, acme, shoes) -> None:
    shift = BudgetShift.objects.create(
        advertiser=acme, week=timezone.now().date(), lever="publisher_cap", scope=f"offer:{shoes.pk}",
        bottom="publisher:1 Low", top="publisher:2 High", share="0.25", numbers={}, changes={},
        status=BudgetShift.Status.ADVICE,
    )  # fmt: skip
    sign_in(client, ada)
    page = client.get("/budget-shifts/").content.decode()
    assert "no cap or weight to move" in page
    client.post(f"/budget-shifts/{shift.pk}/apply/")
    shift.refresh_from_db()
    assert shift.status == BudgetShift.Status.ADVICE  # advice is never applied
    client.post("/budget-shifts/settings/", {"auto_apply": "on", "share": "0.30"})
    assert acme.shift_settings.auto_apply is True


def test_staff_see_every_test_and_choose_whose_shifts_to_see(client, nadia, acme, shoes) -> None:
    test = make_test(shoes)
    sign_in(client, nadia)
    assert test.name in client.get("/ab-tests/").content.decode()
    assert client.get(f"/ab-tests/{test.pk}/").status_code == 200
    page = client.get(f"/budget-shifts/?advertiser={acme.pk}").content.decode()
    assert "Propose this week" in page
    assert client.post("/budget-shifts/propose/", {"advertiser": acme.pk}).status_code == 302
