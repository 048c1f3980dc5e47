"""The fraud queue through the one list helper: held pending conversions only, oldest first,
filtered and searched, its CSV the rows shown, and each decision button leading to what it does."""

from __future__ import annotations

from django.test import Client

from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from tests.portal_data import conversion_make
from tracking.tests.factories import click_make


def test_the_fraud_queue_lists_held_conversions_filters_them_and_exports_them(nadia, shoes_link, rival):
    own = click_make(offer=shoes_link.offer, publisher=shoes_link.publisher)
    held = conversion_make(click=own, txn_id="H-1", held=True)
    conversion_make(click=click_make(offer=shoes_link.offer, publisher=shoes_link.publisher), txn_id="OK-1")
    f.OfferAccessFactory(offer=shoes_link.offer, publisher=rival, status="approved")
    other = conversion_make(
        click=click_make(offer=shoes_link.offer, publisher=rival), txn_id="H-2", held=True
    )
    client = Client()
    sign_in(client, nadia)

    table = client.get("/staff/fraud/").context["table"]
    assert [c.pk for c in table.page] == [held.pk, other.pk]
    assert [c.pk for c in client.get(f"/staff/fraud/?publisher={rival.pk}").context["table"].page] == [
        other.pk
    ]
    assert [c.pk for c in client.get("/staff/fraud/?q=H-1").context["table"].page] == [held.pk]
    lines = b"".join(client.get(f"/staff/fraud/?publisher={rival.pk}&format=csv").streaming_content).decode()
    assert lines.splitlines()[0] == "Time (UTC),ID,Offer,Publisher,Flags,Sale,IP / country"
    assert [line.split(",")[1] for line in lines.splitlines()[1:]] == [str(other.pk)]
    assert rival.name in lines
    # Release first says what it does: the hold only, not the hold period or the advertiser's review.
    page = client.post(
        "/advertiser/conversions/status/", {"ids": [held.pk], "action": "release", "next": "/staff/fraud/"}
    )
    assert "they stay pending, nothing is paid now" in page.content.decode()
    held.refresh_from_db()
    assert held.held_for_review
