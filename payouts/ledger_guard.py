"""The ledger's rules, kept by the database: every transaction sums to zero, nothing is rewritten.

``payouts.ledger`` and ``payouts.postings`` already refuse an unbalanced posting in Python. The
rules live in SQL as well because Python is not the only writer: an admin shell, a bad
migration, a data fix in psql or another service all reach the tables without passing through
this code. A trigger makes the rules a property of the data.

Two parts, installed by migration payouts 0002_triggers (and again by any later migration that
rebuilds these tables on SQLite, which drops a table's triggers with it):

- ``append_only``: UPDATE and DELETE of transactions, entries and accounts are refused, and on
  PostgreSQL TRUNCATE too. A mistake is corrected by a reversing transaction
  (``payouts.corrections``), never by editing money history.
- ``balance``: a ledger transaction whose entries do not sum to zero per currency cannot commit.

PostgreSQL enforces both fully. SQLite (the embedded mode) has no statement-level triggers and
no commit hook in SQL, so the balance rule borrows the one thing SQLite does check at COMMIT, a
deferred foreign key; see ``SQLITE_BALANCE`` for how, and for its limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

from django.db.backends.base.base import BaseDatabaseWrapper

from affiliates.core.money import MONEY_PLACES

Part = Literal["append_only", "balance"]
PARTS: tuple[Part, ...] = ("append_only", "balance")
LEDGER_TABLES = ("payouts_transaction", "payouts_entry", "payouts_account")


class UnbalancedLedger(RuntimeError):
    """The ledger already holds transactions that do not balance: the guard will not go on top."""


# --- PostgreSQL ---------------------------------------------------------------------------------

# Row triggers refuse UPDATE and DELETE. TRUNCATE fires no row trigger, so each table also gets
# a statement trigger for it: TRUNCATE is the one-line way to lose every entry, and CASCADE from
# payouts_commission reaches payouts_transaction through its foreign key. Tests that must empty
# the ledger lift this part for the length of their flush (the root conftest), inside the flush's
# own transaction.
PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION payouts_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Correct a mistake with a reversing transaction: manage.py ledger_reverse.';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
DROP TRIGGER IF EXISTS {t}_append_only ON {t};
CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t}
    FOR EACH ROW EXECUTE FUNCTION payouts_ledger_append_only();
DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};
CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION payouts_ledger_append_only();
"""
    for t in LEDGER_TABLES
)
PG_APPEND_ONLY_REMOVE = "".join(
    f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}; DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};"
    for t in LEDGER_TABLES
)

# One check per INSERT (or COPY) statement, over the statement's new rows (transition table),
# after the statement: all of a transaction's entries are written by one statement (ledger_post's
# bulk_create, postings' unnest INSERT, reconciliation's COPY), so the check sees them together
# and costs one aggregate over rows already in memory, not a query per row as a deferred
# constraint trigger (row-level only) would at every commit.
#
# Why the new rows suffice: a transaction's total after the statement is its total before plus
# the statement's rows. Before, it was zero: every earlier statement passed this check, entries
# can be neither updated nor deleted (append_only), and installing the guard verified the rows
# already there (ledger_guard_install). So a statement passes exactly when every transaction it
# touches still sums to zero. A statement that adds entries to an existing transaction must bring
# their own balance with them.
#
# Named to sort after payouts_entry_references: PostgreSQL fires a table's triggers in name order,
# and an entry naming a missing transaction should be told that first.
PG_BALANCE = """
CREATE OR REPLACE FUNCTION payouts_ledger_zero_sum() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    SELECT transaction_id, currency, sum(amount) AS total INTO bad
    FROM new_entries GROUP BY transaction_id, currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: its % entries sum to %',
            bad.transaction_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation',
                  HINT = 'Write a transaction''s entries in one statement, summing to zero per currency.';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS payouts_entry_zero_sum ON payouts_entry;
CREATE TRIGGER payouts_entry_zero_sum AFTER INSERT ON payouts_entry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION payouts_ledger_zero_sum();
"""
PG_BALANCE_REMOVE = """
DROP TRIGGER IF EXISTS payouts_entry_zero_sum ON payouts_entry;
DROP FUNCTION IF EXISTS payouts_ledger_zero_sum();
"""

# --- SQLite -------------------------------------------------------------------------------------

# RAISE(ABORT) per row on UPDATE and DELETE. SQLite has no TRUNCATE: DELETE without WHERE is a
# DELETE, and a table with a DELETE trigger never takes the truncate shortcut, so these refuse it
# too.
SQLITE_APPEND_ONLY = [
    f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'ledger is append-only: {op} on {t} is not allowed'); END"
    for t in LEDGER_TABLES
    for op in ("UPDATE", "DELETE")
]
SQLITE_APPEND_ONLY_REMOVE = [
    f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in LEDGER_TABLES for op in ("update", "delete")
]

# SQLite triggers are row-level and it has no deferred triggers, so no trigger can look at a
# whole transaction's entries. What SQLite does check at COMMIT (or at the end of a statement in
# autocommit) is a deferred foreign key, and that is the lever:
#
# - payouts_ledger_unbalanced holds, per (transaction, currency) whose entries do not sum to
#   zero yet, the running total in millionths (MONEY_PLACES; integers, because SQLite keeps
#   decimals as floating point). The AFTER INSERT trigger on payouts_entry adds each entry to its
#   row and deletes the row when the total comes back to zero.
# - Each of its rows names its transaction in payouts_ledger_exempt through a DEFERRABLE
#   INITIALLY DEFERRED foreign key. That table stays empty (a trigger refuses inserts), so every
#   unbalanced row is a pending foreign-key violation, and SQLite refuses to COMMIT while one is
#   left: "FOREIGN KEY constraint failed". A balanced transaction leaves no row behind.
#
# Limits, honestly: the error names no transaction (``ledger_unbalanced`` or
# ``PRAGMA foreign_key_check(payouts_ledger_unbalanced)`` does); it holds only while foreign keys
# are on (Django turns them on for every connection; ``PRAGMA foreign_keys = OFF`` turns it off,
# as it turns off every foreign key, and Django's SQLite schema editor does so during migrations,
# then runs a foreign-key check over the whole database at the end of each); and anyone who can
# write the file can drop triggers. Django's test transactions never commit, but each test's
# teardown runs that same foreign-key check, so an unbalanced posting still fails its test.
SQLITE_BALANCE = [
    "CREATE TABLE IF NOT EXISTS payouts_ledger_exempt (transaction_id INTEGER PRIMARY KEY)",
    "CREATE TRIGGER IF NOT EXISTS payouts_ledger_exempt_stays_empty BEFORE INSERT ON payouts_ledger_exempt "
    "BEGIN SELECT RAISE(ABORT, 'no ledger transaction is exempt from balancing'); END",
    "CREATE TABLE IF NOT EXISTS payouts_ledger_unbalanced ("
    " id INTEGER PRIMARY KEY,"
    " transaction_id INTEGER NOT NULL"
    "  REFERENCES payouts_ledger_exempt (transaction_id) DEFERRABLE INITIALLY DEFERRED,"
    " currency TEXT NOT NULL,"
    " total_micros INTEGER NOT NULL,"
    " UNIQUE (transaction_id, currency))",
    # The scale is a constant of ours, not input.
    f"""
CREATE TRIGGER IF NOT EXISTS payouts_entry_zero_sum AFTER INSERT ON payouts_entry BEGIN
    INSERT INTO payouts_ledger_unbalanced (transaction_id, currency, total_micros)
        VALUES (NEW.transaction_id, NEW.currency, CAST(round(NEW.amount * 1e{MONEY_PLACES}) AS INTEGER))
        ON CONFLICT (transaction_id, currency)
        DO UPDATE SET total_micros = total_micros + excluded.total_micros;
    DELETE FROM payouts_ledger_unbalanced
        WHERE transaction_id = NEW.transaction_id AND currency = NEW.currency AND total_micros = 0;
END""",  # noqa: S608
]
SQLITE_BALANCE_REMOVE = [
    "DROP TRIGGER IF EXISTS payouts_entry_zero_sum",
    "DROP TABLE IF EXISTS payouts_ledger_unbalanced",
    "DROP TABLE IF EXISTS payouts_ledger_exempt",
]

# --- Installing ---------------------------------------------------------------------------------

_INSTALL: dict[str, dict[Part, list[str]]] = {
    "postgresql": {"append_only": [PG_APPEND_ONLY], "balance": [PG_BALANCE]},
    "sqlite": {"append_only": SQLITE_APPEND_ONLY, "balance": SQLITE_BALANCE},
}
_REMOVE: dict[str, dict[Part, list[str]]] = {
    "postgresql": {"append_only": [PG_APPEND_ONLY_REMOVE], "balance": [PG_BALANCE_REMOVE]},
    "sqlite": {"append_only": SQLITE_APPEND_ONLY_REMOVE, "balance": SQLITE_BALANCE_REMOVE},
}


def _statements(connection: BaseDatabaseWrapper, part: Part, *, install: bool) -> list[str]:
    by_vendor = _INSTALL if install else _REMOVE
    if connection.vendor not in by_vendor:
        raise NotImplementedError(f"no ledger guard for {connection.vendor}: PostgreSQL and SQLite only")
    return by_vendor[connection.vendor][part]


def _run(connection: BaseDatabaseWrapper, statements: Iterable[str]) -> None:
    # Straight to the cursor, without parameters: PL/pgSQL's '%' placeholders are not ours.
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def ledger_unbalanced(*, connection: BaseDatabaseWrapper, limit: int = 20) -> list[tuple[int, str, Decimal]]:
    """(transaction id, currency, total) of transactions whose entries do not sum to zero."""
    # ROUND: on SQLite the stored amounts are floating point (see money.MoneySum).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT transaction_id, currency, ROUND(SUM(amount), %s) FROM payouts_entry "
            "GROUP BY transaction_id, currency HAVING ROUND(SUM(amount), %s) <> 0 "
            "ORDER BY transaction_id LIMIT %s",
            [MONEY_PLACES, MONEY_PLACES, limit],
        )
        return [(int(t), str(c), Decimal(str(total))) for t, c, total in cursor.fetchall()]


def ledger_guard_install(*, connection: BaseDatabaseWrapper, parts: Iterable[Part] = PARTS) -> None:
    """Install (or re-install: idempotent) the guard's parts on this connection's database.

    Refuses with ``UnbalancedLedger`` when installing ``balance`` over entries that already do
    not balance: the zero-sum check trusts what is there (see PG_BALANCE), so it must be true.
    """
    parts = tuple(parts)
    if "balance" in parts and (bad := ledger_unbalanced(connection=connection)):
        raise UnbalancedLedger(
            "the ledger holds transactions whose entries do not sum to zero "
            f"(transaction, currency, total): {bad}; post correcting entries before migrating"
        )
    for part in parts:
        _run(connection, _statements(connection, part, install=True))


def ledger_guard_remove(*, connection: BaseDatabaseWrapper, parts: Iterable[Part] = PARTS) -> None:
    for part in parts:
        _run(connection, _statements(connection, part, install=False))
