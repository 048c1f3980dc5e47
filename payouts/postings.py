"""How commissions move money in the ledger, set-based.

A commission's *position* is what the ledger holds for it: nothing, its pending amounts, or its
approved amounts. Every change (creation, approval, rejection, reversal, an amount adjustment,
a daily line growing) is posted as ``position(new) - position(old)``. So a rejection or a
reversal posts exactly the opposite of what is outstanding, an approval moves the amounts from
the pending accounts to the approved ones, and nothing is ever edited: each change is a new
transaction whose entries sum to zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Q

from affiliates.core.audit import AuditChange, audit_log_changes
from payouts.bulk import insert_rows
from payouts.ledger import UnbalancedTransaction
from payouts.models import Account, Commission, CommissionStatus, Entry, Transaction
from payouts.models.commissions import commission_txn_key

K = Account.Kind
ZERO = Decimal("0")

# (kind, advertiser_id, publisher_id, currency): an account before we know its id.
AccountSpec = tuple[str, int | None, int | None, str]

_ADVERTISER_KINDS = {K.ADVERTISER_PENDING, K.ADVERTISER_RECEIVABLE}
_PUBLISHER_KINDS = {K.PUBLISHER_PENDING, K.PUBLISHER_PAYABLE}
_LEGS: dict[str, tuple[str, ...]] = {
    CommissionStatus.PENDING: (K.ADVERTISER_PENDING, K.PUBLISHER_PENDING, K.NETWORK_PENDING_MARGIN),
    CommissionStatus.APPROVED: (K.ADVERTISER_RECEIVABLE, K.PUBLISHER_PAYABLE, K.NETWORK_MARGIN),
}


def account_spec(kind: str, *, advertiser_id: int, publisher_id: int, currency: str) -> AccountSpec:
    if kind in _ADVERTISER_KINDS:
        return (kind, advertiser_id, None, currency)
    if kind in _PUBLISHER_KINDS:
        return (kind, None, publisher_id, currency)
    return (kind, None, None, currency)


def position_kinds(status: str) -> tuple[str, ...]:
    """The account kinds a commission in ``status`` has a position in (none when closed)."""
    return _LEGS.get(status, ())


def position(status: str, revenue: Decimal, payout: Decimal) -> dict[str, Decimal]:
    """What the ledger holds for a commission in ``status``, by account kind (debit positive).

    The advertiser owes the revenue (debit), the network owes the publisher the payout (credit),
    and the network keeps the difference as margin (credit; a debit if the payout exceeds it).
    """
    legs = _LEGS.get(status)
    if legs is None:
        return {}
    advertiser, publisher, margin = legs
    return {advertiser: revenue, publisher: -payout, margin: payout - revenue}


def creation_lines(status: str, revenue: Decimal, payout: Decimal) -> list[tuple[str, Decimal]]:
    """(account kind, amount) of the posting that opens a commission: its position, without the
    zero lines (an entry is never zero). What ``posting_for`` posts with ``old=None``."""
    return [(kind, amount) for kind, amount in position(status, revenue, payout).items() if amount]


class CommissionRef(NamedTuple):
    """What a posting needs of a commission, without building a model instance per row."""

    pk: int
    advertiser_id: int
    publisher_id: int
    currency: str


@dataclass
class Posting:
    kind: str
    key: str
    lines: list[tuple[AccountSpec, Decimal]]
    commission_id: int | None = None
    memo: str = ""


def posting_for(
    commission: Commission | CommissionRef,
    *,
    kind: str,
    revision: int,
    old: tuple[str, Decimal, Decimal] | None,
    new: tuple[str, Decimal, Decimal],
    memo: str = "",
) -> Posting:
    """The posting that takes ``commission`` from position ``old`` (None: nothing) to ``new``."""
    delta: dict[str, Decimal] = defaultdict(Decimal)
    for kind_, amount in position(*new).items():
        delta[kind_] += amount
    for kind_, amount in (position(*old) if old else {}).items():
        delta[kind_] -= amount
    lines = [
        (
            account_spec(
                kind_,
                advertiser_id=commission.advertiser_id,
                publisher_id=commission.publisher_id,
                currency=commission.currency,
            ),
            amount,
        )
        for kind_, amount in delta.items()
        if amount != 0
    ]
    return Posting(
        kind=kind,
        key=commission_txn_key(commission.pk, revision),
        lines=lines,
        commission_id=commission.pk,
        memo=memo,
    )


def accounts_resolve(specs: Iterable[AccountSpec]) -> dict[AccountSpec, int]:
    """Ids of these accounts, creating the missing ones (concurrent creators are harmless)."""
    wanted = set(specs)
    found = accounts_find(wanted)
    missing = wanted - found.keys()
    if missing:
        insert_rows(
            "payouts_account",
            [("kind", "str"), ("advertiser_id", "int"), ("publisher_id", "int"), ("currency", "str")],
            sorted(missing, key=str),
        )
        found.update(accounts_find(missing))
    return found


def accounts_find(specs: set[AccountSpec]) -> dict[AccountSpec, int]:
    """Ids of those of these accounts that exist."""
    if not specs:
        return {}
    advertisers = {s[1] for s in specs if s[1] is not None}
    publishers = {s[2] for s in specs if s[2] is not None}
    rows = (
        Account.objects.filter(kind__in={s[0] for s in specs}, currency__in={s[3] for s in specs})
        .filter(
            Q(advertiser_id__in_ids=advertisers)
            | Q(publisher_id__in_ids=publishers)
            | Q(advertiser_id__isnull=True, publisher_id__isnull=True)
        )
        .order_by()
    )
    out: dict[AccountSpec, int] = {}
    for kind, adv, pub, cur, pk in rows.values_list(
        "kind", "advertiser_id", "publisher_id", "currency", "id"
    ):
        spec = (kind, adv, pub, cur)
        if spec in specs:
            out[spec] = pk
    return out


def ledger_post_many(postings: Sequence[Posting], *, now: datetime) -> set[str]:
    """Write balanced transactions and their entries in two statements. Returns the keys
    actually written: a key already in the ledger is skipped, with its entries."""
    postings = [p for p in postings if p.lines]
    for p in postings:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for spec, amount in p.lines:
            totals[spec[3]] += amount
        if any(total != 0 for total in totals.values()):
            raise UnbalancedTransaction(f"{p.key}: entries do not sum to zero: {dict(totals)}")
    if not postings:
        return set()
    accounts = accounts_resolve(spec for p in postings for spec, _ in p.lines)
    # The entries go in one insert_rows: the database checks that each transaction's entries sum
    # to zero (payouts.ledger_guard), per statement on PostgreSQL, at commit on SQLite.
    written = insert_rows(
        Transaction._meta.db_table,
        [("kind", "str"), ("key", "str"), ("commission_id", "int"), ("memo", "str"), ("created_at", "ts")],
        [(p.kind, p.key, p.commission_id, p.memo, now) for p in postings],
        conflict="key",
        returning=("id", "key"),
    )
    txn_ids = {key: pk for pk, key in written}
    insert_rows(
        Entry._meta.db_table,
        [
            ("transaction_id", "int"),
            ("account_id", "int"),
            ("amount", "money"),
            ("currency", "str"),
            ("created_at", "ts"),
        ],
        [
            (txn_ids[p.key], accounts[spec], amount, spec[3], now)
            for p in postings
            if p.key in txn_ids
            for spec, amount in p.lines
        ],
        conflict="id",
    )
    return set(txn_ids)


@dataclass
class Change:
    """Bring a locked commission to a new status and/or amounts."""

    commission: Commission
    status: str
    revenue: Decimal
    payout: Decimal
    txn_kind: str
    reason: str = ""
    actor: str = ""  # who asked: staff:<id>, advertiser:<id>, hold, reconcile
    quantity: int | None = None
    memo: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def changes_apply(changes: Sequence[Change], *, now: datetime) -> list[Commission]:
    """Post each change and update the commission rows. Returns the commissions changed.

    The caller must hold row locks on the commissions (``commissions_lock``) inside the same
    database transaction, so ``revision`` cannot move underneath us; the unique transaction key
    is the backstop that makes a double posting impossible even so.
    """
    postings = []
    for ch in changes:
        c = ch.commission
        postings.append(
            posting_for(
                c,
                kind=ch.txn_kind,
                revision=c.revision + 1,
                old=(c.status, c.revenue, c.payout),
                new=(ch.status, ch.revenue, ch.payout),
                memo=ch.memo or ch.reason[:255],
            )
        )
    written = ledger_post_many(postings, now=now)
    changed, audited = [], []
    for ch, posting in zip(changes, postings, strict=True):
        c = ch.commission
        if posting.lines and posting.key not in written:
            continue  # already posted by someone else: leave the row as they left it
        before = {name: getattr(c, name) for name in AUDITED}
        if posting.lines:
            c.revision += 1
        if ch.status != c.status:
            if ch.status == CommissionStatus.APPROVED:
                c.approved_at = now
            elif ch.status in (CommissionStatus.REVERSED, CommissionStatus.REJECTED):
                c.reversed_at = now
            c.status = ch.status
            c.status_reason = ch.reason[:255]
            c.status_by = ch.actor[:64]
        c.revenue, c.payout = ch.revenue, ch.payout
        if ch.quantity is not None:
            c.quantity = ch.quantity
        for name, value in ch.extra.items():
            setattr(c, name, value)
        c.updated_at = now
        changed.append(c)
        audited.append(_audit_change(c, ch, before))
    if changed:
        fields = [
            "status",
            "status_reason",
            "status_by",
            "revenue",
            "payout",
            "quantity",
            "revision",
            "approved_at",
            "reversed_at",
            "updated_at",
            *{n for ch in changes for n in ch.extra},
        ]
        Commission.objects.bulk_update(changed, fields, batch_size=500)
        audit_log_changes([a for a in audited if a.changes])
    return changed


#: What the audit log keeps of a commission change (bulk_update fires no signal, so it is
#: logged here, one INSERT per batch). Amounts only when someone asked (an adjustment): a CPC
#: or CPM daily line growing as clicks come in is an event, not an edit.
AUDITED = ("status", "status_reason", "held_for_review", "revenue", "payout", "quantity")
SYSTEM_SOURCES = {"hold": "hold job", "": "reconcile"}  # else the decider's label: "advertiser:7"


def _audit_change(c: Commission, ch: Change, before: dict[str, object]) -> AuditChange:
    names = AUDITED if ch.actor else ("status", "held_for_review")
    diff = {n: (before[n], getattr(c, n)) for n in names if before[n] != getattr(c, n)}
    if "status" in diff and before["status_reason"] != c.status_reason:
        diff["status_reason"] = (before["status_reason"], c.status_reason)
    source = SYSTEM_SOURCES.get(ch.actor, ch.actor)
    return AuditChange(instance=c, changes=diff, source=source)


def commissions_lock(ids: Iterable[int]) -> list[Commission]:
    """Lock and load commissions, always in pk order so two lockers cannot deadlock.
    Must be called inside ``transaction.atomic``."""
    wanted = list(ids)
    if not wanted:
        return []
    return list(Commission.objects.filter(id__in_ids=wanted).order_by("id").select_for_update())
