"""The database enforces the ledger's zero-sum rule and refuses TRUNCATE; reversals are linked.

- ``payouts.ledger_guard`` installs its triggers (the SQL and why each lives in SQL are there):
  the balance check on entries, and the append-only triggers again, now with TRUNCATE refused on
  PostgreSQL and accounts covered on SQLite as well. Installing first verifies that the entries
  already written balance, and stops the migration if they do not.
- ``Transaction.reverses`` links an operator's correction to the transaction it mirrors, with a
  partial unique index so a transaction is reversed at most once. Both are added without a table
  rebuild on SQLite (nullable column, no foreign-key constraint; a partial index), which would
  drop the tables' triggers.
"""

import django.db.models.deletion
from django.db import migrations, models

from payouts.ledger_guard import ledger_guard_install, ledger_guard_remove


def forward(apps, schema_editor):
    ledger_guard_install(connection=schema_editor.connection)


def backward(apps, schema_editor):
    # Back to 0010: no balance check and no TRUNCATE triggers, UPDATE/DELETE still refused.
    conn = schema_editor.connection
    ledger_guard_remove(connection=conn)
    if conn.vendor == "postgresql":
        for t in ("payouts_transaction", "payouts_entry", "payouts_account"):
            schema_editor.execute(
                f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION payouts_ledger_append_only()"
            )
    else:
        ledger_guard_install(connection=conn, parts=["append_only"])
        for op in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS payouts_account_no_{op}")


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0012_postbacks_become_callbacks"),
    ]

    operations = [
        migrations.AddField(
            model_name="transaction",
            name="reverses",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="The transaction this one reverses; a transaction is reversed at most once.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversals",
                to="payouts.transaction",
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reverses__isnull", False)),
                fields=("reverses",),
                name="transaction_reversed_once",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
