"""Reads for the staff console's overview and its advertiser, publisher and offer pages:
traffic (tracking.portal.console_selectors) beside the money it earned, compared with an
earlier window, and what is waiting for staff. Money is summed per currency, then shown as one
total in the viewer's reporting currency at the stored rates (payouts.reporting_money), with the
per-currency breakdown kept for a ``<details>``. A currency without a stored rate is never
guessed: its tile falls back to each currency's own figure and change."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from affiliates.core.money import MoneySum
from affiliates.models import Offer, OfferAccess, Publisher
from affiliates.roles import Actor, Role, scope, scope_q
from affiliates.templatetags.portal import money_map
from payouts.models import Commission, CommissionStatus, Document
from payouts.models.callbacks import CallbackDelivery
from payouts.models.ledger import Account, Entry
from payouts.reporting_money import Converted, Rates, money_convert
from tracking.portal.console_selectors import counts_per_day, so_far_filter, window_counts
from tracking.portal.traffic import conversions_held_count

EARNING = [CommissionStatus.PENDING, CommissionStatus.APPROVED]
#: The network itself (every queue, unscoped): staff with the admin role.
NETWORK = Actor(role=Role.STAFF)
Money = dict[str, Decimal]


@dataclass
class Totals:
    clicks: int = 0
    conversions: int = 0
    revenue: Money = field(default_factory=dict)
    payout: Money = field(default_factory=dict)

    @property
    def margin(self) -> Money:
        return {c: self.revenue.get(c, Decimal(0)) - self.payout.get(c, Decimal(0)) for c in self.revenue}

    def scaled(self, factor: Decimal) -> Totals:
        """These totals times ``factor`` (an average over several days)."""
        return Totals(
            clicks=round(self.clicks * factor),
            conversions=round(self.conversions * factor),
            revenue={c: v * factor for c, v in self.revenue.items()},
            payout={c: v * factor for c, v in self.payout.items()},
        )


def _add(into: Totals, other: Totals) -> None:
    into.clicks += other.clicks
    into.conversions += other.conversions
    for name in ("revenue", "payout"):
        mine = getattr(into, name)
        for c, v in getattr(other, name).items():
            mine[c] = mine.get(c, Decimal(0)) + v


# --- KPI tiles: a value and its change against earlier windows -----------------------------


@dataclass(frozen=True)
class Change:
    against: str
    text: str
    tone: str  # up, down or flat


@dataclass(frozen=True)
class Tile:
    label: str
    #: One line, or one per currency (a rate is missing).
    lines: list[str]
    changes: list[Change]
    #: Money tiles: the total in the reporting currency and its per-currency breakdown.
    converted: Converted | None = None

    @property
    def value(self) -> str:
        return " · ".join(self.lines)


def _pct(now: Decimal, then: Decimal) -> tuple[str, str]:
    if then == 0:
        return ("new", "up") if now > 0 else ("—", "flat")
    change = (now - then) / abs(then) * 100
    tone = "up" if change > 0 else "down" if change < 0 else "flat"
    return f"{change:+.0f} %", tone


def _change(against: str, now: int | Decimal | Money, then: int | Decimal | Money) -> Change:
    if not isinstance(now, dict) and not isinstance(then, dict):
        text, tone = _pct(Decimal(now), Decimal(then))
        return Change(against, text, tone)
    assert isinstance(now, dict)
    assert isinstance(then, dict)
    parts = [(c, *_pct(now.get(c, Decimal(0)), then.get(c, Decimal(0)))) for c in sorted({*now, *then})]
    if len(parts) == 1:
        return Change(against, parts[0][1], parts[0][2])
    tones = {tone for _, _, tone in parts}
    return Change(
        against, " · ".join(f"{c} {t}" for c, t, _ in parts), tones.pop() if len(tones) == 1 else "flat"
    )


def _money_tile(
    label: str, now: Money, against: list[tuple[str, Money]], *, currency: str, rates: Rates
) -> Tile:
    """One money tile in ``currency``; its changes compare converted totals (every window at the
    same rates, so a change is the business's, not the exchange rate's). Without a rate for
    some currency the tile shows each currency on its own, as stored."""
    total = money_convert(amounts=now, currency=currency, rates=rates)
    earlier = [
        (text, money_convert(amounts=then, currency=currency, rates=rates), then) for text, then in against
    ]
    if total.total is None or any(c.total is None for _, c, _ in earlier):
        return Tile(
            label, money_map(now).split(" · "), [_change(t, now, then) for t, _, then in earlier], total
        )
    changes = [_change(text, total.total, c.total or Decimal(0)) for text, c, _ in earlier]
    return Tile(label, [f"{total.total:,.2f} {currency}"], changes, total)


def tiles(now: Totals, *against: tuple[str, Totals], currency: str, rates: Rates) -> list[Tile]:
    """Clicks, conversions, revenue, payout and margin, each with its change against each of
    ``against`` (label, totals); money in ``currency`` at ``rates``."""
    out = []
    for label, name in (("Clicks", "clicks"), ("Conversions", "conversions")):
        value = getattr(now, name)
        out.append(
            Tile(label, [f"{value:,}"], [_change(text, value, getattr(t, name)) for text, t in against])
        )
    for label, name in (("Revenue", "revenue"), ("Payout", "payout"), ("Margin", "margin")):
        earlier = [(text, getattr(t, name)) for text, t in against]
        out.append(_money_tile(label, getattr(now, name), earlier, currency=currency, rates=rates))
    return out


# --- One advertiser, publisher or offer over a period and the one before -------------------


def window_totals(*, start: datetime, end: datetime, where: Q) -> Totals:
    """Clicks, counted conversions, revenue and payout in [start, end) matching ``where``, a
    filter both traffic and commissions have (publisher_id, offer_id, offer__advertiser_id)."""
    clicks, conversions = window_counts(start=start, end=end, where=where)
    money = (
        Commission.objects.filter(where, created_at__gte=start, created_at__lt=end, status__in=EARNING)
        .values("currency")
        .annotate(revenue=Sum("revenue"), payout=Sum("payout"))
        .order_by()
    )
    return Totals(
        clicks=clicks,
        conversions=conversions,
        revenue={r["currency"]: r["revenue"] for r in money},
        payout={r["currency"]: r["payout"] for r in money},
    )


def period_tiles(
    *,
    start: datetime,
    end: datetime,
    where: Q,
    currency: str,
    rates: Rates,
    previous: tuple[datetime, datetime] | None = None,
) -> list[Tile]:
    """The period's tiles against ``previous`` (a DateRange's previous period), by default the
    same length of time just before it."""
    prev_start, prev_end = previous or (start - (end - start), start)
    before = window_totals(start=prev_start, end=prev_end, where=where)
    now = window_totals(start=start, end=end, where=where)
    return tiles(now, ("previous period", before), currency=currency, rates=rates)


@dataclass(frozen=True)
class TopRow:
    id: int
    name: str
    conversions: int
    revenue: Money
    payout: Money
    #: Revenue and margin in the reporting currency, each with its per-currency breakdown.
    revenue_total: Converted
    margin_total: Converted

    @property
    def margin(self) -> Money:
        return {c: self.revenue[c] - self.payout.get(c, Decimal(0)) for c in self.revenue}


def top_by(
    *, start: datetime, end: datetime, where: Q, by: str, currency: str, rates: Rates, limit: int = 5
) -> list[TopRow]:
    """The offers (``by="offer"``) or publishers (``by="publisher"``) with the most counted
    conversions in [start, end) matching ``where``, with the money of all their earning
    commissions per currency (CPC and CPM days earn without conversions), totalled in
    ``currency`` at ``rates``."""
    rows = (
        Commission.objects.filter(where, created_at__gte=start, created_at__lt=end, status__in=EARNING)
        .values(f"{by}_id", f"{by}__name", "currency")
        .annotate(
            n=Count("pk", filter=Q(kind=Commission.Kind.CONVERSION)),
            revenue=Sum("revenue"),
            payout=Sum("payout"),
        )
        .order_by()
    )
    merged: dict[int, dict[str, Any]] = {}
    for r in rows:
        row = merged.setdefault(
            r[f"{by}_id"], {"name": r[f"{by}__name"], "n": 0, "revenue": {}, "payout": {}}
        )
        row["n"] += r["n"]
        row["revenue"][r["currency"]] = r["revenue"]
        row["payout"][r["currency"]] = r["payout"]
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1]["n"], kv[1]["name"]))[:limit]
    out = []
    for pk, v in ranked:
        margin = {c: r - v["payout"].get(c, Decimal(0)) for c, r in v["revenue"].items()}
        out.append(
            TopRow(
                pk,
                v["name"],
                v["n"],
                v["revenue"],
                v["payout"],
                money_convert(amounts=v["revenue"], currency=currency, rates=rates),
                money_convert(amounts=margin, currency=currency, rates=rates),
            )
        )
    return out


# --- The overview ---------------------------------------------------------------------------


def _money_per_day(*, now: datetime, days: int) -> dict[date, tuple[Money, Money]]:
    rows = (
        Commission.objects.filter(so_far_filter(now, days), status__in=EARNING)
        .annotate(d=TruncDate("created_at"))
        .values("d", "currency")
        .annotate(revenue=Sum("revenue"), payout=Sum("payout"))
        .order_by()
    )
    out: dict[date, tuple[Money, Money]] = defaultdict(lambda: ({}, {}))
    for r in rows:
        out[r["d"]][0][r["currency"]] = r["revenue"]
        out[r["d"]][1][r["currency"]] = r["payout"]
    return out


@dataclass(frozen=True)
class Network:
    today: Totals
    yesterday: Totals
    week_average: Totals


def network_so_far(*, now: datetime | None = None) -> Network:
    """Today up to now, yesterday up to the same time, and the average of the 7 days before
    today up to the same time (UTC)."""
    now = now or timezone.now()
    today = now.date()
    counts = counts_per_day(now=now, days=7)
    money = _money_per_day(now=now, days=7)

    def day(d: date) -> Totals:
        clicks, conversions = counts.get((None, d), (0, 0))
        revenue, payout = money.get(d, ({}, {}))
        return Totals(clicks, conversions, dict(revenue), dict(payout))

    week = Totals()
    for i in range(1, 8):
        _add(week, day(today - timedelta(days=i)))
    return Network(
        today=day(today), yesterday=day(today - timedelta(days=1)), week_average=week.scaled(Decimal(1) / 7)
    )


def accounts_so_far(*, now: datetime, where: Q) -> Network:
    """``network_so_far`` for the traffic matching ``where`` (an account manager's accounts):
    read from the raw rows, as the network's per-day counts are not kept per account."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def day(back: int) -> Totals:
        shift = timedelta(days=back)
        return window_totals(start=midnight - shift, end=now - shift, where=where)

    week = Totals()
    for i in range(1, 8):
        _add(week, day(i))
    return Network(today=day(0), yesterday=day(1), week_average=week.scaled(Decimal(1) / 7))


@dataclass(frozen=True)
class Mover:
    offer: Offer
    clicks_today: int
    clicks_usual: int
    conversions_today: int
    conversions_usual: int

    @property
    def change(self) -> int:
        return self.clicks_today - self.clicks_usual


def top_movers(
    *, now: datetime | None = None, limit: int = 5, offers: QuerySet[Offer] | None = None
) -> tuple[list[Mover], list[Mover]]:
    """Offers (of ``offers``: the viewer's) whose clicks today (so far) differ most from their
    7-day average by this hour: (risers, fallers)."""
    now = now or timezone.now()
    today = now.date()
    counts = counts_per_day(now=now, days=7, by="offer_id")
    today_of: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    week_of: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for (offer_id, d), (clicks, conversions) in counts.items():
        if d == today:
            today_of[offer_id] = (clicks, conversions)
        else:
            week_of[offer_id][0] += clicks
            week_of[offer_id][1] += conversions
    found = (Offer.objects.all() if offers is None else offers).in_bulk({*today_of, *week_of})
    movers = [
        Mover(
            found[pk],
            *(today_of[pk][0], round(week_of[pk][0] / 7)),
            today_of[pk][1],
            round(week_of[pk][1] / 7),
        )
        for pk in found
    ]
    risers = sorted((m for m in movers if m.change > 0), key=lambda m: -m.change)[:limit]
    fallers = sorted((m for m in movers if m.change < 0), key=lambda m: m.change)[:limit]
    return risers, fallers


@dataclass(frozen=True)
class Waiting:
    publishers_pending: int
    access_pending: int
    held: int
    invoices_unpaid: int
    invoices_overdue: int
    postbacks_failed: int


def _owing_advertiser_ids() -> list[int]:
    """Advertisers whose receivable (approved revenue less payments) is positive in a currency."""
    rows = (
        Entry.objects.filter(account__kind=Account.Kind.ADVERTISER_RECEIVABLE)
        .values("account__advertiser_id", "currency")
        .annotate(total=MoneySum("amount"))
        .order_by()
    )
    return sorted({r["account__advertiser_id"] for r in rows if r["total"] and r["total"] > 0})


def waiting_for_staff(*, now: datetime | None = None, actor: Actor | None = None) -> Waiting:
    """The queues on the overview, counted over what ``actor`` may see (affiliates.roles.scope):
    an account manager counts only their assigned advertisers' and publishers' items, an admin
    (or no actor: the network) every item. An invoice counts as unpaid while its advertiser
    owes (the rule the overdue notice uses: payments settle the balance, not one invoice)."""
    now = now or timezone.now()
    actor = actor or NETWORK

    def mine(qs: QuerySet[Any], advertiser: str | None, publisher: str | None) -> QuerySet[Any]:
        return scope(qs, actor, advertiser_path=advertiser, publisher_path=publisher)

    invoices = mine(
        Document.objects.filter(kind=Document.Kind.INVOICE, advertiser_id__in=_owing_advertiser_ids()),
        "advertiser_id",
        None,
    )
    failed = CallbackDelivery.objects.filter(
        publisher__isnull=False,
        status=CallbackDelivery.Status.FAILED,
        created_at__gte=now - timedelta(days=7),
    )
    return Waiting(
        publishers_pending=mine(
            Publisher.objects.filter(status=Publisher.Status.PENDING), None, "id"
        ).count(),
        access_pending=mine(
            OfferAccess.objects.filter(status=OfferAccess.Status.PENDING),
            "offer__advertiser_id",
            "publisher_id",
        ).count(),
        held=conversions_held_count(
            where=scope_q(actor, advertiser_path="offer__advertiser_id", publisher_path="publisher_id")
        ),
        invoices_unpaid=invoices.count(),
        invoices_overdue=invoices.filter(due_date__lt=now.date()).count(),
        postbacks_failed=mine(failed, None, "publisher_id").count(),
    )
