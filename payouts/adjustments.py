"""CSV upload of conversion adjustments: ``txn_id, status, amount, reason`` (+ optional ``offer_id``).

Advertisers send these at month end ("these 40 orders were returned, this one was 80 not 120").
The whole file is validated first and every bad row is reported with its line number; if any
row is bad NOTHING is applied, so a corrected re-upload never double-applies the good half.

- ``status``: approved, rejected or reversed (or empty to keep the status);
- ``amount``: the new sale amount of a CPS conversion, in the currency it was reported in; the
  commission is re-priced from it (same goal or custom payout, same FX rate) and the difference
  is posted as an ADJUSTMENT;
- ``reason``: required, kept on the commission and the conversion event.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from affiliates.core.db import db_id
from affiliates.core.money import money_round, parse_amount
from affiliates.models import CustomPayout, Goal, Offer
from affiliates.pricing import price_pick
from affiliates.roles import Actor
from payouts.models import Commission
from payouts.postings import Change, commissions_lock
from payouts.reconcile import transition_kind
from payouts.services import (
    ACTION_STATUSES,
    BulkRefused,
    RowError,
    changes_commit,
    commission_verdict,
    commissions_for_actor,
)
from tracking.lifecycle import Decider, decider_for
from tracking.models import Conversion

MAX_ROWS = 50_000
REQUIRED = {"txn_id", "reason"}


@dataclass
class Row:
    line: int
    txn_id: str
    offer_id: int | None
    status: str
    amount: Decimal | None
    reason: str


def _parse(text: str) -> tuple[list[Row], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text))
    header = {h.strip().lower() for h in (reader.fieldnames or [])}
    if not header >= REQUIRED or not ({"status", "amount"} & header):
        return [], [RowError("1", "bad_header", "Columns needed: txn_id, status and/or amount, reason.")]
    rows, errors, seen = [], [], set()
    for n, raw in enumerate(reader, start=2):
        if n - 1 > MAX_ROWS:
            errors.append(RowError(str(n), "too_many_rows", f"At most {MAX_ROWS} rows per file."))
            break
        data = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        row_errors = []
        status = data.get("status", "").lower()
        if status and status not in ACTION_STATUSES:
            row_errors.append(
                RowError(str(n), "bad_status", "status must be approved, rejected or reversed.")
            )
        try:
            amount = parse_amount(data.get("amount") or None)
        except ValueError:
            amount = None
            row_errors.append(RowError(str(n), "bad_amount", "amount must be a non-negative decimal."))
        offer_raw = data.get("offer_id", "")
        if offer_raw and db_id(offer_raw) is None:
            row_errors.append(RowError(str(n), "bad_offer_id", "offer_id must be a number."))
        if not data.get("txn_id"):
            row_errors.append(RowError(str(n), "txn_id_required", "txn_id is required."))
        if not data.get("reason"):
            row_errors.append(RowError(str(n), "reason_required", "reason is required."))
        if not status and amount is None and not row_errors:
            row_errors.append(RowError(str(n), "nothing_to_do", "Give a new status or a new amount."))
        ident = (data.get("txn_id"), offer_raw)
        if ident in seen:
            row_errors.append(RowError(str(n), "duplicate_row", "This txn_id appears twice in the file."))
        seen.add(ident)
        errors.extend(row_errors)
        if not row_errors:
            rows.append(
                Row(
                    n,
                    data["txn_id"],
                    int(offer_raw) if offer_raw else None,
                    status,
                    amount,
                    data["reason"][:255],
                )
            )
    return rows, errors


def _find(rows: list[Row], actor: Actor) -> tuple[dict[int, Commission], list[RowError]]:
    """Locate each row's commission (within the actor's scope) and lock them all."""
    convs = (
        Conversion.objects.filter(txn_id__in={r.txn_id for r in rows}, commission__isnull=False)
        .filter(commission__in=commissions_for_actor(actor))
        .values_list("txn_id", "offer_id", "commission__id")
    )
    index: dict[str, list[tuple[int, int]]] = {}
    for txn_id, offer_id, commission_id in convs:
        index.setdefault(txn_id, []).append((offer_id, commission_id))
    found: dict[int, int] = {}
    errors = []
    for r in rows:
        matches = [cid for oid, cid in index.get(r.txn_id, []) if r.offer_id in (None, oid)]
        if not matches:
            errors.append(RowError(str(r.line), "not_found", f"No commission for txn_id {r.txn_id!r}."))
        elif len(matches) > 1:
            errors.append(
                RowError(str(r.line), "ambiguous_txn_id", "Several offers have this txn_id: add offer_id.")
            )
        else:
            found[r.line] = matches[0]
    locked = {c.pk: c for c in commissions_lock(set(found.values()))}
    return {line: locked[cid] for line, cid in found.items()}, errors


def _repriced(c: Commission, amount: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(revenue, payout, converted sale) for a new original-currency sale amount."""
    goal = Goal.objects.get(pk=c.goal_id)
    conversion = Conversion.objects.only("country").get(pk=c.conversion_id or 0)
    customs = list(CustomPayout.objects.filter(offer_id=c.offer_id, publisher_id=c.publisher_id))
    sale = amount * c.fx_rate if c.fx_rate is not None else amount
    price = price_pick(goal=goal, customs=customs, country=conversion.country, sale_amount=sale)
    payout, revenue = price.amounts(sale)
    return money_round(revenue, c.currency), money_round(payout, c.currency), sale


def _amount_error(c: Commission, amount: Decimal) -> tuple[str, str] | None:
    """The postback's sale bounds (tracking.conversions.services.sale_check) for an adjusted
    amount: the currency's minor unit, and the offer's or the network's maximum sale amount."""
    currency = c.original_currency or c.currency
    if money_round(amount, currency) != amount:
        return "bad_amount", f"amount has more decimals than {currency} has."
    offer = Offer.objects.only("max_sale_amount").get(pk=c.offer_id)
    limit = (
        offer.max_sale_amount if offer.max_sale_amount is not None else settings.CONVERSION_MAX_SALE_AMOUNT
    )
    sale = amount * c.fx_rate if c.fx_rate is not None else amount
    if sale > limit:
        return "amount_over_max", f"amount is over the offer's maximum sale amount ({limit} {c.currency})."
    return None


def _change_for(row: Row, c: Commission, goal_type: str, decider: Decider) -> Change | RowError:
    ref = str(row.line)
    status = row.status or c.status
    if status != c.status:
        verdict = commission_verdict(c, status=status, decider=decider)
        if not verdict.allowed:
            return RowError(ref, verdict.code, verdict.message)
    revenue, payout = c.revenue, c.payout
    extra: dict[str, object] = {}
    if status != c.status:  # a network decision settles a fraud review too
        extra["held_for_review"] = c.held_for_review and not decider.is_network
    if row.amount is not None:
        if goal_type != Goal.PayoutType.CPS:
            return RowError(
                ref, "amount_not_applicable", "amount adjusts CPS (percent of sale) commissions only."
            )
        if not c.is_open:
            return RowError(ref, "commission_closed", f"The commission is already {c.status}.")
        insane = _amount_error(c, row.amount)
        if insane is not None:
            return RowError(ref, *insane)
        revenue, payout, sale = _repriced(c, row.amount)
        extra |= {"sale_amount": sale, "original_amount": row.amount}
    if status == c.status and (revenue, payout) == (c.revenue, c.payout):
        return RowError(ref, "no_change", "The commission already has this status and amount.")
    kind = transition_kind(status) if status != c.status else "adjustment"
    memo = f"csv line {row.line}: {row.reason}"[:255]
    return Change(
        commission=c,
        status=status,
        revenue=revenue,
        payout=payout,
        txn_kind=kind,
        reason=row.reason,
        actor=decider.label,
        memo=memo,
        extra=extra,
    )


@transaction.atomic
def adjustments_apply(*, text: str, actor: Actor) -> list[Commission]:
    """Validate the whole file, then apply every row or none. Raises BulkRefused with the
    bad rows by line number."""
    if not (actor.is_staff or actor.is_advertiser):
        raise BulkRefused(
            [RowError("-", "permission_denied", "Only the advertiser or the network can adjust.")]
        )
    rows, errors = _parse(text)
    found, find_errors = _find(rows, actor) if rows else ({}, [])
    errors.extend(find_errors)
    changes: list[Change] = []
    by_commission: dict[int, int] = {}
    goal_types = dict(
        Goal.objects.filter(id__in={c.goal_id for c in found.values()}).values_list("id", "payout_type")
    )
    for row in rows:
        c = found.get(row.line)
        if c is None:
            continue
        if c.pk in by_commission:
            errors.append(
                RowError(str(row.line), "duplicate_row", f"Same commission as line {by_commission[c.pk]}.")
            )
            continue
        by_commission[c.pk] = row.line
        change = _change_for(row, c, goal_types[c.goal_id], decider_for(actor))
        if isinstance(change, RowError):
            errors.append(change)
        else:
            changes.append(change)
    if errors:
        raise BulkRefused(sorted(errors, key=lambda e: db_id(e.ref) or 0))
    now = timezone.now()
    changed = changes_commit(changes, actor=decider_for(actor).label, now=now)
    for ch in changes:
        if "original_amount" in ch.extra:
            Conversion.objects.filter(pk=ch.commission.conversion_id or 0).update(
                amount=ch.extra["original_amount"]
            )
    return changed
