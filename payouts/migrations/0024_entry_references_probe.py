"""The entries' reference check probes each transaction and account by its primary key.

0010's check asked ``NOT EXISTS`` per entry inside an OR, and the planner answered it with
hashed subplans: it read every ledger transaction for every reconciliation batch of 15,000
entries, a cost that grew with the ledger. Reconciling 300,000 conversions into an empty ledger
(bench/reconcile_profile.py), the entries' COPY took 20.7 us of database time per commission
with that check and 12.8 us with this one. Here each distinct transaction and account of the statement is looked up once by a
correlated scalar subquery, which is never turned into a join or a hash: one primary-key probe
each, whatever the table's size or statistics. Same rule and same error as 0010.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION payouts_entry_references_check() RETURNS trigger AS $$
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
"""

# 0010's version, for going back.
HASHED = """
CREATE OR REPLACE FUNCTION payouts_entry_references_check() RETURNS trigger AS $$
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
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(HASHED, params=None)


class Migration(migrations.Migration):
    dependencies = [("payouts", "0023_progress_counts_balances")]

    operations = [migrations.RunPython(forward, backward)]
