"""The payout file of a run: one line per payout to send, for the bank or payment provider."""

from __future__ import annotations

import json

from payouts.exports.tabular import amount_text, csv_bytes
from payouts.models import Payout, PayoutRun

PAYOUT_FILE_HEADER = (
    "payout_id",
    "publisher_id",
    "publisher",
    "email",
    "method",
    "details",
    "amount",
    "currency",
    "payout_amount",
    "payout_currency",
    "fx_rate",
    "status",
    "payment_reference",
)


def payout_file_csv(*, run: PayoutRun) -> bytes:
    """Every payout of the run still to be paid or paid; failed and held ones are not sent.
    ``payout_amount`` in ``payout_currency`` is what the bank sends."""
    payouts = (
        Payout.objects.filter(run=run)
        .exclude(status__in=(Payout.Status.FAILED, Payout.Status.HELD))
        .select_related("publisher")
        .order_by("publisher_id", "currency")
    )
    rows = (
        (
            p.pk,
            p.publisher_id,
            p.publisher.name,
            p.publisher.email,
            p.method,
            json.dumps(p.details, sort_keys=True, ensure_ascii=False),
            amount_text(p.amount, p.currency),
            p.currency,
            amount_text(p.payout_amount, p.payout_currency or p.currency),
            p.payout_currency,
            "" if p.fx_rate is None else str(p.fx_rate.normalize()),
            p.status,
            p.payment_reference,
        )
        for p in payouts.iterator(chunk_size=2000)
    )
    return csv_bytes(PAYOUT_FILE_HEADER, rows)


def payout_file_name(run: PayoutRun) -> str:
    return f"payouts-{run.period:%Y-%m}.csv"
