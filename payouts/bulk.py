"""Set-based reads and inserts for reconciliation: one statement per batch, not one per row.

On PostgreSQL the rows travel as one array per column and are expanded with ``unnest``, so a
batch of thousands of rows is a single round trip with a handful of parameters. SQLite (the
embedded mode) gets a multi-row ``VALUES`` list. Both use ``ON CONFLICT DO NOTHING`` on the
idempotency key and ``RETURNING`` so the caller learns which rows it actually wrote: a row that
another worker (or an earlier, killed run) already wrote is simply not returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from affiliates.core.db import db_supports_binary_copy

# PostgreSQL array types of the columns we bulk-insert, by Python kind of value.
PG_TYPES = {
    "int": "bigint",
    "str": "text",
    "money": "numeric",
    "bool": "boolean",
    "ts": "timestamptz",
    "date": "date",
}
_SQLITE_CHUNK = 400  # rows per statement: stays under SQLite's bound-variable limit


def _sqlite_value(value: Any) -> Any:
    # Match what Django itself stores on SQLite: naive UTC text for datetimes, text for decimals.
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _pg_insert(
    table: str,
    names: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    tail: str,
    ret: bool,
) -> list[tuple[Any, ...]]:
    # A plain psycopg cursor on Django's connection (same transaction): server-side binding
    # with binary parameters. Django's default client-side binding would render every array as
    # quoted text in Python, which costs more than the INSERT itself at batch sizes.
    # A column whose value is the same on every row (a batch's timestamp, currency, kind) is sent
    # once as a scalar instead of as an array: dumping arrays is most of the client-side cost.
    import psycopg

    connection.ensure_connection()
    exprs, arrays, array_params, scalar_params = [], [], [], []
    for i, ((_, kind), col) in enumerate(zip(columns, zip(*rows, strict=True), strict=True)):
        pg_type = PG_TYPES[kind]
        if i > 0 and _constant(col):
            exprs.append(f"%s::{pg_type}")
            scalar_params.append(col[0])
        else:
            exprs.append(f"u.c{i}")
            arrays.append((f"%s::{pg_type}[]", f"c{i}"))
            array_params.append(list(col))
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} "  # noqa: S608
        f"FROM unnest({', '.join(a for a, _ in arrays)}) AS u({', '.join(n for _, n in arrays)}){tail}"
    )
    # Scalars come first in the statement text (the SELECT list), arrays after (FROM unnest).
    params = [*scalar_params, *array_params]
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall() if ret else []


def _constant(col: Sequence[Any]) -> bool:
    first = col[0]
    return all(v == first and type(v) is type(first) for v in col)


def rows_fetch(qs: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset, as tuples.

    On PostgreSQL they are read in binary by a plain psycopg cursor on Django's connection (same
    transaction): Django reads text and parses each timestamp in Python (its own tz-aware loader),
    which for a batch of thousands of rows cost more than the query. Binary timestamps come back
    aware, in the connection's time zone (UTC). Only for columns Django does not convert on
    PostgreSQL: numbers, text, booleans, dates and times.
    """
    if not db_supports_binary_copy():
        return list(qs)
    import psycopg

    sql, params = qs.query.sql_with_params()
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall()


def insert_rows(
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: str = "",
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` into ``table``, skipping rows that hit the unique ``conflict`` column.

    ``columns`` is ``[(name, kind)]`` with kind a key of PG_TYPES. Returns the ``returning``
    columns of the rows actually inserted.
    """
    if not rows:
        return []
    names = ", ".join(name for name, _ in columns)
    # No conflict column: any unique constraint (e.g. one spanning nullable columns) skips the row.
    tail = f" ON CONFLICT ({conflict}) DO NOTHING" if conflict else " ON CONFLICT DO NOTHING"
    if returning:
        tail += " RETURNING " + ", ".join(returning)
    out: list[tuple[Any, ...]] = []
    if db_supports_binary_copy():
        return _pg_insert(table, names, columns, rows, tail, bool(returning))
    # One database transaction for all the chunks (joined when the caller has one open): a batch
    # is all or nothing, and SQLite checks a ledger transaction's balance at commit
    # (payouts.ledger_guard), so its entries must not be committed chunk by chunk.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), _SQLITE_CHUNK):
            chunk = rows[start : start + _SQLITE_CHUNK]
            values = ", ".join([one] * len(chunk))
            params = [_sqlite_value(v) for row in chunk for v in row]
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES {values}{tail}", params)  # noqa: S608
            if returning:
                out.extend(cursor.fetchall())
    return out
