"""PostgreSQL fast path for reconciliation's new commissions: COPY instead of INSERT.

A batch of 5,000 conversions writes about 25,000 rows (a commission, its ledger transaction and
two or three entries each). ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING
RETURNING`` inserts them one speculative row at a time and needs the generated ids back before
the next table can refer to them. Binary COPY writes pages in bulk and skips the conflict
machinery, and reserving the commission and transaction ids from their sequences up front lets
every row refer to the others without a round trip.

Idempotency does not rest on ``ON CONFLICT`` here: the caller has taken the conversions' ids out
of the reconciliation queue in its open transaction (nobody else can take or queue them again
until it ends) and has already left out those that have a commission, and only the taker of a
conversion's id creates its commission. The unique ``source_key`` and ``Transaction.key``
still stand behind it: a duplicate makes COPY fail, the batch rolls back whole, and
``payouts.reconcile`` redoes it on the ``ON CONFLICT`` path. The ledger rows are the ones
``payouts.postings.posting_for`` would post (``creation_lines``); a test compares both paths.
COPY fires the tables' triggers like INSERT does: the entries' reference check (payouts 0002_triggers),
their zero-sum check (payouts.ledger_guard; one COPY holds every entry of every transaction)
and the report dirty-hour marks run once per COPY.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connection

from payouts.models import Commission, Entry, Transaction
from payouts.models.commissions import commission_txn_key
from payouts.postings import account_spec, accounts_find, accounts_resolve, creation_lines, position_kinds

COMMISSION = Transaction.Kind.COMMISSION
# Binary COPY must send each value in its column's exact wire type (int4 is not int8).
# varchar travels as text: both have the same binary form.
_WIRE_TYPE = {
    16: "bool",
    20: "int8",
    23: "int4",
    25: "text",
    1043: "text",
    1082: "date",
    1184: "timestamptz",
    1700: "numeric",
}


@cache
def _wire_types(table: str, columns: tuple[str, ...]) -> list[str]:
    """The COPY types of ``columns``, read once per process from the catalog."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
            [table],
        )
        oids = dict(cursor.fetchall())
    return [_WIRE_TYPE[oids[c]] for c in columns]


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    types = _wire_types(table, columns)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _reserve_ids(cursor: Any, n: int) -> list[tuple[int, int]]:
    """n (commission id, transaction id) pairs, taken from the tables' own sequences."""
    # MATERIALIZED: the sequences are looked up once, not per row, which would cost more than
    # nextval itself.
    cursor.execute(
        "WITH seq AS MATERIALIZED (SELECT pg_get_serial_sequence('payouts_commission', 'id')::regclass AS c, "
        "pg_get_serial_sequence('payouts_transaction', 'id')::regclass AS t) "
        "SELECT nextval(seq.c), nextval(seq.t) FROM seq, generate_series(1, %s)",
        [n],
        binary=True,
    )
    pairs: list[tuple[int, int]] = cursor.fetchall()
    return pairs


Owner = tuple[str, int, int, str]  # a commission's (status, advertiser, publisher, currency)


def _owner_accounts(
    rows: Sequence[tuple[Any, ...]], lines: list[list[tuple[str, Decimal]]], at: tuple[int, int, int, int]
) -> dict[Owner, dict[str, int]]:
    """Account id by kind for each (status, advertiser, publisher, currency) of the batch.

    The accounts of every kind of each status are looked up at once. Only when some are missing
    (a new publisher, a first currency) are the lines read to create exactly those a posting
    uses, as ``accounts_resolve`` would: no account is made that no entry needs.
    """
    status, adv, pub, cur = at
    specs = {
        owner: {
            kind: account_spec(kind, advertiser_id=owner[1], publisher_id=owner[2], currency=owner[3])
            for kind in position_kinds(owner[0])
        }
        for owner in {(r[status], r[adv], r[pub], r[cur]) for r in rows}
    }
    wanted = {spec for by_kind in specs.values() for spec in by_kind.values()}
    found = accounts_find(wanted)
    if len(found) < len(wanted):
        used = {
            specs[r[status], r[adv], r[pub], r[cur]][kind]
            for r, legs in zip(rows, lines, strict=True)
            for kind, _ in legs
        }
        found.update(accounts_resolve(used - found.keys()))
    return {
        owner: {kind: found[spec] for kind, spec in by_kind.items() if spec in found}
        for owner, by_kind in specs.items()
    }


def commissions_copy(rows: Sequence[tuple[Any, ...]], *, columns: Sequence[str], now: datetime) -> list[int]:
    """Write new commissions (rows of ``columns``, without id and timestamps), their creation
    transactions and entries. Must run inside the batch's transaction, which has taken the
    conversions' ids out of the queue. Returns the new commission ids."""
    if not rows:
        return []
    import psycopg

    col = {name: i for i, name in enumerate(columns)}
    adv, pub, cur, status = col["advertiser_id"], col["publisher_id"], col["currency"], col["status"]
    revenue, payout = col["revenue"], col["payout"]
    lines = [creation_lines(r[status], r[revenue], r[payout]) for r in rows]
    owners = _owner_accounts(rows, lines, (status, adv, pub, cur))
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        ids = _reserve_ids(cursor, len(rows))
        _copy(
            cursor,
            Commission._meta.db_table,
            ("id", *columns, "created_at", "updated_at"),
            [(cid, *r, now, now) for (cid, _), r in zip(ids, rows, strict=True)],
        )
        txns: list[tuple[Any, ...]] = []
        entries: list[tuple[Any, ...]] = []
        for (cid, tid), r, legs in zip(ids, rows, lines, strict=True):
            if not legs:
                continue  # nothing to post (a zero price): no transaction, as ledger_post_many
            txns.append((tid, COMMISSION, commission_txn_key(cid, 1), cid, "", now))
            account = owners[r[status], r[adv], r[pub], r[cur]]
            entries.extend([(tid, account[kind], amount, r[cur], now) for kind, amount in legs])
        txn_columns = ("id", "kind", "key", "commission_id", "memo", "created_at")
        _copy(cursor, Transaction._meta.db_table, txn_columns, txns)
        _copy(
            cursor,
            Entry._meta.db_table,
            ("transaction_id", "account_id", "amount", "currency", "created_at"),
            entries,
        )
    return [cid for cid, _ in ids]


def rows_copy(table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    """Binary COPY of plain rows (no ids needed back): daily lines' report shares."""
    import psycopg  # as in commissions_copy: PostgreSQL only

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        _copy(cursor, table, columns, rows)
