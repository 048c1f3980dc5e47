"""Every database trigger payouts' migrations create, and why its logic lives in SQL.

The ledger is append-only in the database, not only in the code: an admin shell, a bad
migration or another service cannot rewrite money history. TRUNCATE fires no row triggers, so
the ledger guard (payouts/ledger_guard.py) refuses it with triggers of its own,
and also refuses a statement whose entries do not sum to zero per transaction and currency.
The report triggers on payouts_commission are tracking's (tracking/triggers.py): they feed its
dirty-hour queue.

The migration named below, payouts/migrations/0002_triggers.py, creates them all: the SQL of
the guards is in payouts/ledger_guard.py and payouts/documents_guard.py, the rest in the
migration. PostgreSQL runs PL/pgSQL functions, SQLite (the embedded mode) RAISE(ABORT) triggers.
"""

from __future__ import annotations

from affiliates.triggers import BOTH, POSTGRESQL, SQLITE, Trigger

_APPEND_ONLY = "refuses UPDATE and DELETE: the ledger is append-only whatever code or shell runs"
_MIGRATION = "payouts.0002_triggers"
_FROZEN = (
    "issued invoices, credit notes, statements and recorded payments never change, whatever code "
    "or shell runs: corrections are new documents (payouts/documents_guard.py)"
)

TRIGGERS: tuple[Trigger, ...] = (
    *(
        Trigger(f"{table}_frozen", table, BOTH, _MIGRATION, _FROZEN)
        for table in ("payouts_document", "payouts_documentline", "payouts_documentitem")
    ),
    Trigger("payouts_advertiserpayment_frozen", "payouts_advertiserpayment", BOTH, _MIGRATION, _FROZEN),
    Trigger("payouts_transaction_append_only", "payouts_transaction", POSTGRESQL, _MIGRATION, _APPEND_ONLY),
    Trigger("payouts_entry_append_only", "payouts_entry", POSTGRESQL, _MIGRATION, _APPEND_ONLY),
    Trigger(
        "payouts_account_append_only",
        "payouts_account",
        POSTGRESQL,
        _MIGRATION,
        "an account is part of the ledger; refusing its UPDATE and DELETE is also what lets "
        "entries drop their foreign keys (payouts_entry_references)",
    ),
    Trigger(
        "payouts_entry_references",
        "payouts_entry",
        POSTGRESQL,
        _MIGRATION,
        "checks a statement's new entries name an existing transaction and account in one "
        "set-based query, instead of a deferred foreign-key check per row at commit",
    ),
    Trigger("payouts_transaction_no_update", "payouts_transaction", SQLITE, _MIGRATION, _APPEND_ONLY),
    Trigger("payouts_transaction_no_delete", "payouts_transaction", SQLITE, _MIGRATION, _APPEND_ONLY),
    Trigger("payouts_entry_no_update", "payouts_entry", SQLITE, _MIGRATION, _APPEND_ONLY),
    Trigger("payouts_entry_no_delete", "payouts_entry", SQLITE, _MIGRATION, _APPEND_ONLY),
    Trigger(
        "payouts_entry_zero_sum",
        "payouts_entry",
        BOTH,
        _MIGRATION,
        "a transaction whose entries do not sum to zero cannot be written: a plain INSERT from a "
        "shell or another service is held to the double-entry rule too (PostgreSQL: per statement, "
        "over its transition table; SQLite: a running total per transaction that must be empty at "
        "COMMIT)",
    ),
    Trigger(
        "payouts_ledger_exempt_stays_empty",
        "payouts_ledger_exempt",
        SQLITE,
        _MIGRATION,
        "SQLite's half of the zero-sum check: unbalanced rows point at this always-empty table "
        "through a deferred foreign key, so COMMIT fails while any is left",
    ),
    Trigger("payouts_account_no_update", "payouts_account", SQLITE, _MIGRATION, _APPEND_ONLY),
    Trigger("payouts_account_no_delete", "payouts_account", SQLITE, _MIGRATION, _APPEND_ONLY),
    Trigger(
        "payouts_transaction_no_truncate",
        "payouts_transaction",
        POSTGRESQL,
        _MIGRATION,
        "refuses TRUNCATE, which fires no row trigger: the append-only rule has no back door",
    ),
    Trigger(
        "payouts_entry_no_truncate",
        "payouts_entry",
        POSTGRESQL,
        _MIGRATION,
        "refuses TRUNCATE, which fires no row trigger: the append-only rule has no back door",
    ),
    Trigger(
        "payouts_account_no_truncate",
        "payouts_account",
        POSTGRESQL,
        _MIGRATION,
        "refuses TRUNCATE, which fires no row trigger: the append-only rule has no back door",
    ),
    Trigger(
        "commission_status_lawful",
        "payouts_commission",
        BOTH,
        _MIGRATION,
        "refuses an UPDATE that moves a commission out of rejected or reversed, or approved anywhere "
        "but reversed (tracking.lifecycle's rules), whatever code path or shell runs it",
    ),
)
