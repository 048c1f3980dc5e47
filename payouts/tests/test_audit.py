"""The audit log of money: commission status changes (by people, the hold job and
reconciliation), payout runs and payouts, postback endpoints; each tenant reads only its own,
and commission creation by reconciliation writes no entry (it is already an event)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from affiliates.models import AuditEntry, Publisher
from affiliates.offer_targets import OfferTarget
from affiliates.roles import actor_for
from payouts.adjustments import adjustments_apply
from payouts.models import Commission, Payout, PayoutRun
from payouts.models.callbacks import CallbackEndpoint
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.reconcile import conversions_reconcile
from payouts.services import commissions_approve_due
from payouts.tests.factories_payouts import approve_balance, mid
from payouts.tests.helpers import convert
from tracking.conversions.status import conversion_status_change
from tracking.lifecycle import Decider, Party

IP = "198.51.100.23"
JAN = date(2024, 1, 1)


def entries_of(model: type, **filters: Any) -> list[AuditEntry]:
    ct = ContentType.objects.get_for_model(model)
    return list(AuditEntry.objects.filter(content_type=ct, **filters).order_by("id"))


@pytest.fixture
def commissions(shoes, shoes_link, pixelpush, rival) -> dict[str, Commission]:
    convert(shoes, pixelpush, amount="200", txn_id="ORD-1")
    convert(shoes, pixelpush, goal="lead", txn_id="LEAD-1")
    convert(shoes, rival, goal="lead", txn_id="LEAD-2")
    conversions_reconcile()
    return {c.conversion.txn_id: c for c in Commission.objects.select_related("conversion")}


def test_reconciliation_creates_commissions_without_an_entry_each(commissions) -> None:
    assert len(commissions) == 3
    assert entries_of(Commission) == []


def test_an_advertiser_approving_a_commission_is_logged_with_user_address_and_status(
    commissions, ada, api_as
) -> None:
    pk = commissions["ORD-1"].pk
    response = api_as(ada).post(
        f"/api/v1/commissions/{pk}/approve/", {"reason": "shipped"}, format="json", REMOTE_ADDR=IP
    )
    assert response.status_code == 200, response.json()

    (entry,) = entries_of(Commission, object_id=pk)
    assert entry.actor == ada
    assert entry.remote_addr == IP
    assert entry.changes["status"] == ["pending", "approved"]
    assert entry.changes["status_reason"][1] == "shipped"
    assert (entry.advertiser_id, entry.publisher_id) == (commissions["ORD-1"].advertiser_id,
                                                          commissions["ORD-1"].publisher_id)  # fmt: skip


def test_the_hold_job_logs_its_approvals_with_no_actor_in_one_insert(commissions) -> None:
    Commission.objects.update(hold_until=timezone.now() - timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        approved = commissions_approve_due()
    assert approved == 3

    entries = entries_of(Commission)
    assert len(entries) == 3
    assert {(e.actor_id, e.remote_addr, e.source) for e in entries} == {(None, None, "hold job")}
    assert {e.changes["status"][1] for e in entries} == {"approved"}
    inserts = [
        q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "affiliates_auditentry"')
    ]
    assert len(inserts) == 1


def test_an_advertiser_postback_status_update_reaches_the_log_through_reconciliation(
    commissions, acme
) -> None:
    conversion = commissions["ORD-1"].conversion
    decider = Decider(Party.ADVERTISER, f"advertiser:{acme.pk}")
    assert conversion_status_change(conversion=conversion, to_status="rejected", decider=decider).allowed
    conversions_reconcile()

    (entry,) = entries_of(Commission, object_id=commissions["ORD-1"].pk)
    assert entry.actor is None
    assert entry.source == f"advertiser:{acme.pk}"
    assert entry.changes["status"] == ["pending", "rejected"]


def test_a_commission_entry_shows_revenue_to_the_advertiser_and_payout_to_the_publisher_only(
    commissions, ada, pia, rex, nadia, api_as
) -> None:
    # ORD-1 was a 200 sale at 8% / 12%; the advertiser says it was 100: both amounts change.
    adjustments_apply(text="txn_id,status,amount,reason\nORD-1,,100,partial refund\n", actor=actor_for(ada))
    entry = entries_of(Commission, object_id=commissions["ORD-1"].pk)[-1]
    assert entry.actor is None  # a service call outside a request: no one to name
    assert set(entry.changes) == {"revenue", "payout"}

    def fields(user: Any) -> set[str]:
        rows = api_as(user).get("/api/v1/audit-log/", {"object_type": "commission"}).json()["results"]
        return {c["field"] for r in rows for c in r["changes"]}

    assert fields(ada) == {"revenue"}
    assert fields(pia) == {"payout"}
    assert fields(rex) == set()  # not its commission
    assert {"revenue", "payout"} <= fields(nadia)


@pytest.fixture
def jan_run(pixelpush: Publisher, rival: Publisher) -> PayoutRun:
    approve_balance(pixelpush, "120.00", at=mid(JAN))
    approve_balance(rival, "80.00", at=mid(JAN))
    run, _ = payout_run_start(period=JAN)
    payout_run_build(run_id=run.pk)
    return run


def test_a_payout_run_logs_its_build_approval_payment_and_failure(
    jan_run, pixelpush, rival, nadia, api_as
) -> None:
    client = api_as(nadia)
    assert client.post(f"/api/v1/payout-runs/{jan_run.pk}/approve/", REMOTE_ADDR=IP).status_code == 200
    mine = Payout.objects.get(run=jan_run, publisher=pixelpush)
    theirs = Payout.objects.get(run=jan_run, publisher=rival)
    paid = client.post(f"/api/v1/payouts/{mine.pk}/mark-paid/", {"reference": "BANK-1"}, format="json")
    assert paid.status_code == 200, paid.json()
    failed = client.post(f"/api/v1/payouts/{theirs.pk}/fail/", {"reason": "bounced"}, format="json")
    assert failed.status_code == 200, failed.json()

    run_statuses = [e.changes["status"] for e in entries_of(PayoutRun, object_id=jan_run.pk)]
    assert run_statuses == [
        ["None", "building"],
        ["building", "draft"],
        ["draft", "approved"],
        ["approved", "paid"],
    ]
    approval = entries_of(PayoutRun, object_id=jan_run.pk)[2]
    assert (approval.actor, approval.remote_addr) == (nadia, IP)
    mine_log = entries_of(Payout, object_id=mine.pk)
    assert [e.action for e in mine_log] == [AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE,
                                             AuditEntry.Action.UPDATE]  # fmt: skip
    assert mine_log[2].changes["status"] == ["approved", "paid"]
    assert mine_log[2].changes["payment_reference"] == ["", "BANK-1"]
    assert entries_of(Payout, object_id=theirs.pk)[-1].changes["status"] == ["approved", "failed"]


def test_a_publisher_reads_its_payouts_entries_and_not_anothers(jan_run, pixelpush, pia, ada, api_as) -> None:
    rows = api_as(pia).get("/api/v1/audit-log/", {"object_type": "payout"}).json()["results"]
    assert {r["object_id"] for r in rows} == {Payout.objects.get(run=jan_run, publisher=pixelpush).pk}
    assert api_as(ada).get("/api/v1/audit-log/", {"object_type": "payout"}).json()["results"] == []
    assert api_as(pia).get("/api/v1/audit-log/", {"object_type": "payout run"}).json()["results"] == []


def test_a_postback_endpoint_is_logged_for_its_publisher_only(pixelpush, pia, rex, api_as) -> None:
    body = {"url": "https://track.pixelpush.example/pb?c={click_id}", "events": ["created"]}
    created = api_as(pia).post("/api/v1/postback-endpoints/", body, format="json", REMOTE_ADDR=IP)
    assert created.status_code == 201, created.json()

    (entry,) = entries_of(CallbackEndpoint)
    assert (entry.actor, entry.remote_addr, entry.publisher_id) == (pia, IP, pixelpush.pk)
    rows = api_as(pia).get("/api/v1/audit-log/", {"object_type": "postback endpoint"}).json()["results"]
    assert [r["object_id"] for r in rows] == [created.json()["id"]]
    assert api_as(rex).get("/api/v1/audit-log/", {"object_type": "postback endpoint"}).json()["results"] == []


def test_an_offer_target_is_logged_for_its_advertiser(shoes, ada, gus, api_as) -> None:
    target = OfferTarget.objects.create(offer=shoes, conversions=100)
    target.conversions = 150
    target.save()
    rows = api_as(ada).get("/api/v1/audit-log/", {"object_type": "offer target"}).json()["results"]
    assert [r["action"] for r in rows] == ["update", "create"]
    assert rows[0]["changes"] == [{"field": "conversions", "before": "100", "after": "150"}]
    assert api_as(gus).get("/api/v1/audit-log/", {"object_type": "offer target"}).json()["results"] == []
