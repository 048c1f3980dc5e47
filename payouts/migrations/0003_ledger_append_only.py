"""The database itself refuses UPDATE and DELETE on ledger transactions and entries.

Application code never edits the ledger, but a trigger makes that a property of the data, not
of the code: an admin shell, a bad migration or another service cannot rewrite money history.
PostgreSQL gets a PL/pgSQL trigger; SQLite (embedded mode) a RAISE(ABORT) trigger. TRUNCATE
is not covered on PostgreSQL (it fires no row triggers), which is what test isolation uses.
"""

from django.db import migrations

TABLES = ("payouts_transaction", "payouts_entry")

PG_FORWARD = """
CREATE OR REPLACE FUNCTION payouts_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t}
    FOR EACH ROW EXECUTE FUNCTION payouts_ledger_append_only();
"""
    for t in TABLES
)
PG_BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};" for t in TABLES) + (
    "DROP FUNCTION IF EXISTS payouts_ledger_append_only();"
)


def sqlite_forward(t, op):
    return (
        f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} "
        f"BEGIN SELECT RAISE(ABORT, 'ledger is append-only: {op} on {t} is not allowed'); END;"
    )


def forward(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        # Straight to the cursor: the PL/pgSQL '%' placeholders must not be read as parameters.
        with conn.cursor() as cursor:
            cursor.execute(PG_FORWARD)
    elif conn.vendor == "sqlite":
        for t in TABLES:
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(sqlite_forward(t, op))


def backward(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif conn.vendor == "sqlite":
        for t in TABLES:
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_no_{op};")


class Migration(migrations.Migration):
    dependencies = [("payouts", "0002_commission_revision")]

    operations = [migrations.RunPython(forward, backward)]
