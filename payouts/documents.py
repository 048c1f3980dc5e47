"""Issuing invoices, credit notes and statements: once per party and period, numbered without
gaps, frozen at issue (payouts/models/documents.py has the rules the database keeps).

What a document carries:

- An advertiser's **invoice** for a month bills every approved commission of that month or
  earlier that no invoice billed yet: revenue approved after an invoice was issued goes on the
  next one, never on a second invoice of the same month.
- A **credit note** goes with it for every billed commission that was rejected or reversed
  since it was billed, for the amount billed.
- A publisher's **statement** works the same way on the payout side; a commission reversed
  after it was stated appears on the next statement as a negative line (networks do not issue
  publishers credit notes: the statement is the self-billing document).

Months are issued in order: once a month is issued for a party, an earlier one is closed.
Issuing again returns what was issued, unchanged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Sum
from django.utils import timezone

from affiliates.core.errors import Conflict, DomainError
from affiliates.core.money import money_round
from affiliates.models import Advertiser, Publisher
from payouts.callbacks.webhooks import webhooks_invoice_issued
from payouts.documents_money import (
    Carried,
    converted_as_credited,
    converted_at_period_end,
    converted_with_vat,
    credited_vat_rate,
    vat_rate_for,
    vat_totals,
)
from payouts.documents_vat import vat_treatment
from payouts.exports.tabular import amount_text
from payouts.models import (
    Account,
    Commission,
    CommissionStatus,
    Document,
    DocumentCounter,
    DocumentItem,
    DocumentLine,
)
from payouts.notices import invoice_issued
from payouts.periods import period_end, period_label, period_next

logger = logging.getLogger(__name__)

Kind = Document.Kind
Role = DocumentItem.Role
SERIES = {Kind.INVOICE: "INV", Kind.CREDIT_NOTE: "CN", Kind.STATEMENT: "ST"}
_ISSUER_REQUIRED = ("ISSUER_LEGAL_NAME", "ISSUER_ADDRESS", "ISSUER_COUNTRY", "ISSUER_TAX_ID")


@dataclass
class Issued:
    main: Document | None = None  # the invoice or statement
    credit_note: Document | None = None
    created: bool = False


@dataclass(frozen=True)
class _Side:
    """What differs between the advertiser's documents and the publisher's."""

    party: str  # "advertiser" or "publisher"
    main: str
    credit: str | None  # None: reversals are negative lines of the next main document
    amount: str  # the commission field carried: revenue or payout
    carried: str  # the role of a commission's first carrying
    back: str  # the role that takes it back (rejected or reversed since)
    change: str  # the role of a later change of its amount


ADVERTISER = _Side(
    "advertiser", Kind.INVOICE, Kind.CREDIT_NOTE, "revenue", Role.BILLED, Role.CREDITED, Role.BILLED_CHANGE
)
PUBLISHER = _Side(
    "publisher", Kind.STATEMENT, None, "payout", Role.STATED, Role.STATED_REVERSAL, Role.STATED_CHANGE
)


def invoice_issue(*, advertiser: Advertiser, period: Any, user: Any = None) -> Issued:
    """Issue ``advertiser``'s invoice (and credit note, when one is due) for ``period``."""
    return _issue(ADVERTISER, advertiser, period, user)


def statement_issue(*, publisher: Publisher, period: Any, user: Any = None) -> Issued:
    """Issue ``publisher``'s statement for ``period``."""
    return _issue(PUBLISHER, publisher, period, user)


def issuer_snapshot() -> dict[str, str]:
    """The network's details as documents print them; refuses while a required one is empty."""
    missing = [name for name in _ISSUER_REQUIRED if not str(getattr(settings, name, "")).strip()]
    if missing:
        raise DomainError(
            f"Set {', '.join(missing)} before issuing documents.", code="issuer_incomplete", status_code=409
        )
    return {
        "name": settings.ISSUER_LEGAL_NAME,
        "address": settings.ISSUER_ADDRESS,
        "country": settings.ISSUER_COUNTRY,
        "tax_id": settings.ISSUER_TAX_ID,
        "bank_details": settings.ISSUER_BANK_DETAILS,
        "email": settings.ISSUER_EMAIL,
    }


def _issue(side: _Side, party: Advertiser | Publisher, period: Any, user: Any) -> Issued:
    if period_end(period) > timezone.now():
        raise DomainError(f"{period_label(period)} has not ended yet.", code="period_open")
    issuer = issuer_snapshot()
    try:
        with transaction.atomic():
            return _issue_locked(side, party, period, user, issuer)
    except IntegrityError:
        # Another request issued the same documents first (unique per party and period, or a
        # commission's role): what it issued is the answer.
        issued = _existing(side, party, period)
        if issued.main is None and issued.credit_note is None:
            raise Conflict(
                "Documents are being issued for this party; try again.", code="issue_busy"
            ) from None
        return issued


def _existing(side: _Side, party: Advertiser | Publisher, period: Any) -> Issued:
    docs = {d.kind: d for d in Document.objects.filter(**{side.party: party}, period=period)}
    return Issued(main=docs.get(side.main), credit_note=docs.get(side.credit) if side.credit else None)


def _issue_locked(
    side: _Side, party: Advertiser | Publisher, period: Any, user: Any, issuer: dict[str, str]
) -> Issued:
    # Lock the party first, then counters (always in this order): one issuer per party at a time.
    type(party).objects.select_for_update().filter(pk=party.pk).first()
    issued = _existing(side, party, period)
    if issued.main or issued.credit_note:
        return issued
    later = Document.objects.filter(**{side.party: party}, period__gt=period)
    if later.exists():
        raise Conflict(f"{period_label(period)} is closed: a later month was issued.", code="period_closed")
    new_lines, new_items = _new(side, party, period)
    (more_lines, more_items), (back_lines, back_items) = _since_carried(side, party)
    new_lines, new_items = new_lines + more_lines, new_items + more_items
    if not new_items and not back_items:
        raise DomainError("Nothing to issue for this period.", code="nothing_to_issue", status_code=409)
    if side.credit is None:
        new_lines, new_items = new_lines + back_lines, new_items + back_items
        back_lines, back_items = [], []
    head = _head(side, party, period, user, issuer)
    if new_items:
        issued.main = _write(side.main, head, new_lines, new_items)
        invoice_issued(document=issued.main)
        webhooks_invoice_issued(document=issued.main)
    if back_items and side.credit:
        issued.credit_note = _write(side.credit, head, back_lines, back_items)
    issued.created = True
    return issued


@dataclass
class _Line:
    description: str
    offer_id: int | None
    goal: str
    commissions: int
    quantity: int
    currency: str
    amount: Decimal


@dataclass
class _Item:
    commission_id: int
    role: str
    amount: Decimal
    currency: str
    original_id: int | None = None
    quantity: int = 0


def _new(side: _Side, party: Advertiser | Publisher, period: Any) -> tuple[list[_Line], list[_Item]]:
    """Approved commissions up to the period end that no document of this side carries yet."""
    role = side.carried
    carried = DocumentItem.objects.filter(commission=OuterRef("pk"), role=role)
    todo = Commission.objects.filter(
        **{side.party: party}, status=CommissionStatus.APPROVED, day__lt=period_next(period)
    ).filter(~Exists(carried))
    grouped = (
        todo.values_list("offer_id", "offer__name", "goal__code", "goal__name", "currency")
        .annotate(n=Count("id"), qty=Sum("quantity"), total=Sum(side.amount))
        .order_by("currency", "offer__name", "offer_id", "goal__code")
    )
    lines = [
        _Line(f"{offer} - {goal_name}", offer_id, goal, n, qty, cur, money_round(total, cur))
        for offer_id, offer, goal, goal_name, cur, n, qty, total in grouped
    ]
    items = [
        _Item(pk, role, amount, cur, quantity=q)
        for pk, amount, cur, q in todo.values_list("pk", side.amount, "currency", "quantity").order_by("pk")
    ]
    return lines, items


Found = tuple[list[_Line], list[_Item]]


def _since_carried(side: _Side, party: Advertiser | Publisher) -> tuple[Found, Found]:
    """Commissions carried earlier that changed since: (more to carry, to take back).

    A commission rejected or reversed since is taken back for the net amount carried (its first
    carrying plus its changes). One still approved whose amount is no longer what was carried (a
    CPC/CPM line recounted after invalid traffic or late clicks, a CPS amount adjusted) carries
    the difference: more on the next invoice, less on the credit note (statements: both on the
    next statement). Issued documents are never altered. The database returns only the
    commissions that need one of these (a HAVING on the net), not every one ever carried."""
    taken_back = DocumentItem.objects.filter(commission=OuterRef("commission_id"), role=side.back)
    due = (
        DocumentItem.objects.filter(role__in=(side.carried, side.change))
        .filter(**{f"document__{side.party}": party})
        .filter(~Exists(taken_back))
        .values("commission_id", "currency", f"commission__{side.amount}", "commission__status")
        .annotate(net=Sum("amount"), net_quantity=Sum("quantity"), first=Min("document_id"))
        .filter(~Q(commission__status=CommissionStatus.APPROVED) | ~Q(net=F(f"commission__{side.amount}")))
        .order_by("commission_id")
    )
    rows = list(due)
    ids = [r["commission_id"] for r in rows]
    commissions = Commission.objects.select_related("offer", "goal").in_bulk(ids)
    numbers = {
        pk: f"{series}-{number:06d}"
        for pk, series, number in Document.objects.filter(pk__in={r["first"] for r in rows}).values_list(
            "pk", "series", "number"
        )
    }
    more: dict[tuple[Any, ...], _Line] = {}
    back: dict[tuple[Any, ...], _Line] = {}
    more_items: list[_Item] = []
    back_items: list[_Item] = []
    for row in rows:
        c, net, cur, on = commissions[row["commission_id"]], row["net"], row["currency"], row["first"]
        # Quantities are signed like the amounts: a reversal takes back what was carried, a
        # recounted daily line adds or takes back the clicks/impressions it gained or lost.
        if c.status != CommissionStatus.APPROVED:
            role, amount, what = side.back, -net, "Reversed"
            quantity = -row["net_quantity"]
        else:
            role, amount, what = side.change, getattr(c, side.amount) - net, "Changed after"
            quantity = c.quantity - row["net_quantity"]
        item = _Item(c.pk, role, amount, cur, on, quantity)
        into, items = (more, more_items) if amount > 0 or side.credit is None else (back, back_items)
        items.append(item)
        key = (cur, c.offer.name, c.offer_id, c.goal.code, numbers[on], what)
        line = into.setdefault(
            key,
            _Line(
                f"{what}: {c.offer.name} - {c.goal.name} (on {numbers[on]})"
                if what == "Reversed"
                else f"{what} {numbers[on]}: {c.offer.name} - {c.goal.name}",
                c.offer_id,
                c.goal.code,
                0,
                0,
                cur,
                Decimal("0"),
            ),
        )
        line.commissions += 1
        line.quantity += quantity
        line.amount += amount
    return ([more[k] for k in sorted(more)], more_items), ([back[k] for k in sorted(back)], back_items)


def _head(
    side: _Side, party: Advertiser | Publisher, period: Any, user: Any, issuer: dict[str, str]
) -> dict[str, Any]:
    now = timezone.now()
    today = now.date()
    terms = settings.INVOICE_PAYMENT_TERMS_DAYS if side.party == "advertiser" else 0
    treatment, note = vat_treatment(
        issuer_country=issuer["country"], customer_country=party.country, customer_tax_id=party.tax_id
    )
    rate = vat_rate_for(treatment=treatment, issuer_country=issuer["country"])
    if rate is not None:
        note = f"Domestic supply in {issuer['country']}: VAT at {rate.normalize():f}% on the net amounts."
    head: dict[str, Any] = {
        side.party: party,
        "period": period,
        "issuer_key": issuer["tax_id"],
        "issued_at": now,
        "issue_date": today,
        "due_date": today + timedelta(days=terms) if side.party == "advertiser" else None,
        "payment_terms_days": terms,
        "issuer": issuer,
        "customer": {
            "id": party.pk,
            "name": party.document_name,
            "address": party.address,
            "country": party.country,
            "tax_id": party.tax_id,
        },
        "vat_treatment": treatment,
        "vat_note": note,
        "vat_rate": rate,
        "issued_by": user if getattr(user, "pk", None) else None,
    }
    if isinstance(party, Publisher):
        head["payout_details"] = {
            "method": party.get_payout_method_display(),
            "currency": party.payout_currency,
            **{str(k): str(v) for k, v in (party.payout_details or {}).items()},
        }
    head["_customer_currency"] = party.currency if isinstance(party, Advertiser) else party.payout_currency
    return head


def _write(kind: str, head: dict[str, Any], lines: list[_Line], items: list[_Item]) -> Document:
    head = dict(head)
    customer_currency = head.pop("_customer_currency")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        totals[line.currency] += line.amount
    at = period_end(head["period"])
    if kind == Kind.CREDIT_NOTE:  # at the rates (FX and VAT) of the invoices it credits
        carried = [Carried(it.currency, it.amount, it.original_id) for it in items]
        fx_rates, converted = converted_as_credited(carried, customer_currency, at)
        head["vat_rate"] = credited_vat_rate([it.original_id for it in items], head["vat_rate"])
    else:
        fx_rates, converted = converted_at_period_end(totals, customer_currency, at)
    doc = Document.objects.create(
        kind=kind,
        series=SERIES[Kind(kind)],
        number=_number_take(issuer=head["issuer_key"], series=SERIES[Kind(kind)]),
        totals={cur: amount_text(total, cur) for cur, total in sorted(totals.items())},
        vat_totals=vat_totals(totals, head["vat_rate"]),
        fx_rates=fx_rates,
        converted_total=converted_with_vat(converted, head["vat_rate"]),
        **head,
    )
    DocumentLine.objects.bulk_create(
        DocumentLine(
            document=doc,
            position=i,
            description=ln.description[:255],
            offer_id_ref=ln.offer_id,
            goal=ln.goal,
            commissions=ln.commissions,
            quantity=ln.quantity,
            currency=ln.currency,
            amount=ln.amount,
        )
        for i, ln in enumerate(lines, start=1)
    )
    DocumentItem.objects.bulk_create(
        (
            DocumentItem(
                document=doc,
                commission_id=it.commission_id,
                role=it.role,
                amount=it.amount,
                quantity=it.quantity,
                currency=it.currency,
                original_id=it.original_id,
            )
            for it in items
        ),
        batch_size=2000,
    )
    return doc


def _number_take(*, issuer: str, series: str) -> int:
    """The next number of the series. Caller must be in a transaction: the counter row stays
    locked until it commits, so the next issuer waits and a rollback returns the number."""
    DocumentCounter.objects.get_or_create(issuer=issuer, series=series)
    counter = DocumentCounter.objects.select_for_update().get(issuer=issuer, series=series)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


@dataclass
class MonthIssued:
    invoices: int = 0
    credit_notes: int = 0
    statements: int = 0
    nothing_to_issue: int = 0
    #: Parties whose document could not be issued, with the reason ("advertiser 7: vat_rate_missing"):
    #: one party's missing setting holds back that party's document, not the whole month's.
    refused: list[str] = field(default_factory=list)


def documents_issue_month(*, period: Any) -> MonthIssued:
    """Issue ``period``'s invoices, credit notes and statements for every party with something to
    carry (the monthly beat job and ``manage.py issue_documents``). Idempotent: a party already
    issued gets nothing new. Parties are those with a ledger account, a small table."""
    issuer_snapshot()  # refuse the whole month at once, not once per party
    result = MonthIssued()
    for advertiser in Advertiser.objects.filter(pk__in=_account_owners("advertiser")).order_by("pk"):
        issued = _issue_quietly(ADVERTISER, advertiser, period, result)
        if issued and issued.created:
            result.invoices += issued.main is not None
            result.credit_notes += issued.credit_note is not None
    for publisher in Publisher.objects.filter(pk__in=_account_owners("publisher")).order_by("pk"):
        issued = _issue_quietly(PUBLISHER, publisher, period, result)
        if issued and issued.created:
            result.statements += 1
    return result


def _account_owners(party: str) -> Any:
    kind = Account.Kind.ADVERTISER_RECEIVABLE if party == "advertiser" else Account.Kind.PUBLISHER_PAYABLE
    return Account.objects.filter(kind=kind).values(f"{party}_id")


def _issue_quietly(
    side: _Side, party: Advertiser | Publisher, period: Any, result: MonthIssued
) -> Issued | None:
    try:
        return _issue(side, party, period, None)
    except DomainError as exc:
        if exc.code == "vat_rate_missing":
            # A domestic customer needs the issuer's VAT rate (ISSUER_VAT_RATES): that document
            # waits, with its reason in the job's result and the log; the others go out.
            result.refused.append(f"{side.party} {party.pk}: {exc.code}")
            logger.warning("document for %s %s not issued: %s", side.party, party.pk, exc)
            return None
        if exc.code not in ("nothing_to_issue", "period_closed"):
            raise
        result.nothing_to_issue += 1
        return None
