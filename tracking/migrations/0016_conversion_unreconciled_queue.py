"""The reconciliation work queue: tracking_conversion_unreconciled, filled by triggers.

Until now a conversion waiting for payouts' reconciliation had ``reconciled_at`` NULL (with a
partial index), and every batch marked its conversions done with an UPDATE. That UPDATE rewrote
each conversion row and all its indexes (not HOT: reconciled_at was indexed) and was the largest
database cost of a batch. Now the ids waiting sit in a one-column table: reconciliation deletes
the ids it takes in the same transaction as their commissions, and conversions are never
updated by it.

Triggers queue a conversion whatever code path wrote it (the postbacks' group-commit INSERT,
the ORM, bulk loads, raw SQL):

- when it is inserted: on PostgreSQL once per statement, from the transition table (postbacks
  insert many rows per statement); on SQLite, which has no transition tables, once per row;
- when its status or its review flag changes, which is what reconciliation follows (a row
  trigger: such updates come one conversion at a time).

Both are idempotent: a conversion already queued stays queued once. On PostgreSQL the update
trigger uses ``ON CONFLICT ... DO UPDATE ... WHERE false`` rather than ``DO NOTHING``: it
updates nothing but locks the queued row until the status change commits. A reconciler takes
rows with ``FOR UPDATE SKIP LOCKED``, so it cannot take the id while holding a stale read of the
conversion; and if a reconciler has already taken (deleted) it, the insert waits for that
reconciler to commit and then queues the id again. ``DO NOTHING`` would see the row still there,
skip it, and lose the change once the reconciler deletes it (payouts.reconcile has the rest).

The conversions waiting now (reconciled_at NULL) are copied in after the triggers exist: on
PostgreSQL CREATE TRIGGER locks out concurrent inserts until this migration commits, so none
falls between the copy and the triggers.

SQLite drops a column in place (3.35.5+). An older SQLite rebuilds the table, which takes its
triggers with it and is refused while payouts_commission's report triggers read it; so, as in
0013, those are dropped around the change and all of 0006's are put back after it, and the
queue triggers are created last.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

lean_indexes = importlib.import_module("tracking.migrations.0013_conversion_lean_indexes")

PG_FORWARD = """
CREATE FUNCTION conversion_unreconciled_add() RETURNS trigger AS $$
BEGIN
  INSERT INTO tracking_conversion_unreconciled (conversion_id)
  SELECT id FROM new_conversions
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION conversion_unreconciled_requeue() RETURNS trigger AS $$
BEGIN
  INSERT INTO tracking_conversion_unreconciled (conversion_id) VALUES (NEW.id)
  ON CONFLICT (conversion_id) DO UPDATE SET conversion_id = EXCLUDED.conversion_id WHERE false;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER conversion_unreconciled_ins AFTER INSERT ON tracking_conversion
  REFERENCING NEW TABLE AS new_conversions
  FOR EACH STATEMENT EXECUTE FUNCTION conversion_unreconciled_add();
CREATE TRIGGER conversion_unreconciled_upd AFTER UPDATE ON tracking_conversion
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                     OR OLD.held_for_review IS DISTINCT FROM NEW.held_for_review)
  EXECUTE FUNCTION conversion_unreconciled_requeue();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS conversion_unreconciled_ins ON tracking_conversion;
DROP TRIGGER IF EXISTS conversion_unreconciled_upd ON tracking_conversion;
DROP FUNCTION IF EXISTS conversion_unreconciled_add();
DROP FUNCTION IF EXISTS conversion_unreconciled_requeue();
"""

_SQLITE_QUEUE = "INSERT OR IGNORE INTO tracking_conversion_unreconciled (conversion_id) VALUES (NEW.id);"
SQLITE_FORWARD = [
    f"CREATE TRIGGER IF NOT EXISTS conversion_unreconciled_ins AFTER INSERT ON tracking_conversion "
    f"BEGIN {_SQLITE_QUEUE} END;",
    f"CREATE TRIGGER IF NOT EXISTS conversion_unreconciled_upd AFTER UPDATE ON tracking_conversion "
    f"WHEN OLD.status IS NOT NEW.status OR OLD.held_for_review IS NOT NEW.held_for_review "
    f"BEGIN {_SQLITE_QUEUE} END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS conversion_unreconciled_ins;",
    "DROP TRIGGER IF EXISTS conversion_unreconciled_upd;",
]


def pg_triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def pg_triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


def sqlite_triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


def sqlite_triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement, params=None)


def backlog_copy(apps, schema_editor):
    schema_editor.execute(
        "INSERT INTO tracking_conversion_unreconciled (conversion_id) "
        "SELECT id FROM tracking_conversion WHERE reconciled_at IS NULL "
        "ON CONFLICT DO NOTHING",
        params=None,
    )


def backlog_restore(apps, schema_editor):
    # Going back: what is not queued was reconciled; the time it was is not kept.
    schema_editor.execute(
        "UPDATE tracking_conversion SET reconciled_at = CURRENT_TIMESTAMP "
        "WHERE id NOT IN (SELECT conversion_id FROM tracking_conversion_unreconciled)",
        params=None,
    )


class Migration(migrations.Migration):
    dependencies = [("tracking", "0015_click_fewer_indexes")]

    operations = [
        migrations.CreateModel(
            name="UnreconciledConversion",
            fields=[
                (
                    "conversion",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="tracking.conversion",
                    ),
                ),
            ],
            options={"db_table": "tracking_conversion_unreconciled"},
        ),
        migrations.RunPython(pg_triggers_create, pg_triggers_drop),
        migrations.RunPython(backlog_copy, backlog_restore),
        migrations.RunPython(lean_indexes.sqlite_triggers_drop, lean_indexes.sqlite_triggers_create),
        migrations.RemoveIndex(model_name="conversion", name="conversion_unreconciled"),
        migrations.RemoveField(model_name="conversion", name="reconciled_at"),
        migrations.RunPython(lean_indexes.sqlite_triggers_create, lean_indexes.sqlite_triggers_drop),
        migrations.RunPython(sqlite_triggers_create, sqlite_triggers_drop),
    ]
