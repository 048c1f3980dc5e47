"""Commission lifecycle in the database: who decided a status, and no unlawful status change.

- ``Commission.status_by``: who last changed the status (``staff:<id>``, ``advertiser:<id>``,
  ``hold``, ``reconcile``), beside ``status_reason`` (why) and ``updated_at`` (when). Nullable so
  that SQLite adds it in place: a rebuilt table would lose the triggers on it.
- ``commission_status_lawful``: an UPDATE may not move a commission out of rejected or reversed,
  nor approved anywhere but reversed, whatever code path or shell runs it (tracking.lifecycle
  has the rules; PostgreSQL reuses tracking.0018's ``status_lawful()``).
"""

from django.db import migrations, models

_LAWFUL_SQL = (
    "(OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'reversed'))"
    " OR (OLD.status = 'approved' AND NEW.status = 'reversed')"
)
PG_FORWARD = """
CREATE TRIGGER commission_status_lawful BEFORE UPDATE OF status ON payouts_commission
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION status_lawful();
"""
SQLITE_FORWARD = (
    "CREATE TRIGGER IF NOT EXISTS commission_status_lawful BEFORE UPDATE OF status ON payouts_commission "
    f"WHEN OLD.status IS NOT NEW.status AND NOT ({_LAWFUL_SQL}) BEGIN "
    "SELECT RAISE(ABORT, 'unlawful status change on payouts_commission'); END;"
)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS commission_status_lawful ON payouts_commission", params=None
        )
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS commission_status_lawful", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0013_ledger_guard"),
        ("tracking", "0018_conversion_lifecycle"),
    ]

    operations = [
        migrations.AddField(
            model_name="commission",
            name="status_by",
            field=models.CharField(
                blank=True,
                help_text="Who last changed the status: staff:<id>, advertiser:<id>, hold, reconcile.",
                max_length=64,
                null=True,
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
