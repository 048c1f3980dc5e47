"""One set of status rules, whoever asks (tracking.lifecycle): postbacks, the API and bulk
actions, CSV adjustments, the portals, the admin and the hold job, on conversions and
commissions alike, with the database refusing what the rules refuse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from affiliates.roles import actor_for
from affiliates.tests.signin import sign_in
from payouts.models import Commission, Transaction
from payouts.reconcile import conversions_reconcile
from payouts.services import BulkRefused, commissions_approve_due, commissions_set_status
from payouts.tests.helpers import every_transaction_balances
from tracking.lifecycle import HOLD_JOB, Decider, Party, transition_check
from tracking.models import Conversion, ConversionEvent
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _network(shoes_link: Any) -> None:
    """pixelpush runs acme's shoes offer."""


def _sale(edge: Any, shoes: Any, pixelpush: Any, txn_id: str, **extra: Any) -> Commission:
    """A sale posted through the edge, reconciled into its commission."""
    click = click_make(shoes, pixelpush)
    body = postback(edge, click_id=click.id.hex, amount="100.00", txn_id=txn_id, **extra).json()
    assert body["result"] == "accepted", body
    conversions_reconcile()
    return Commission.objects.get(conversion_id=body["conversion_id"])


def _held(commission: Commission) -> Commission:
    """Hold a commission and its conversion for review, as the fraud rules do at recording."""
    Conversion.objects.filter(pk=commission.conversion_id).update(held_for_review=True)
    conversions_reconcile()
    commission.refresh_from_db()
    assert commission.held_for_review
    return commission


def _txns(commission: Commission) -> int:
    return Transaction.objects.filter(commission=commission).count()


# -- the rules themselves ------------------------------------------------------------------

ADVERTISER = Decider(Party.ADVERTISER, "advertiser:1")
NETWORK = Decider(Party.NETWORK, "staff:1")


@pytest.mark.parametrize(
    ("from_status", "to_status", "held", "decider", "code"),
    [
        ("pending", "approved", False, ADVERTISER, ""),
        ("pending", "approved", True, ADVERTISER, "held_for_review"),
        ("pending", "approved", True, NETWORK, ""),
        ("pending", "approved", True, HOLD_JOB, "held_for_review"),
        ("pending", "rejected", True, ADVERTISER, ""),
        ("pending", "reversed", False, ADVERTISER, ""),
        ("approved", "reversed", False, ADVERTISER, ""),
        ("approved", "rejected", False, NETWORK, "invalid_transition"),
        ("approved", "pending", False, NETWORK, "invalid_transition"),
        ("rejected", "approved", False, ADVERTISER, "status_final"),
        ("rejected", "approved", False, NETWORK, "status_final"),
        ("reversed", "pending", False, NETWORK, "status_final"),
        ("pending", "rejected", False, HOLD_JOB, "invalid_transition"),
        ("pending", "paid", False, NETWORK, "bad_status"),
    ],
)
def test_the_rules(from_status: str, to_status: str, held: bool, decider: Decider, code: str) -> None:
    verdict = transition_check(from_status=from_status, to_status=to_status, held=held, decider=decider)
    assert verdict.code == code
    assert verdict.allowed is (code == "")


def test_a_network_decision_is_named_as_such_to_the_advertiser() -> None:
    verdict = transition_check(
        from_status="rejected", to_status="approved", held=False, decider=ADVERTISER, decided_by_network=True
    )
    assert verdict.code == "network_decision"


# -- every path asks them -------------------------------------------------------------------


def test_staff_fraud_rejection_outranks_the_advertisers_feed(edge, shoes, pixelpush, nadia) -> None:
    c = _sale(edge, shoes, pixelpush, "F-1")
    commissions_set_status(commission_ids=[c.pk], status="rejected", reason="fraud", actor=actor_for(nadia))
    before = _txns(c)
    body = postback(edge, txn_id="F-1", status="approved").json()
    assert (body["result"], body["reason"], body["status"]) == ("rejected", "network_decision", "rejected")
    conversions_reconcile()
    c.refresh_from_db()
    assert (c.status, c.status_by) == ("rejected", f"staff:{nadia.pk}")
    assert _txns(c) == before  # nothing posted: nothing paid
    assert Conversion.objects.get(pk=c.conversion_id).status == "rejected"
    assert every_transaction_balances()


def test_an_advertisers_own_rejection_is_final_too(edge, shoes, pixelpush, ada) -> None:
    c = _sale(edge, shoes, pixelpush, "F-2")
    commissions_set_status(
        commission_ids=[c.pk], status="rejected", reason="test order", actor=actor_for(ada)
    )
    body = postback(edge, txn_id="F-2", status="approved").json()
    assert (body["result"], body["reason"]) == ("rejected", "status_final")


def test_approved_money_is_reversed_not_rejected(edge, shoes, pixelpush) -> None:
    c = _sale(edge, shoes, pixelpush, "F-3")
    assert postback(edge, txn_id="F-3", status="approved").json()["result"] == "updated"
    body = postback(edge, txn_id="F-3", status="rejected").json()
    assert (body["result"], body["reason"], body["status"]) == ("rejected", "invalid_transition", "approved")
    assert postback(edge, txn_id="F-3", status="pending").json()["reason"] == "invalid_transition"
    assert postback(edge, txn_id="F-3", status="reversed").json()["result"] == "updated"
    conversions_reconcile()
    c.refresh_from_db()
    assert (c.status, c.status_by) == ("reversed", f"advertiser:{c.advertiser_id}")


def test_the_api_single_and_bulk_actions_ask_the_rules(edge, shoes, pixelpush, nadia, ada, api_as) -> None:
    a = _sale(edge, shoes, pixelpush, "A-1")
    b = _sale(edge, shoes, pixelpush, "A-2")
    staff, adv = api_as(nadia), api_as(ada)
    assert staff.post(f"/api/v1/commissions/{a.pk}/reject/", {"reason": "fraud"}).status_code == 200
    refused = adv.post(f"/api/v1/commissions/{a.pk}/approve/", {"reason": "ok"})
    assert (refused.status_code, refused.json()["code"]) == (409, "network_decision")
    bulk = adv.post(
        "/api/v1/commissions/bulk/", {"ids": [a.pk, b.pk], "action": "approve", "reason": "ok"}, format="json"
    )
    assert bulk.status_code == 400  # a bulk refusal lists each row's reason
    assert {e["code"] for e in bulk.json()["errors"]} == {"network_decision"}
    b.refresh_from_db()
    assert b.status == "pending"  # all or none
    # Asking twice for what already is: no error, and nothing posted twice.
    assert staff.post(f"/api/v1/commissions/{b.pk}/approve/", {"reason": "ok"}).status_code == 200
    posted = _txns(b)
    again = staff.post(f"/api/v1/commissions/{b.pk}/approve/", {"reason": "ok"})
    assert (again.status_code, again.json()["status"]) == (200, "approved")
    assert _txns(b) == posted


def test_csv_adjustments_ask_the_rules(edge, shoes, pixelpush, nadia, ada, api_as) -> None:
    c = _sale(edge, shoes, pixelpush, "CSV-1")
    commissions_set_status(commission_ids=[c.pk], status="rejected", reason="fraud", actor=actor_for(nadia))
    csv = "txn_id,status,reason\nCSV-1,approved,late confirmation\n"
    response = api_as(ada).post(
        "/api/v1/commissions/adjustments/",
        {"file": SimpleUploadedFile("adj.csv", csv.encode(), content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert [e["code"] for e in response.json()["errors"]] == ["network_decision"]
    c.refresh_from_db()
    assert c.status == "rejected"


def test_the_admin_asks_the_rules(edge, shoes, pixelpush, nadia) -> None:
    c = _sale(edge, shoes, pixelpush, "ADM-1")
    nadia.is_superuser = True
    nadia.save()
    admin = Client()
    sign_in(admin, nadia)
    url = reverse("admin:tracking_conversion_changelist")
    admin.post(url, {"action": "reject", "_selected_action": [c.conversion_id]})
    assert Conversion.objects.get(pk=c.conversion_id).status == "rejected"
    admin.post(url, {"action": "approve_now", "_selected_action": [c.conversion_id]})
    assert Conversion.objects.get(pk=c.conversion_id).status == "rejected"
    conversions_reconcile()
    c.refresh_from_db()
    assert (c.status, c.status_by) == ("rejected", f"staff:{nadia.pk}")
    # Then the advertiser's feed is told it was the network's decision.
    body = postback(edge, txn_id="ADM-1", status="approved").json()
    assert body["reason"] == "network_decision"


def test_a_held_conversion_is_not_approved_by_the_advertiser_or_the_hold(edge, shoes, pixelpush) -> None:
    c = _held(_sale(edge, shoes, pixelpush, "H-1"))
    body = postback(edge, txn_id="H-1", status="approved").json()
    assert (body["result"], body["reason"]) == ("rejected", "held_for_review")
    Commission.objects.filter(pk=c.pk).update(hold_until=timezone.now() - timedelta(days=1))
    assert commissions_approve_due() == 0


def test_staff_release_lifts_the_hold_but_not_the_hold_period(edge, shoes, pixelpush, nadia) -> None:
    c = _held(_sale(edge, shoes, pixelpush, "R-1"))
    Commission.objects.filter(pk=c.pk).update(hold_until=timezone.now() + timedelta(days=3))
    portal = Client()
    sign_in(portal, nadia)
    response = portal.post(
        reverse("payouts_portal:set-status"), {"ids": [c.conversion_id], "action": "release", "reason": ""}
    )
    # First the confirm page says what release does, and changes nothing.
    assert response.status_code == 200
    text = response.content.decode()
    assert "they stay pending, nothing is paid now" in text
    assert "hold period still runs" in text
    assert "choose Approve now" in text
    assert Commission.objects.get(pk=c.pk).held_for_review
    response = portal.post(
        reverse("payouts_portal:set-status"),
        {"ids": [c.conversion_id], "action": "release", "reason": "", "confirming": "1", "confirm": "yes"},
    )
    assert response.status_code == 302
    c.refresh_from_db()
    conversion = Conversion.objects.get(pk=c.conversion_id)
    assert (c.status, c.held_for_review) == ("pending", False)
    assert (conversion.status, conversion.held_for_review) == ("pending", False)
    event = ConversionEvent.objects.filter(conversion=conversion).last()
    assert event is not None
    assert (event.actor, event.from_status, event.to_status) == (f"staff:{nadia.pk}", "pending", "pending")
    assert commissions_approve_due() == 0  # the hold period still runs
    assert commissions_approve_due(now=timezone.now() + timedelta(days=4)) == 1
    # Reconciliation changes nothing more: the commission already is where its conversion is.
    conversions_reconcile()
    c.refresh_from_db()
    assert (c.status, c.status_by) == ("approved", "hold")


def test_after_a_release_the_advertiser_decides_again(edge, shoes, pixelpush, nadia, api_as) -> None:
    c = _held(_sale(edge, shoes, pixelpush, "R-2"))
    released = api_as(nadia).post(f"/api/v1/commissions/{c.pk}/release/", {"reason": "looks fine"})
    assert released.status_code == 200, released.content
    assert (released.json()["status"], released.json()["held_for_review"]) == ("pending", False)
    assert postback(edge, txn_id="R-2", status="approved").json()["result"] == "updated"
    conversions_reconcile()
    c.refresh_from_db()
    assert c.status == "approved"


def test_only_staff_release_and_approve_now_is_an_explicit_choice(edge, shoes, pixelpush, nadia, ada, api_as):
    c = _held(_sale(edge, shoes, pixelpush, "R-3"))
    refused = api_as(ada).post(f"/api/v1/commissions/{c.pk}/release/", {"reason": "mine"})
    assert refused.status_code == 403
    portal = Client()
    sign_in(portal, nadia)
    portal.post(
        reverse("payouts_portal:set-status"),
        {"ids": [c.conversion_id], "action": "approved", "reason": "ok"},
    )
    c.refresh_from_db()
    assert (c.status, c.held_for_review, c.status_by) == ("approved", False, f"staff:{nadia.pk}")


def test_the_database_refuses_unlawful_status_updates(edge, shoes, pixelpush, nadia) -> None:
    c = _sale(edge, shoes, pixelpush, "DB-1")
    commissions_set_status(commission_ids=[c.pk], status="rejected", reason="fraud", actor=actor_for(nadia))
    with pytest.raises(DatabaseError), transaction.atomic():
        Commission.objects.filter(pk=c.pk).update(status="approved")
    with pytest.raises(DatabaseError), transaction.atomic():
        Conversion.objects.filter(pk=c.conversion_id).update(status="pending")
    with pytest.raises(BulkRefused):
        commissions_set_status(commission_ids=[c.pk], status="approved", reason="x", actor=actor_for(nadia))
    c.refresh_from_db()
    assert c.status == "rejected"


def test_history_starts_with_creation_and_carries_who_when_why(edge, shoes, pixelpush, nadia) -> None:
    before = timezone.now()
    c = _sale(edge, shoes, pixelpush, "EV-1")
    commissions_set_status(commission_ids=[c.pk], status="approved", reason="checked", actor=actor_for(nadia))
    events = list(ConversionEvent.objects.filter(conversion_id=c.conversion_id).order_by("created_at", "id"))
    assert [(e.from_status, e.to_status, e.actor) for e in events] == [
        ("", "pending", "postback"),
        ("pending", "approved", f"staff:{nadia.pk}"),
    ]
    assert events[1].reason == "checked"
    assert all(e.created_at >= before - timedelta(minutes=10) for e in events)
    c.refresh_from_db()
    assert (c.status_reason, c.status_by) == ("checked", f"staff:{nadia.pk}")
