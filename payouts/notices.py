"""What the money side announces: reversals, payouts, invoices, failing postbacks, caps.

Each function says who is told and in what words; ``affiliates.notify`` honours each person's
choices and sends. The periodic checks (caps, overdue invoices) notify each event once: the
``key`` passed to ``notify`` is unique.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from affiliates.core.money import money_round
from affiliates.models import Cap, OfferAccess
from affiliates.notifications import Kind
from affiliates.notify import advertiser_members, notify, publisher_members, staff_users
from payouts.advertiser_payments import advertiser_balances
from payouts.models import Commission, Document, Payout, PayoutRun
from payouts.models.callbacks import CallbackDelivery
from tracking.conversions.caps import period_start
from tracking.models import CapCounter

NEAR = Decimal("0.8")


def conversions_reversed(*, commission_ids: Iterable[int]) -> int:
    """One message per publisher: which conversions were reversed, on which offers."""
    rows = Commission.objects.filter(pk__in=list(commission_ids), kind=Commission.Kind.CONVERSION)
    by_publisher: dict[int, list[Commission]] = defaultdict(list)
    for commission in rows.select_related("offer"):
        by_publisher[commission.publisher_id].append(commission)
    for publisher_id, commissions in by_publisher.items():
        offers = sorted({c.offer.name for c in commissions})
        lines = [
            f"Conversion {c.conversion_id} on {c.offer.name}: "
            f"{money_round(c.payout, c.currency)} {c.currency}"
            for c in commissions[:20]
        ]
        notify(
            kind=Kind.CONVERSION_REVERSED,
            recipients=publisher_members([publisher_id]),
            title=f"{len(commissions)} conversion(s) reversed on {', '.join(offers)[:120]}",
            body="\n".join(lines) + ("\n…" if len(commissions) > 20 else ""),
            link=reverse("tracking_portal:pub-conversions") + "?status=reversed",
        )
    return len(by_publisher)


def _amount(payout: Payout) -> str:
    return f"{money_round(payout.amount, payout.currency)} {payout.currency}"


def payout_run_approved(*, run: PayoutRun) -> None:
    payouts = Payout.objects.filter(run=run, status=Payout.Status.APPROVED)
    for payout in payouts:
        notify(
            kind=Kind.PAYOUT_APPROVED,
            recipients=publisher_members([payout.publisher_id]),
            title=f"Payout approved: {_amount(payout)}",
            body=f"Your payout for {payout.period:%B %Y} is approved and will be sent soon.",
            link=reverse("payouts_portal:pub-payouts"),
            key=f"payout_approved:{payout.pk}",
        )
    notify(
        kind=Kind.PAYOUT_APPROVED,
        recipients=staff_users(),
        title=f"Payout run {run.period:%Y-%m} approved",
        body=f"{payouts.count()} payout(s) approved; mark them paid once sent.",
        link=reverse("payouts_portal:staff-run", args=[run.pk]),
        key=f"payout_run_approved:{run.pk}",
    )


def payout_paid(*, payout: Payout) -> None:
    notify(
        kind=Kind.PAYOUT_PAID,
        recipients=publisher_members([payout.publisher_id]),
        title=f"Payout sent: {_amount(payout)}",
        body=f"Your payout for {payout.period:%B %Y} was sent (reference {payout.payment_reference}).",
        link=reverse("payouts_portal:pub-payouts"),
        key=f"payout_paid:{payout.pk}",
    )


def _totals(document: Document) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(document.totals.items()))


def invoice_issued(*, document: Document) -> None:
    if document.kind != Document.Kind.INVOICE or document.advertiser_id is None:
        return
    due = f", due {document.due_date:%Y-%m-%d}" if document.due_date else ""
    notify(
        kind=Kind.INVOICE_ISSUED,
        recipients=advertiser_members([document.advertiser_id]),
        title=f"Invoice {document.number_text}: {_totals(document)}",
        body=f"Invoice {document.number_text} for {document.period:%B %Y} is issued{due}.",
        link=reverse("payouts_portal:adv-invoices"),
        key=f"invoice_issued:{document.pk}",
    )


def _owes(advertiser_id: int) -> bool:
    return any(total > 0 for total in advertiser_balances(advertiser_id=advertiser_id).values())


def invoices_overdue_notify(*, today: date | None = None) -> int:
    """Invoices past their due date while the advertiser still owes: told once each."""
    today = today or timezone.now().date()
    late = Document.objects.filter(kind=Document.Kind.INVOICE, due_date__lt=today, advertiser__isnull=False)
    told = 0
    for document in late.order_by("pk"):
        if not _owes(document.advertiser_id):
            continue
        text = (
            f"Invoice {document.number_text} ({_totals(document)}) was due on {document.due_date:%Y-%m-%d}."
        )
        people = [*advertiser_members([document.advertiser_id]), *staff_users()]
        told += notify(
            kind=Kind.INVOICE_OVERDUE,
            recipients=people,
            title=f"Invoice {document.number_text} is overdue",
            body=text,
            link=reverse("payouts_portal:adv-invoices"),
            key=f"invoice_overdue:{document.pk}",
        )
    return told


def postback_failing(*, delivery: CallbackDelivery) -> None:
    """A postback given up: its publisher hears once a day per endpoint, not per conversion."""
    if delivery.publisher_id is None or delivery.endpoint_id is None:
        return
    notify(
        kind=Kind.POSTBACK_FAILING,
        recipients=publisher_members([delivery.publisher_id]),
        title="Your postback endpoint is failing",
        body=(
            f"A postback to {delivery.url[:200]} failed after {delivery.attempts_count} attempt(s): "
            f"{delivery.last_error or 'no answer'}. Fix the endpoint, then re-send from the delivery log."
        ),
        link=reverse("payouts_portal:pub-callbacks"),
        key=f"postback_failing:{delivery.endpoint_id}:{timezone.now():%Y-%m-%d}",
    )


def _cap_people(cap: Cap, scope_key: str) -> list[object]:
    people: list[object] = [*advertiser_members([cap.offer.advertiser_id]), *staff_users()]
    if scope_key.startswith("pub:"):
        people += publisher_members([int(scope_key[4:])])
    else:
        running = OfferAccess.objects.filter(offer_id=cap.offer_id, status=OfferAccess.Status.APPROVED)
        people += publisher_members(running.values_list("publisher_id", flat=True))
    return people


def caps_notify(*, now: object | None = None) -> int:
    """Conversion caps of the current periods at 80 % or full: told once per cap, period, scope."""
    at = now or timezone.now()
    starts = {p: period_start(p, at) for p in Cap.Period.values}  # type: ignore[arg-type]
    current = Q()
    for period, start in starts.items():
        current |= Q(cap__period=period, period_start=start)
    told = 0
    counters = CapCounter.objects.filter(current).select_related("cap__offer")
    for counter in counters:
        cap = counter.cap
        if not cap.limit or counter.used < cap.limit * NEAR:
            continue
        reached = counter.used >= cap.limit
        kind = Kind.CAP_REACHED if reached else Kind.CAP_NEAR
        what = f"{cap.get_metric_display().lower()} cap ({cap.limit} per {cap.period})"
        told += notify(
            kind=kind,
            recipients=_cap_people(cap, counter.scope_key),
            title=f"{cap.offer.name}: {what} {'reached' if reached else 'at 80 %'}",
            body=f"Used {counter.used} of {cap.limit} since {counter.period_start:%Y-%m-%d}"
            + (" (one publisher)" if counter.scope_key.startswith("pub:") else "")
            + (". Further conversions are refused until the period ends." if reached else "."),
            link=reverse("portal:pub-offer", args=[cap.offer_id]),
            key=f"{kind}:{cap.pk}:{counter.period_start}:{counter.scope_key}",
        )
    return told
