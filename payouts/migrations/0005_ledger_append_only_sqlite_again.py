"""Re-create the SQLite append-only triggers.

SQLite has no ALTER COLUMN: Django rebuilds the table (new table, copy, drop, rename) for 0004,
and the triggers of migration 0003 go with the old table. PostgreSQL keeps its triggers, so
this is SQLite only. Any later migration that alters payouts_entry or payouts_transaction on
SQLite must do the same.
"""

from django.db import migrations

TABLES = ("payouts_transaction", "payouts_entry")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for t in TABLES:
        for op in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger is append-only: {op} on {t} is not allowed'); END;"
            )


class Migration(migrations.Migration):
    dependencies = [("payouts", "0004_fewer_indexes_for_bulk_inserts")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
