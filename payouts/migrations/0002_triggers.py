"""What payouts' schema has beyond its models: triggers, and indexes and constraints dropped.

payouts/triggers.py lists every trigger created here and says why its logic lives in SQL. This
migration comes after tracking's 0002_triggers, whose ``status_lawful()`` the commission
lifecycle trigger runs on PostgreSQL.

- Foreign keys (PostgreSQL): a commission's advertiser, goal, offer and publisher lose their
  constraint (Django's PROTECT still holds): each was a deferred check per commission that
  reconciliation inserts. So do an entry's account and transaction: their deferred checks were a
  third of a reconciled conversion's database time, and a statement trigger checks all of an
  INSERT's (or COPY's) entries at once instead, probing each distinct transaction and account by
  its primary key with a correlated scalar subquery, never a hash over the whole ledger. A
  foreign key also stops the parent from going away; here the parents cannot: transactions and
  accounts refuse UPDATE and DELETE (the ledger guard). SQLite keeps all six constraints, as
  0001_initial created them: there they are the entries' reference check, and the embedded mode
  does not need the speed.
- The LIKE-pattern ("_like") twins PostgreSQL gets for the unique Commission.source_key and
  Transaction.key go: the admin and API search those with icontains, which no B-tree serves.
- The ledger guard (payouts/ledger_guard.py has the SQL and why): transactions, entries and
  accounts are append-only (TRUNCATE refused too on PostgreSQL), and a transaction's entries sum
  to zero per currency.
- The documents guard (payouts/documents_guard.py): issued documents, their lines and items and
  advertiser payments never change.
- ``commission_status_lawful``: an UPDATE may not move a commission out of rejected or reversed,
  nor approved anywhere but reversed, whatever code path or shell runs it (tracking.lifecycle has
  the rules).

It replaces the migrations of the old history that were only SQL; 0001_initial replaces the rest.
"""

from django.db import migrations

from payouts.documents_guard import documents_guard_install, documents_guard_remove
from payouts.ledger_guard import ledger_guard_install, ledger_guard_remove

# --- Foreign keys SQLite keeps, and the LIKE-pattern twins --------------------------------------

FOREIGN_KEYS = {
    "payouts_commission": {
        "advertiser_id": "affiliates_advertiser",
        "goal_id": "affiliates_goal",
        "offer_id": "affiliates_offer",
        "publisher_id": "affiliates_publisher",
    },
    "payouts_entry": {"account_id": "payouts_account", "transaction_id": "payouts_transaction"},
}
LIKE_TWINS = {"payouts_commission": "source_key", "payouts_transaction": "key"}


def _constraints(schema_editor, table):
    with schema_editor.connection.cursor() as cursor:
        return schema_editor.connection.introspection.get_constraints(cursor, table)


def postgres_lean_writes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    qn = schema_editor.quote_name
    for table, columns in FOREIGN_KEYS.items():
        for name, info in _constraints(schema_editor, table).items():
            if info["foreign_key"] and info["columns"][0] in columns:
                schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
    for table, column in LIKE_TWINS.items():
        for name, info in _constraints(schema_editor, table).items():
            if name.endswith("_like") and info["columns"] == [column]:
                schema_editor.execute(f"DROP INDEX {qn(name)}")


def postgres_lean_writes_undo(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in FOREIGN_KEYS.items():
        for column, parent in columns.items():
            schema_editor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fk FOREIGN KEY ({column}) "
                f"REFERENCES {parent} (id) DEFERRABLE INITIALLY DEFERRED"
            )
    for table, column in LIKE_TWINS.items():
        schema_editor.execute(f"CREATE INDEX {table}_{column}_like ON {table} ({column} varchar_pattern_ops)")


# --- The entries' reference check (PostgreSQL) --------------------------------------------------

REFERENCES_PG = """
CREATE FUNCTION payouts_entry_references_check() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM (SELECT DISTINCT transaction_id FROM new_entries) e
        WHERE (SELECT t.id FROM payouts_transaction t WHERE t.id = e.transaction_id) IS NULL
    ) OR EXISTS (
        SELECT 1 FROM (SELECT DISTINCT account_id FROM new_entries) e
        WHERE (SELECT a.id FROM payouts_account a WHERE a.id = e.account_id) IS NULL
    ) THEN
        RAISE EXCEPTION 'payouts_entry: an entry names a transaction or account that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER payouts_entry_references AFTER INSERT ON payouts_entry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION payouts_entry_references_check();
"""

REFERENCES_PG_DROP = """
DROP TRIGGER IF EXISTS payouts_entry_references ON payouts_entry;
DROP FUNCTION IF EXISTS payouts_entry_references_check();
"""


def references_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Straight to the cursor: the PL/pgSQL must not be read for parameters.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(REFERENCES_PG)


def references_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(REFERENCES_PG_DROP)


# --- The ledger and documents guards ------------------------------------------------------------


def guards_install(apps, schema_editor):
    ledger_guard_install(connection=schema_editor.connection)
    documents_guard_install(connection=schema_editor.connection)


def guards_remove(apps, schema_editor):
    documents_guard_remove(connection=schema_editor.connection)
    ledger_guard_remove(connection=schema_editor.connection)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS payouts_ledger_append_only()", params=None)


# --- The commission lifecycle -------------------------------------------------------------------

_LAWFUL_SQL = (
    "(OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'reversed'))"
    " OR (OLD.status = 'approved' AND NEW.status = 'reversed')"
)
LIFECYCLE_PG = """
CREATE TRIGGER commission_status_lawful BEFORE UPDATE OF status ON payouts_commission
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION status_lawful();
"""
LIFECYCLE_SQLITE = (
    "CREATE TRIGGER commission_status_lawful BEFORE UPDATE OF status ON payouts_commission "
    f"WHEN OLD.status IS NOT NEW.status AND NOT ({_LAWFUL_SQL}) BEGIN "
    "SELECT RAISE(ABORT, 'unlawful status change on payouts_commission'); END;"
)
LIFECYCLE_DROP = {
    "postgresql": "DROP TRIGGER IF EXISTS commission_status_lawful ON payouts_commission",
    "sqlite": "DROP TRIGGER IF EXISTS commission_status_lawful",
}


def lifecycle_create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute({"postgresql": LIFECYCLE_PG, "sqlite": LIFECYCLE_SQLITE}[vendor], params=None)


def lifecycle_drop(apps, schema_editor):
    schema_editor.execute(LIFECYCLE_DROP[schema_editor.connection.vendor], params=None)


class Migration(migrations.Migration):
    replaces = [
        ("payouts", "0003_ledger_append_only"),
        ("payouts", "0005_ledger_append_only_sqlite_again"),
        ("payouts", "0010_entry_references_per_statement"),
        ("payouts", "0024_entry_references_probe"),
    ]

    dependencies = [
        ("payouts", "0001_initial"),
        ("tracking", "0002_triggers"),
    ]

    operations = [
        migrations.RunPython(postgres_lean_writes, postgres_lean_writes_undo),
        migrations.RunPython(references_create, references_drop),
        migrations.RunPython(guards_install, guards_remove),
        migrations.RunPython(lifecycle_create, lifecycle_drop),
    ]
