"""Webhook event payloads, as each kind of subscriber may see them.

The same rules as the API and the conversion trace (tracking/conversions/trace_view.py):
publishers never see revenue (what the network earns) nor customer ids; advertisers never see
the publisher's payout; visitor addresses and user agents go to the network only. A payload is
built per owner kind, so a field a role may not see is never in its body at all.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from affiliates.core.money import money_round
from payouts.models import Commission, Document, Payout
from tracking.models import Click, Conversion

NETWORK, ADVERTISER, PUBLISHER = "network", "advertiser", "publisher"
Payload = dict[str, Any]


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(amount: Decimal | None, currency: str) -> str | None:
    return str(money_round(amount, currency)) if amount is not None else None


def _subs(row: Any) -> Payload:
    return {f"sub{i}": getattr(row, f"sub{i}") for i in range(1, 6)}


def click_payload(click: Click, owner: str) -> Payload:
    data: Payload = {
        "id": click.id.hex,
        "created_at": _iso(click.created_at),
        "offer_id": click.offer_id,
        "publisher_id": click.publisher_id,
        "country": click.country,
        "device": click.device,
        "os": click.os,
        "source": click.source,
        **_subs(click),
        "is_unique": click.is_unique,
        "reason": click.reason,
        "fraud_flags": click.fraud_flags,
    }
    if owner == NETWORK:
        data |= {"ip": click.ip, "user_agent": click.user_agent}
    return data


def conversion_payload(conversion: Conversion, owner: str) -> Payload:
    data: Payload = {
        "id": conversion.pk,
        "created_at": _iso(conversion.created_at),
        "offer_id": conversion.offer_id,
        "publisher_id": conversion.publisher_id,
        "goal": conversion.goal.code if conversion.goal is not None else None,
        "click_id": conversion.click_id.hex if conversion.click_id else None,
        "txn_id": conversion.txn_id,
        "status": conversion.status,
        "reason": conversion.reason,
        "amount": str(conversion.amount) if conversion.amount is not None else None,
        "currency": conversion.currency,
        "country": conversion.country,
        "source_id": conversion.source_id,
        **_subs(conversion),
    }
    if owner != PUBLISHER:
        data["customer_hash"] = conversion.customer_hash
    return data


def commission_payload(commission: Commission, owner: str) -> Payload:
    data: Payload = {
        "id": commission.pk,
        "kind": commission.kind,
        "conversion_id": commission.conversion_id,
        "offer_id": commission.offer_id,
        "publisher_id": commission.publisher_id,
        "goal": commission.goal.code if commission.goal is not None else None,
        "day": _iso(commission.day),
        "quantity": commission.quantity,
        "status": commission.status,
        "currency": commission.currency,
        "created_at": _iso(commission.created_at),
        "approved_at": _iso(commission.approved_at),
        "reversed_at": _iso(commission.reversed_at),
    }
    if owner in (NETWORK, PUBLISHER):
        data["payout"] = _money(commission.payout, commission.currency)
    if owner in (NETWORK, ADVERTISER):
        data["revenue"] = _money(commission.revenue, commission.currency)
    return data


def payout_payload(payout: Payout, owner: str) -> Payload:
    return {
        "id": payout.pk,
        "run_id": payout.run_id,
        "publisher_id": payout.publisher_id,
        "period": _iso(payout.period),
        "status": payout.status,
        "amount": _money(payout.amount, payout.currency),
        "currency": payout.currency,
        "payment_reference": payout.payment_reference,
        "paid_at": _iso(payout.paid_at),
    }


def invoice_payload(document: Document, owner: str) -> Payload:
    return {
        "id": document.pk,
        "number": document.number_text,
        "advertiser_id": document.advertiser_id,
        "period": _iso(document.period),
        "issue_date": _iso(document.issue_date),
        "due_date": _iso(document.due_date),
        "totals": document.totals,
        "vat_totals": document.vat_totals,
    }
