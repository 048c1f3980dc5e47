"""The overview's "waiting for staff" counts follow the signed-in staff member's role: an
account manager counts only the items of the advertisers and publishers assigned to them, an
admin every item on the network (affiliates.roles.scope)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from affiliates.models import Advertiser, Offer, Publisher
from affiliates.team_models import StaffMember, StaffRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.documents import invoice_issue
from payouts.models.callbacks import CallbackDelivery
from payouts.reconcile import conversions_reconcile
from payouts.tests.helpers import convert

pytestmark = pytest.mark.django_db

JAN = date(2024, 1, 1)
NOW = datetime(2024, 3, 12, 15, 0, tzinfo=UTC)  # the invoices of January are overdue by then


@pytest.fixture(autouse=True)
def issuer(settings: Any) -> None:
    settings.ISSUER_LEGAL_NAME = "Affnet Networks Ltd"
    settings.ISSUER_ADDRESS = "1 Grand Canal Square\nDublin D02 P820"
    settings.ISSUER_COUNTRY = "IE"
    settings.ISSUER_TAX_ID = "IE6388047V"
    settings.INVOICE_PAYMENT_TERMS_DAYS = 30


def _offer(advertiser: Advertiser) -> Offer:
    offer = Offer.objects.create(
        advertiser=advertiser,
        name=f"{advertiser.name} sale",
        landing_url="https://x.example/",
        currency="USD",
    )
    offer.goals.create(
        code="sale",
        name="Sale",
        payout_type="cps",
        payout=Decimal("8"),
        revenue=Decimal("12"),
        is_default=True,
    )
    return offer


def _items(advertiser: Advertiser, publisher: Publisher, *, held: int, failed: int) -> None:
    """One of each queue's items for this advertiser and publisher (``held`` and ``failed`` of
    those two), and an unpaid January invoice."""
    offer = _offer(advertiser)
    f.OfferAccessFactory(offer=offer, publisher=publisher, status="pending")
    f.PublisherFactory(status=Publisher.Status.PENDING)  # nobody's: an admin's item only
    for _ in range(held):
        convert(offer, publisher, status="pending", held=True, at=NOW - timedelta(hours=2))
    for i in range(failed):
        CallbackDelivery.objects.create(
            key=f"{publisher.pk}-{i}",
            publisher=publisher,
            url="https://pub.example/pb",
            status="failed",
            created_at=NOW - timedelta(hours=1),
            give_up_at=NOW,
        )
    convert(offer, publisher, status="approved", at=datetime(2024, 1, 10, 12, tzinfo=UTC))
    conversions_reconcile()
    with time_machine.travel(datetime(2024, 2, 2, 9, tzinfo=UTC), tick=False):  # due March 3
        invoice_issue(advertiser=advertiser, period=JAN)


def _waiting(user: Any) -> Any:
    client = Client()
    sign_in(client, user)
    with time_machine.travel(NOW, tick=False):
        response = client.get("/staff/")
    assert response.status_code == 200
    return response.context["waiting"], response.content.decode()


def test_an_account_manager_counts_only_their_accounts_and_an_admin_counts_all(
    nadia: Any, acme: Advertiser, globex: Advertiser, pixelpush: Publisher, rival: Publisher
) -> None:
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        _items(acme, pixelpush, held=2, failed=3)
        _items(globex, rival, held=1, failed=1)
    mine = f.PublisherFactory(status=Publisher.Status.PENDING, name="Fresh Sign-up")
    manager = f.UserFactory(username="amy", is_staff=True)
    StaffMember.objects.create(user=manager, role=StaffRole.ACCOUNT_MANAGER)
    for account in ({"advertiser": acme}, {"publisher": pixelpush}, {"publisher": mine}):
        manager.account_assignments.create(**account)

    theirs, body = _waiting(manager)
    assert (theirs.publishers_pending, theirs.access_pending, theirs.held) == (1, 1, 2)
    assert (theirs.invoices_unpaid, theirs.invoices_overdue, theirs.postbacks_failed) == (1, 1, 3)
    assert '<div class="value" data-waiting="held">2</div>' in body

    every, body = _waiting(nadia)
    # Three pending publishers (one per _items and the manager's), both accesses, all held.
    assert (every.publishers_pending, every.access_pending, every.held) == (3, 2, 3)
    assert (every.invoices_unpaid, every.invoices_overdue, every.postbacks_failed) == (2, 2, 4)
    assert '<div class="value" data-waiting="postbacks">4</div>' in body
