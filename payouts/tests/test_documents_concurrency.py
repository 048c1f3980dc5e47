"""Issuing documents from many threads at once on PostgreSQL: numbers stay gap-free and unique,
and one advertiser asked twice at once still gets one invoice."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections

from affiliates.models import Advertiser
from affiliates.tests.factories import AdvertiserFactory, GoalFactory, OfferFactory
from payouts.documents import invoice_issue
from payouts.models import Document
from payouts.tests.factories_payouts import CommissionFactory
from payouts.tests.test_documents import JAN, issuer  # noqa: F401 (issuer: autouse fixture)


def _issue(advertiser_id: int, errors: list[BaseException]) -> None:
    try:
        invoice_issue(advertiser=Advertiser.objects.get(pk=advertiser_id), period=JAN)
    except BaseException as exc:  # reported to the test thread
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_number_invoices_without_gaps_or_duplicates() -> None:
    advertisers = AdvertiserFactory.create_batch(6)
    for advertiser in advertisers:
        offer = OfferFactory(advertiser=advertiser)
        CommissionFactory(
            offer=offer, goal=GoalFactory(offer=offer), day=date(2024, 1, 9), revenue=Decimal("5")
        )
    targets = [a.pk for a in advertisers] + [advertisers[0].pk, advertisers[1].pk]  # two asked twice
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_issue, args=(pk, errors)) for pk in targets]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert connection.vendor == "postgresql"
    assert errors == []
    numbers = sorted(Document.objects.filter(kind="invoice").values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert Document.objects.filter(advertiser=advertisers[0]).count() == 1
