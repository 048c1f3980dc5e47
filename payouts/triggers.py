"""Every database trigger payouts' migrations create, and why its logic lives in SQL.

The ledger is append-only in the database, not only in the code: an admin shell, a bad
migration or another service cannot rewrite money history. TRUNCATE fires no row triggers and
is not covered (test isolation uses it). The report triggers on payouts_commission are
tracking's (tracking/triggers.py): they feed its dirty-hour queue.

The SQL is in the migrations named below; PostgreSQL runs PL/pgSQL functions, SQLite (the
embedded mode) RAISE(ABORT) triggers, one per refused operation.
"""

from __future__ import annotations

from affiliates.triggers import POSTGRESQL, SQLITE, Trigger

_APPEND_ONLY = "refuses UPDATE and DELETE: the ledger is append-only whatever code or shell runs"
_APPEND_ONLY_PG = "payouts.0003_ledger_append_only"
_APPEND_ONLY_SQLITE = "payouts.0005_ledger_append_only_sqlite_again"

TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "payouts_transaction_append_only", "payouts_transaction", POSTGRESQL, _APPEND_ONLY_PG, _APPEND_ONLY
    ),
    Trigger("payouts_entry_append_only", "payouts_entry", POSTGRESQL, _APPEND_ONLY_PG, _APPEND_ONLY),
    Trigger(
        "payouts_account_append_only",
        "payouts_account",
        POSTGRESQL,
        "payouts.0010_entry_references_per_statement",
        "an account is part of the ledger; refusing its UPDATE and DELETE is also what lets "
        "entries drop their foreign keys (payouts_entry_references)",
    ),
    Trigger(
        "payouts_entry_references",
        "payouts_entry",
        POSTGRESQL,
        "payouts.0010_entry_references_per_statement",
        "checks a statement's new entries name an existing transaction and account in one "
        "set-based query, instead of a deferred foreign-key check per row at commit",
    ),
    Trigger(
        "payouts_transaction_no_update", "payouts_transaction", SQLITE, _APPEND_ONLY_SQLITE, _APPEND_ONLY
    ),
    Trigger(
        "payouts_transaction_no_delete", "payouts_transaction", SQLITE, _APPEND_ONLY_SQLITE, _APPEND_ONLY
    ),
    Trigger("payouts_entry_no_update", "payouts_entry", SQLITE, _APPEND_ONLY_SQLITE, _APPEND_ONLY),
    Trigger("payouts_entry_no_delete", "payouts_entry", SQLITE, _APPEND_ONLY_SQLITE, _APPEND_ONLY),
)
