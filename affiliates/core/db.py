"""What the database can do: the one place app code asks which engine it runs on.

PostgreSQL is production; SQLite is the embedded default (`make run`) and a test leg. Where the
two differ (advisory locks, COPY, SKIP LOCKED, commit durability), app code asks these helpers
instead of comparing vendor strings, so every such branch is found by one name.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections


def db_is_postgresql(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor == "postgresql"


def db_xact_lock(*, keys: tuple[int] | tuple[int, int], using: str = DEFAULT_DB_ALIAS) -> None:
    """Hold an advisory lock on ``keys`` until the caller's transaction ends (PostgreSQL).

    The caller must be inside ``transaction.atomic``. On SQLite it does nothing: its single
    writer (IMMEDIATE transactions) already serialises the writers these locks order.
    """
    if not db_is_postgresql(using=using):
        return
    sql = "SELECT pg_advisory_xact_lock(%s)" if len(keys) == 1 else "SELECT pg_advisory_xact_lock(%s, %s)"
    with connections[using].cursor() as cursor:
        cursor.execute(sql, list(keys))
