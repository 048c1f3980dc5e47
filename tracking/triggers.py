"""Every database trigger tracking's migrations create, and why its logic lives in SQL.

Two kinds, both work queues written in the same transaction as the row that made the work, so
no code path (the postbacks' batched INSERT, the ORM, the admin, bulk loads, raw SQL) can change
a row without queueing what must follow, and no crash between the write and the queueing can
lose it:

- ``tracking_conversion_unreconciled``: conversions waiting for payouts' reconciliation,
  drained by ``payouts.reconcile`` (Celery beat and ``manage.py reconcile``), which deletes the
  ids it takes in the same transaction as their commissions;
- ``tracking_reportdirtyhour``: report hours whose raw rows changed after they may have been
  rolled up, drained by the rollup refresh (``rollups_refresh``, Celery beat).

The SQL is in the migration named below, tracking/migrations/0002_triggers.py. PostgreSQL
inserts use statement triggers with a transition table (one set-based insert per statement);
SQLite has no transition tables and uses row triggers.
"""

from __future__ import annotations

from affiliates.triggers import BOTH, Trigger

_RECONCILE_QUEUE = (
    "queues the conversion for reconciliation in the same transaction as the write, whatever "
    "code path wrote it"
)
_REQUEUE = (
    "re-queues the conversion when its status or review flag changes, what reconciliation "
    "follows; on PostgreSQL it locks the queued row until the change commits (see the migration)"
)
_DIRTY_CONVERSION = (
    "marks the conversion's report hour dirty whatever code path changed it (approvals, "
    "reversals, admin edits, raw SQL), so the next rollup refresh re-aggregates that hour"
)
_DIRTY_COMMISSION = (
    "marks the commission's report hour dirty (its conversion's hour, or its day for daily "
    "lines) whatever code path changed it"
)
_MIGRATION = "tracking.0002_triggers"

TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "conversion_unreconciled_ins",
        "tracking_conversion",
        BOTH,
        _MIGRATION,
        _RECONCILE_QUEUE,
    ),
    Trigger(
        "conversion_unreconciled_upd",
        "tracking_conversion",
        BOTH,
        _MIGRATION,
        _REQUEUE,
    ),
    Trigger("report_conversion_ins", "tracking_conversion", BOTH, _MIGRATION, _DIRTY_CONVERSION),
    Trigger("report_conversion_del", "tracking_conversion", BOTH, _MIGRATION, _DIRTY_CONVERSION),
    Trigger("report_conversion_upd", "tracking_conversion", BOTH, _MIGRATION, _DIRTY_CONVERSION),
    # On payouts' table, but written by tracking's migrations because the dirty-hour queue is
    # the reports'.
    Trigger("report_commission_ins", "payouts_commission", BOTH, _MIGRATION, _DIRTY_COMMISSION),
    Trigger("report_commission_del", "payouts_commission", BOTH, _MIGRATION, _DIRTY_COMMISSION),
    Trigger("report_commission_upd", "payouts_commission", BOTH, _MIGRATION, _DIRTY_COMMISSION),
    Trigger(
        "conversion_created_event",
        "tracking_conversion",
        BOTH,
        _MIGRATION,
        "starts every conversion's event history with its creation, whatever code path wrote it "
        "(PostgreSQL: once per statement, from the transition table)",
    ),
    Trigger(
        "conversion_status_lawful",
        "tracking_conversion",
        BOTH,
        _MIGRATION,
        "refuses an UPDATE that moves a conversion out of rejected or reversed, or approved anywhere "
        "but reversed (tracking.lifecycle's rules), whatever code path or shell runs it",
    ),
)
