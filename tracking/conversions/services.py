"""Recording conversions and changing their status: the writes of the conversions part.

Recording is two steps so that every way a postback arrives shares them: ``conversion_prepare``
decides the row without writing (on the ASGI edge it runs on the event loop), and
``conversion_store`` writes it; the edge writes the plain ones itself, in batches
(conversions/aio_db.py), and answers with ``conversion_stored`` / ``conversion_duplicate``.

A conversion is one INSERT (plus, when caps apply, one statement per cap, and for a signed
postback one row that burns the signature), in one transaction, before the answer. The
database refuses duplicates: (offer, goal, txn_id) and ``dedupe_key`` are unique, so 50
identical postbacks at once make one row and 49 IntegrityErrors that become "duplicate".

Interface with payouts: database triggers put a new conversion's id in the reconciliation queue
(UnreconciledConversion), and again whenever its status or review flag changes, in the same
transaction as the change; so reconciliation brings its commission along, whoever made the
change. Nothing here writes the queue by hand.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from affiliates.core.money import minor_units, money_round
from affiliates.models import Cap, Coupon, FxRate, Goal, Offer
from affiliates.pricing import Price, price_pick
from tracking.conversions.attribution import Attribution
from tracking.conversions.caps import CapCheck, caps_applicable, caps_consume
from tracking.conversions.catalog import OfferInfo, Standing, publisher_standing
from tracking.conversions.fraud import RULES, Fired, Visitor, fraud_check
from tracking.conversions.instances import instance_build
from tracking.conversions.offload import blocking_io
from tracking.conversions.outcome import Outcome, PostbackError, Result, bad_request
from tracking.conversions.params import ConversionInput
from tracking.models import Conversion, UsedPostbackSignature
from tracking.models.clicks import ClickReason
from tracking.models.conversions import ConversionStatus
from tracking.models.holdouts import HoldoutArm
from tracking.reasons import Reason
from tracking.visitor import ip_for_storage

CONVERTIBLE = frozenset({Goal.PayoutType.CPL, Goal.PayoutType.CPA, Goal.PayoutType.CPS, Goal.PayoutType.CPI})


@dataclass
class Draft:
    """Everything the intake established before recording: who, what, which click."""

    inp: ConversionInput
    source: str
    now: datetime
    advertiser_id: int | None
    info: OfferInfo | None
    attribution: Attribution
    coupon: Coupon | None = None
    visitor: Visitor | None = None
    sig: str = ""
    customer_hash: str = ""  # the reported customer id, hashed (conversions/customers.py)
    request: dict[str, Any] = field(default_factory=dict)


@dataclass
class NewConversion:
    """A decided conversion, not yet written: the row, and what writing it also takes."""

    conv: Conversion
    sig: str  # burnt in the conversion's transaction when set
    caps: list[tuple[Cap, str]]  # room taken in the conversion's transaction
    payout: Decimal
    revenue: Decimal

    @property
    def needs_transaction(self) -> bool:
        """Caps and the signature burn need row locks and a transaction of their own."""
        return bool(self.sig or self.caps)


def goal_resolve(info: OfferInfo, code: str) -> Goal:
    goal = info.goals.get(code) if code else info.default_goal
    if goal is None:
        raise bad_request(
            Reason.UNKNOWN_GOAL, f"The offer has no goal {code!r}." if code else "No default goal."
        )
    if goal.payout_type not in CONVERTIBLE:
        raise bad_request(
            Reason.GOAL_NOT_CONVERTIBLE, f"{goal.code} is paid per {goal.payout_type}, not per conversion."
        )
    return goal


def _fx_rate(base: str, quote: str, at: datetime) -> Decimal | None:
    blocking_io("FX rate")
    row = (
        FxRate.objects.filter(base=base, quote=quote, valid_from__lte=at)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    return row


@dataclass(frozen=True)
class Sale:
    """The reported sale amount, and the same in the offer's currency (the unconverted amount
    while no FX rate is known: ``note`` says so)."""

    amount: Decimal | None
    currency: str
    base: Decimal | None
    fx_rate: Decimal | None = None
    note: str = ""


def sale_check(*, amount: Decimal | None, currency: str, offer: Offer, at: datetime) -> Sale:
    """The sale in the offer's currency, refused (400) when it is not a sane amount: more
    decimals than the currency has (``bad_amount``), or over the offer's max_sale_amount, or
    the network's CONVERSION_MAX_SALE_AMOUNT when the offer sets none (``amount_over_max``).
    Refused rather than held for review: a held 10^14 sale would still sit in pending balances,
    caps and reports, and the advertiser learns at once that its feed is wrong."""
    if amount is None:
        return Sale(None, currency, None)
    if money_round(amount, currency) != amount:
        raise bad_request(
            Reason.BAD_AMOUNT, f"amount has more decimals than {currency} has ({minor_units(currency)})."
        )
    sale = Sale(amount, currency, amount)
    if currency != offer.currency:
        rate = _fx_rate(currency, offer.currency, at)
        if rate is None:
            sale = Sale(amount, currency, amount, None, f"no {currency}/{offer.currency} rate: unconverted")
        else:
            sale = Sale(amount, currency, amount * rate, rate)
    limit = (
        offer.max_sale_amount if offer.max_sale_amount is not None else settings.CONVERSION_MAX_SALE_AMOUNT
    )
    if sale.base is not None and sale.base > limit:
        raise bad_request(
            Reason.AMOUNT_OVER_MAX,
            f"amount is over the offer's maximum sale amount ({limit} {offer.currency}).",
        )
    return sale


def _expected_amounts(price: Price, sale: Sale, offer: Offer) -> tuple[Decimal, Decimal, dict[str, Any]]:
    """Payout and revenue in the offer's currency, rounded once, for caps and the trace (the
    commission computes its own, authoritatively, in payouts)."""
    note, fx_rate = "", None
    if price.is_percentage:  # only a percentage price depends on the converted amount
        note = f"{sale.note}: caps counted the unconverted amount" if sale.note else ""
        fx_rate = sale.fx_rate
    payout, revenue = price.amounts(sale.base)
    payout, revenue = money_round(payout, offer.currency), money_round(revenue, offer.currency)
    trace = {
        "source": price.source,
        "payout_type": price.payout_type,
        "payout_rate": str(price.payout),
        "revenue_rate": str(price.revenue),
        "sale_amount": str(sale.amount) if sale.amount is not None else None,
        "sale_currency": sale.currency,
        "fx_rate": str(fx_rate) if fx_rate is not None else None,
        "currency": offer.currency,
        "payout": str(payout),
        "revenue": str(revenue),
        "note": note,
    }
    return payout, revenue, trace


def _via_fallback(click: Any, offer_id: int) -> bool:
    """Was the click sent to this offer as the link offer's fallback, for an offer-side reason?
    A click refused because the publisher was not approved on the link's offer earns nothing
    on the fallback either: the network does not pay for links it never approved."""
    return bool(
        click is not None
        and click.reason
        and click.reason != ClickReason.NOT_APPROVED
        and click.fallback_offer_id == offer_id
    )


def _business_rejection(draft: Draft, offer: Offer, standing: Standing) -> tuple[Reason, str] | None:
    if not offer.is_live(draft.now):
        return Reason.OFFER_INACTIVE, f"the offer is {offer.status} or outside its dates"
    if not standing.approved:
        return Reason.NOT_APPROVED, standing.why
    click = draft.attribution.click
    if click is not None:
        age = draft.now - click.created_at
        if age > timedelta(days=offer.attribution_window_days):
            return (
                Reason.WINDOW_EXPIRED,
                f"click is {age.days} days old, window {offer.attribution_window_days}",
            )
        high = offer.max_click_to_conversion_seconds
        if (
            high is not None
            and age.total_seconds() > high
            and offer.slow_conversion_action == Offer.SlowConversion.REJECT
        ):
            return (
                Reason.CLICK_TO_CONVERSION_TOO_SLOW,
                f"converted {age.total_seconds():.0f}s after the click, maximum {high}s",
            )
        if click.holdout_arm == HoldoutArm.CONTROL and not click.reason:
            # Last: a held-out conversion is counted by its test's report only when no other
            # rule refused it, so both arms are measured by the same rules. A click refused
            # by a cap went to the fallback, not to the control page: not held out.
            return (
                Reason.HOLDOUT_CONTROL,
                f"the visitor was held out by incrementality test {click.holdout_test_id}: "
                "recorded for measurement, earns nothing",
            )
    return None


def _initial_status(
    rejection: tuple[Reason, str] | None, fired: list[Fired], requested: str
) -> tuple[str, str, bool]:
    if rejection is not None:
        return ConversionStatus.REJECTED, rejection[0], False
    if fired:  # held for review: never approved automatically, whatever the advertiser said
        return ConversionStatus.PENDING, "", True
    if requested == ConversionStatus.APPROVED:
        return ConversionStatus.APPROVED, "", False
    if requested == ConversionStatus.REJECTED:
        return ConversionStatus.REJECTED, Reason.ADVERTISER_REJECTED, False
    return ConversionStatus.PENDING, "", False


def _conversion_fields(draft: Draft) -> dict[str, Any]:
    click = draft.attribution.click
    fields: dict[str, Any] = {
        "created_at": draft.now,
        "source": draft.source,
        "advertiser_id": draft.advertiser_id,
        "txn_id": draft.inp.txn_id,
        "coupon": draft.coupon.code if draft.coupon else draft.inp.coupon,
        "amount": draft.inp.amount,
        "customer_hash": draft.customer_hash or None,
        "customer_type": draft.inp.customer_type or None,
    }
    if draft.visitor is not None:
        fields.update(
            ip=ip_for_storage(draft.visitor.ip),
            user_agent=draft.visitor.user_agent[:512],
            country=draft.visitor.country,
        )
    if click is not None:
        fields.update(
            click_id=click.id,
            click_time=click.created_at,
            sub1=click.sub1,
            sub2=click.sub2,
            sub3=click.sub3,
            sub4=click.sub4,
            sub5=click.sub5,
            source_id=click.source,
        )
        fields.setdefault("country", click.country)
    elif draft.attribution.impression is not None:
        seen = draft.attribution.impression
        fields.update(
            sub1=seen.sub1,
            sub2=seen.sub2,
            sub3=seen.sub3,
            sub4=seen.sub4,
            sub5=seen.sub5,
            source_id=seen.source,
        )
        fields.setdefault("country", seen.country)
    return fields


_FIELDS: dict[str, Any] | None = None  # attname -> concrete field


def conversion_new(fields: dict[str, Any]) -> Conversion:
    """``Conversion(**fields)`` (attribute names: ``offer_id``, not ``offer``; defaults for the
    rest), without Django's keyword path, which looks every field up by name and checks it for a
    related object: the same unsaved instance, built as instances.py explains. Only the few
    fields not given are visited (set operations, not a loop over all thirty)."""
    global _FIELDS
    if _FIELDS is None:
        _FIELDS = {f.attname: f for f in Conversion._meta.concrete_fields}
    unknown = fields.keys() - _FIELDS.keys()
    if unknown:
        raise TypeError(f"Conversion has no field {', '.join(sorted(unknown))}")
    attrs = dict(fields)
    for attname in _FIELDS.keys() - fields.keys():
        attrs[attname] = _FIELDS[attname].get_default()
    return instance_build(Conversion, attrs)


def conversion_record(draft: Draft) -> Outcome:
    """Attribute, check and store one new conversion. Raises PostbackError for a 400."""
    return conversion_store(conversion_prepare(draft))


def conversion_prepare(draft: Draft) -> NewConversion:
    """Decide one new conversion (goal, price, verdict, fraud rules, trace) without writing
    anything. Raises PostbackError for a 400."""
    info = draft.info
    seen = draft.attribution.impression
    if info is None or (draft.attribution.click is None and draft.coupon is None and seen is None):
        return _unattributed(draft)
    offer = info.offer
    # A view-through conversion is priced by the offer's own view-through goal when it has one.
    code = offer.view_through_goal if seen is not None and offer.view_through_goal else draft.inp.goal_code
    goal = goal_resolve(info, code)
    if goal.payout_type == Goal.PayoutType.CPS and draft.inp.amount is None:
        raise bad_request(Reason.MISSING_AMOUNT, "amount is required for a CPS goal.")
    click = draft.attribution.click
    if click is not None:
        publisher_id = click.publisher_id
    elif draft.coupon is not None:
        publisher_id = draft.coupon.publisher_id
    else:
        assert seen is not None
        publisher_id = seen.publisher_id
    standing = publisher_standing(
        offer=offer, publisher_id=publisher_id, via_fallback=_via_fallback(click, offer.id)
    )
    if not standing.approved and click is not None and click.fallback_offer_id == offer.id:
        why = f"fallback traffic of a click refused as {click.reason} earns nothing ({standing.why})"
        standing = Standing(False, why, standing.customs)
    rejection = _business_rejection(draft, offer, standing)
    fired = fraud_check(click=click, offer=offer, now=draft.now, visitor=draft.visitor)
    if seen is not None:  # a view-through visitor never clicked: no click cookie is expected
        fired = [f for f in fired if f.rule != "pixel_without_cookie"]
    currency = draft.inp.currency or offer.currency
    sale = sale_check(amount=draft.inp.amount, currency=currency, offer=offer, at=draft.now)
    fields = _conversion_fields(draft)
    price = price_pick(
        goal=goal, customs=list(standing.customs), country=fields.get("country", ""), sale_amount=sale.base
    )
    payout, revenue, price_trace = _expected_amounts(price, sale, offer)
    status, reason, held = _initial_status(rejection, fired, draft.inp.status)
    # One conversion per click on a goal that does not allow several, whatever the txn_id: the
    # unique dedupe_key is the database's guard; a second one is kept rejected
    # (conversion_duplicate), a retry of the first is a duplicate.
    dedupe_key = None
    if click is not None and not goal.allow_multiple:
        dedupe_key = f"{click.id.hex}:{goal.id}"
    conv = conversion_new(
        dict(
            fields,
            offer_id=offer.id,
            publisher_id=publisher_id,
            goal_id=goal.id,
            currency=currency,
            status=status,
            reason=reason,
            dedupe_key=dedupe_key,
            fraud_flags=[f.rule for f in fired],
            held_for_review=held,
            trace={
                "request": draft.request,
                "attribution": draft.attribution.trace(),
                "coupon": draft.coupon.code if draft.coupon else None,
                "goal": {
                    "id": goal.id,
                    "code": goal.code,
                    "payout_type": goal.payout_type,
                    "default": not draft.inp.goal_code,
                },
                "price": price_trace,
                "rules_checked": list(RULES),
                "rules": [f.trace() for f in fired],
                "rejection": {"reason": rejection[0], "detail": rejection[1]} if rejection else None,
                "caps": [],
            },
        )
    )
    caps = caps_applicable(info.caps, publisher_id) if status != ConversionStatus.REJECTED else []
    return NewConversion(conv, sig=draft.sig, caps=caps, payout=payout, revenue=revenue)


def _unattributed(draft: Draft) -> NewConversion:
    reason = (
        Reason.UNKNOWN_COUPON if draft.inp.coupon and not draft.inp.click_id_raw else Reason.UNKNOWN_CLICK
    )
    fired = (
        fraud_check(click=None, offer=draft.info.offer, now=draft.now, visitor=draft.visitor)
        if draft.info
        else []
    )
    conv = conversion_new(
        dict(
            _conversion_fields(draft),
            offer_id=draft.info.offer.id if draft.info else None,
            currency=draft.inp.currency or (draft.info.offer.currency if draft.info else ""),
            status=ConversionStatus.REJECTED,
            reason=reason,
            fraud_flags=[f.rule for f in fired],
            trace={
                "request": draft.request,
                "attribution": draft.attribution.trace(),
                "click_id_reported": draft.inp.click_id_raw or None,
                "coupon": draft.inp.coupon or None,
                "rules_checked": list(RULES),
                "rules": [f.trace() for f in fired],
                "rejection": {"reason": reason, "detail": "no click or coupon of ours matches"},
                "caps": [],
            },
        )
    )
    return NewConversion(conv, sig=draft.sig, caps=[], payout=Decimal(0), revenue=Decimal(0))


class _NoRoom(Exception):
    def __init__(self, checks: list[CapCheck]) -> None:
        self.checks = checks


def _caps_take(
    caps: list[tuple[Cap, str]], at: datetime, payout: Decimal, revenue: Decimal
) -> list[CapCheck]:
    """Consume room in a savepoint; a refusal rolls back the caps already taken."""
    try:
        with transaction.atomic():
            checks = caps_consume(caps=caps, at=at, payout=payout, revenue=revenue)
            if not checks[-1].ok:
                raise _NoRoom(checks)
            return checks
    except _NoRoom as refused:
        return refused.checks


class SignatureReplayed(Exception):
    """The signature was already used: the same signed postback again. Raised inside the
    transaction so whatever it wrote is rolled back; answered as the first one's duplicate."""

    def __init__(self, sig: str) -> None:
        super().__init__(sig)
        self.sig = sig


def signature_burn(*, sig: str, advertiser_id: int, at: datetime, conversion_id: int) -> None:
    """Mark a signature used by ``conversion_id``'s write (its recording or its status update),
    in that write's transaction. Raises SignatureReplayed if it was used already."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tracking_usedpostbacksignature (sig, advertiser_id, used_at, conversion_id)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (sig) DO NOTHING",
            [sig, advertiser_id, at, conversion_id],
        )
        if cursor.rowcount == 0:
            raise SignatureReplayed(sig)


def signature_replay_outcome(sig: str) -> Outcome:
    """A signed postback sent again (its answer was lost, say): ``duplicate`` with the
    conversion its first sending wrote, never a 401 that would make the advertiser give up."""
    blocking_io("a replayed signature's conversion")
    conversion_id = (
        UsedPostbackSignature.objects.filter(sig=sig).values_list("conversion_id", flat=True).first()
    )
    original = Conversion.objects.filter(pk=conversion_id).first() if conversion_id else None
    if original is None:  # burnt before conversions were recorded with their signature
        raise PostbackError(401, Reason.REPLAYED_SIGNATURE, "This signature was already used.")
    return Outcome(200, Result.DUPLICATE, "", original.id, original.status, list(original.fraud_flags))


def conversion_store(new: NewConversion) -> Outcome:
    """Write a prepared conversion (with its caps and signature burn) and answer for it."""
    conv = new.conv
    # A lone INSERT is its own transaction; only a signature or caps need one around it. Inside
    # a caller's transaction a savepoint is still needed, so a duplicate's IntegrityError does
    # not abort the caller's. (The edge's common postback skips this function: aio_db.py.)
    needs_atomic = new.needs_transaction or connection.in_atomic_block
    atomic: AbstractContextManager[Any] = transaction.atomic() if needs_atomic else nullcontext()
    try:
        with atomic:
            if new.caps:
                checks = _caps_take(new.caps, conv.created_at, new.payout, new.revenue)
                conv.trace["caps"] = [c.trace() for c in checks]
                if not checks[-1].ok:
                    conv.status, conv.reason, conv.held_for_review = (
                        ConversionStatus.REJECTED,
                        Reason.CAP_REACHED,
                        False,
                    )
                    conv.trace["rejection"] = {
                        "reason": Reason.CAP_REACHED,
                        "detail": f"cap {checks[-1].cap.id} is full",
                    }
            conversion_verdict(conv)
            conv.save(force_insert=True)
            if new.sig:  # after the row: the signature remembers what it wrote
                signature_burn(
                    sig=new.sig,
                    advertiser_id=conv.advertiser_id,  # type: ignore[arg-type]
                    at=conv.created_at,
                    conversion_id=conv.id,
                )
    except SignatureReplayed as replay:
        return signature_replay_outcome(replay.sig)
    except IntegrityError:
        return conversion_duplicate(conv)
    return conversion_stored(conv)


def conversion_verdict(conv: Conversion) -> None:
    """Put the final verdict in the trace: the last step before the row is written."""
    conv.trace["verdict"] = {
        "status": conv.status,
        "reason": conv.reason,
        "held_for_review": conv.held_for_review,
    }


def conversion_stored(conv: Conversion) -> Outcome:
    """The answer for a conversion just written."""
    result = Result.REJECTED if conv.is_system_rejected else Result.ACCEPTED
    return Outcome(200, result, conv.reason, conv.id, conv.status, list(conv.fraud_flags))


def conversion_duplicate(conv: Conversion) -> Outcome:
    """The answer for a conversion a unique key refused: the original's id and status. With no
    original to show (the refusal was something else) it raises, which answers 503.

    A conversion refused only by ``dedupe_key`` under another txn_id is not a retry but a second
    conversion of the same click on a goal that allows one: it is recorded rejected
    (``click_already_converted``, earning nothing) and answered as such."""
    original = _original_of(conv)
    if original is None:
        raise IntegrityError("conversion refused, and no original found")
    if conv.txn_id and original.txn_id != conv.txn_id and original.dedupe_key == conv.dedupe_key:
        return _second_conversion_store(conv, original)
    return Outcome(200, Result.DUPLICATE, "", original.id, original.status, list(original.fraud_flags))


def _second_conversion_store(conv: Conversion, original: Conversion) -> Outcome:
    conv.pk, conv.dedupe_key, conv.held_for_review = None, None, False
    conv.status, conv.reason = ConversionStatus.REJECTED, Reason.CLICK_ALREADY_CONVERTED
    conv.trace["caps"] = []  # the caps it took were rolled back with the refused insert
    conv.trace["rejection"] = {
        "reason": Reason.CLICK_ALREADY_CONVERTED,
        "detail": (
            f"the click already converted on this goal: conversion {original.id} (txn_id {original.txn_id!r})"
        ),
    }
    conversion_verdict(conv)
    try:
        with transaction.atomic():
            conv.save(force_insert=True)
    except IntegrityError:
        return conversion_duplicate(conv)  # this second txn_id was recorded meanwhile: a retry
    return conversion_stored(conv)


def _original_of(conv: Conversion) -> Conversion | None:
    blocking_io("the original of a duplicate")
    if conv.txn_id and conv.offer_id and conv.goal_id:
        same_txn = Conversion.objects.filter(
            offer_id=conv.offer_id, goal_id=conv.goal_id, txn_id=conv.txn_id
        ).first()
        if same_txn is not None:
            return same_txn
    if conv.txn_id and conv.offer_id is None and conv.advertiser_id is not None:
        # refused before any offer was known: the first refusal of this txn_id
        return Conversion.objects.filter(
            advertiser_id=conv.advertiser_id, txn_id=conv.txn_id, offer__isnull=True
        ).first()
    if conv.dedupe_key:
        return Conversion.objects.filter(dedupe_key=conv.dedupe_key).first()
    return None


def conversion_by_txn(*, advertiser_id: int, inp: ConversionInput, offer_id: int | None) -> Conversion | None:
    """The advertiser's attributed conversion with this txn_id (narrowed by offer and goal code
    when given). Two matches are ambiguous: a 400 rather than a guess."""
    blocking_io("conversion by txn_id")
    qs = Conversion.objects.filter(
        advertiser_id=advertiser_id, txn_id=inp.txn_id, offer__isnull=False, goal__isnull=False
    )
    if offer_id:
        qs = qs.filter(offer_id=offer_id)
    if inp.goal_code:
        qs = qs.filter(goal__code=inp.goal_code)
    found = list(qs[:2])
    if len(found) > 1:
        raise bad_request(Reason.AMBIGUOUS_TXN_ID, "txn_id matches several conversions: send offer or goal.")
    return found[0] if found else None
