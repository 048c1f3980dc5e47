"""What the database can do, asked by name rather than by vendor string.

The app runs on PostgreSQL in production and on SQLite in the embedded mode. Code that takes a
faster or stricter road on PostgreSQL asks one of these questions, so a reader sees which
capability it needs. Here, in the bottom app, so tracking and payouts import it without
reaching up. The one other vendor branch is payouts/ledger_guard.py, whose SQL differs per engine.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, connections
from django.db.models import QuerySet

#: The largest id a bigint column holds: a larger number is refused (400) before the query.
MAX_ID = 2**63 - 1
#: The largest number an integer column holds (PositiveIntegerField: PostgreSQL's ``integer``).
#: A plain serializer's IntegerField has no bound of its own (a ModelSerializer takes the
#: column's): without ``max_value=MAX_INT`` a larger number reaches the INSERT, and PostgreSQL
#: refuses it with a 500 (SQLite stores it).
MAX_INT = 2**31 - 1
#: Digits of the largest number typed as text that is read as an id (any 18 digits fit a bigint).
ID_DIGITS = 18


def db_id(text: object) -> int | None:
    """A number typed as text (an id in a filter, a form, a CSV cell), or None when it is not one
    the database can hold: ASCII digits only, at most ID_DIGITS of them. Asking str whether it is
    all digits is not enough: it says yes to "²" and to 5,000 digits, and int() refuses both."""
    value = "" if text is None else str(text)
    return int(value) if value.isascii() and value.isdigit() and len(value) <= ID_DIGITS else None


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def db_supports_advisory_locks() -> bool:
    """pg_advisory_xact_lock. SQLite needs none: its IMMEDIATE transactions take the database's
    single write lock at BEGIN, which already serialises writers."""
    return _postgresql()


def db_supports_binary_copy() -> bool:
    """psycopg's binary COPY and binary cursors on Django's own connection."""
    return _postgresql()


def db_supports_skip_locked() -> bool:
    """DELETE ... RETURNING over rows taken FOR UPDATE SKIP LOCKED, so workers never share rows."""
    return _postgresql()


def db_supports_async_commit() -> bool:
    """SET LOCAL synchronous_commit TO OFF: commit without waiting for the WAL flush."""
    return _postgresql()


def db_supports_loop_connection() -> bool:
    """psycopg's async connection on the edge's event loop (tracking/conversions/aio_db.py)."""
    return _postgresql()


def db_returns_decimals() -> bool:
    """The driver gives numeric columns as Decimal (psycopg), so a query's rows need none of
    Django's converters (SQLite gives floats and text, which they turn into Decimal)."""
    return _postgresql()


def db_rows(qs: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """A ``values_list`` query's rows whose columns are numbers, text and decimals. Where the
    driver already returns Decimal, straight from the cursor: Django's converters would copy each
    Decimal into a new one, a tenth of a large report's time."""
    if not db_returns_decimals():
        return list(qs)
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def db_single_writer() -> bool:
    """One writer at a time (SQLite): more threads writing would only queue, and its in-memory
    test databases refuse a second writer outright instead of waiting."""
    return not _postgresql()


def db_advisory_lock(*, keys: tuple[int, ...]) -> None:
    """Hold an advisory lock on ``keys`` (one bigint, or two ints) until the transaction ends.

    The caller must be inside ``transaction.atomic``. A no-op on SQLite, whose single writer
    already serialises the callers."""
    if not db_supports_advisory_locks():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock({', '.join(['%s'] * len(keys))})", list(keys))
