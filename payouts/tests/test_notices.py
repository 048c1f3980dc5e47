"""The money side's notifications: reversals, payouts, invoices, caps, failing postbacks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from affiliates.models import Cap, Offer, OfferAccess, Publisher
from affiliates.notifications import Kind, Notification
from payouts import events, notices
from payouts.callbacks import services as callbacks
from payouts.models import Document, PayoutRun
from payouts.models.callbacks import CallbackDelivery
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.payout_runs import payout_mark_paid, payout_run_approve
from payouts.tests.callback_server import Recorder
from payouts.tests.factories_callbacks import CallbackEndpointFactory, ConversionFactory
from payouts.tests.factories_payouts import CommissionFactory, approve_balance, mid
from tracking.conversions.caps import period_start
from tracking.models import CapCounter

pytestmark = pytest.mark.django_db
JAN = date(2024, 1, 1)


def _kinds(user: Any) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_a_reversal_tells_the_publisher_which_conversions_and_what_they_paid(
    shoes: Offer, pixelpush: Publisher, pia: Any, ada: Any, django_capture_on_commit_callbacks: Any
) -> None:
    commission = CommissionFactory(
        conversion=ConversionFactory(goal=shoes.goals.get(code="sale"), publisher=pixelpush),
        status="reversed",
    )
    with django_capture_on_commit_callbacks(execute=True):
        events.commissions_changed(event=events.REVERSED, commission_ids=[commission.pk])
    note = Notification.objects.get(recipient=pia)
    assert note.kind == Kind.CONVERSION_REVERSED
    assert note.title == f"1 conversion(s) reversed on {shoes.name}"
    assert f"Conversion {commission.conversion_id} on {shoes.name}: 10.00 USD" in note.body
    assert _kinds(ada) == []  # the advertiser reversed it
    assert [m.to for m in mail.outbox] == [["pia@example.com"]]


def test_approving_and_paying_a_run_tells_each_publisher_its_own_amount(
    pixelpush: Publisher,
    rival: Publisher,
    pia: Any,
    rex: Any,
    nadia: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    approve_balance(pixelpush, "120.00", at=mid(JAN))
    approve_balance(rival, "80.00", at=mid(JAN))
    run, _ = payout_run_start(period=JAN)
    payout_run_build(run_id=run.pk)
    run.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        payout_run_approve(run=run, user=nadia)
        payout_run_approve(run=run, user=nadia)  # repeated: told once
    assert Notification.objects.get(recipient=pia).title == "Payout approved: 120.00 USD"
    assert Notification.objects.get(recipient=rex).title == "Payout approved: 80.00 USD"
    assert Notification.objects.get(recipient=nadia).title == "Payout run 2024-01 approved"
    payout = run.payouts.get(publisher=pixelpush)
    with django_capture_on_commit_callbacks(execute=True):
        payout_mark_paid(payout=payout, reference="SEPA-42")
    paid = Notification.objects.filter(recipient=pia, kind=Kind.PAYOUT_PAID).get()
    assert "SEPA-42" in paid.body
    assert any(m.subject == "Payout sent: 120.00 USD" and m.to == ["pia@example.com"] for m in mail.outbox)
    assert PayoutRun.objects.get(pk=run.pk).status == PayoutRun.Status.APPROVED


def test_an_overdue_invoice_is_announced_once_while_the_advertiser_owes(
    acme: Any, ada: Any, nadia: Any, monkeypatch: Any
) -> None:
    today = timezone.now().date()
    invoice = Document.objects.create(
        kind=Document.Kind.INVOICE,
        issuer_key="NET",
        series="INV",
        number=7,
        advertiser=acme,
        period=JAN,
        issue_date=today - timedelta(days=40),
        due_date=today - timedelta(days=10),
        issuer={},
        customer={},
        totals={"USD": "150.00"},
        vat_treatment="unknown",
        vat_totals={},
    )
    monkeypatch.setattr(notices, "advertiser_balances", lambda advertiser_id: {"USD": Decimal("150.00")})
    assert notices.invoices_overdue_notify() == 2  # ada and staff
    assert notices.invoices_overdue_notify() == 0
    note = Notification.objects.get(recipient=ada)
    assert (note.kind, note.title) == (Kind.INVOICE_OVERDUE, f"Invoice {invoice.number_text} is overdue")
    monkeypatch.setattr(notices, "advertiser_balances", lambda advertiser_id: {"USD": Decimal("0.00")})
    Notification.objects.all().delete()
    assert notices.invoices_overdue_notify() == 0  # paid: nothing to say


def test_a_cap_is_announced_at_80_percent_and_again_when_reached(
    shoes: Offer, shoes_link: OfferAccess, ada: Any, pia: Any, rex: Any
) -> None:
    cap = Cap.objects.create(offer=shoes, metric="conversions", period="day", limit=Decimal("10"))
    now = timezone.now()
    counter = CapCounter.objects.create(
        cap=cap, period_start=period_start("day", now), scope_key="offer", used=7
    )
    assert notices.caps_notify(now=now) == 0
    CapCounter.objects.filter(pk=counter.pk).update(used=8)
    notices.caps_notify(now=now)
    notices.caps_notify(now=now)
    assert _kinds(ada) == [Kind.CAP_NEAR]
    assert _kinds(pia) == [Kind.CAP_NEAR]  # running the offer
    assert _kinds(rex) == []
    CapCounter.objects.filter(pk=counter.pk).update(used=10)
    notices.caps_notify(now=now)
    assert sorted(_kinds(ada)) == [Kind.CAP_NEAR, Kind.CAP_REACHED]
    assert "reached" in Notification.objects.get(recipient=pia, kind=Kind.CAP_REACHED).title


def test_a_postback_given_up_tells_its_publisher_once_a_day(
    settings: Any, server: Recorder, pixelpush: Publisher, pia: Any, shoes: Offer
) -> None:
    CallbackEndpointFactory(publisher=pixelpush, url=server.base_url + "/pb?c={click_id}")
    for _ in range(2):
        commission = CommissionFactory(
            conversion=ConversionFactory(goal=shoes.goals.get(code="sale"), publisher=pixelpush)
        )
        callbacks.callbacks_fire(commission_ids=[commission.pk], event="created")
    for delivery in CallbackDelivery.objects.all():
        server.reply(404, "no such page")
        # Its last chance: the retry window has closed.
        CallbackDelivery.objects.filter(pk=delivery.pk).update(
            give_up_at=timezone.now() + timedelta(seconds=1)
        )
        callbacks.delivery_attempt(delivery_id=delivery.pk)
    assert set(CallbackDelivery.objects.values_list("status", flat=True)) == {"failed"}
    note = Notification.objects.get(recipient=pia)
    assert note.kind == Kind.POSTBACK_FAILING
    assert "HTTP 404" in note.body
