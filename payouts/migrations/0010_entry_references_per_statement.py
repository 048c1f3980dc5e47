"""Entries' references are checked once per INSERT statement on PostgreSQL, not once per row.

A reconciled conversion writes three entries, and the deferred foreign-key checks of their
transaction and account were a third of its database time: PostgreSQL runs each as its own
query at commit. An AFTER INSERT statement trigger checks all of a statement's new entries in
one set-based query (transition table) and refuses the statement, as a foreign key would
(SQLSTATE 23503), when one names a missing transaction or account.

A foreign key also stops the parent from going away later; here the parents cannot: ledger
transactions already refuse UPDATE and DELETE (0003), and accounts now do too (an account is
part of the ledger; nothing edits or deletes one). TRUNCATE is not covered, as for the other
append-only tables (it is what test isolation uses).

SQLite keeps its plain foreign keys, which already refuse deleting a referenced account:
dropping them would rebuild payouts_entry, and the embedded mode does not need the speed.
"""

import django.db.models.deletion
from django.db import migrations, models

PG_FORWARD = """
CREATE FUNCTION payouts_entry_references_check() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_entries e
        WHERE NOT EXISTS (SELECT 1 FROM payouts_transaction t WHERE t.id = e.transaction_id)
           OR NOT EXISTS (SELECT 1 FROM payouts_account a WHERE a.id = e.account_id)
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

CREATE TRIGGER payouts_account_append_only BEFORE UPDATE OR DELETE ON payouts_account
    FOR EACH ROW EXECUTE FUNCTION payouts_ledger_append_only();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS payouts_account_append_only ON payouts_account;
DROP TRIGGER IF EXISTS payouts_entry_references ON payouts_entry;
DROP FUNCTION IF EXISTS payouts_entry_references_check();
ALTER TABLE payouts_entry
    ADD CONSTRAINT payouts_entry_transaction_id_fk FOREIGN KEY (transaction_id)
        REFERENCES payouts_transaction (id) DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT payouts_entry_account_id_fk FOREIGN KEY (account_id)
        REFERENCES payouts_account (id) DEFERRABLE INITIALLY DEFERRED;
"""


def forward(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        constraints = conn.introspection.get_constraints(cursor, "payouts_entry")
        for name, info in constraints.items():
            if info["foreign_key"]:
                cursor.execute(f"ALTER TABLE payouts_entry DROP CONSTRAINT {schema_editor.quote_name(name)}")
        # Straight to the cursor: the PL/pgSQL must not be read for parameters.
        cursor.execute(PG_FORWARD)


def backward(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute(PG_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("payouts", "0009_lean_reconcile_writes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AlterField(
                    model_name="entry",
                    name="account",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        help_text="The ledger account debited (positive amount) or credited (negative).",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="payouts.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="entry",
                    name="transaction",
                    field=models.ForeignKey(
                        db_constraint=False,
                        help_text=(
                            "The ledger transaction it belongs to; a transaction's entries sum to zero per "
                            "currency."
                        ),
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="payouts.transaction",
                    ),
                ),
            ],
        ),
    ]
