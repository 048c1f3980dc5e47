"""Fewer per-row costs on reconciliation's bulk inserts.

- Commission.advertiser / offer / publisher / goal lose their database constraint (the models
  say why; Django's PROTECT still holds). On PostgreSQL each was a deferred check per inserted
  commission. SQLite keeps them: dropping a constraint there rebuilds payouts_commission, which
  would drop the report triggers tracking put on it, and the embedded mode does not need it.
- Indexes no query uses go: Transaction.created_at; the varchar_pattern_ops ("_like") twins
  Django adds on PostgreSQL for LIKE 'prefix%' on the unique Commission.source_key and
  Transaction.key (the admin and API search those with icontains, which no btree serves); and
  the index on Transaction.payout becomes partial, so commission transactions skip it.

The database side is written by hand, by introspection, so SQLite never rebuilds a table (a
rebuild of payouts_transaction would also drop the ledger's append-only triggers, see 0005).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

COMMISSION_FKS = {
    "advertiser_id": "affiliates_advertiser",
    "offer_id": "affiliates_offer",
    "publisher_id": "affiliates_publisher",
    "goal_id": "affiliates_goal",
}
TRANSACTION_INDEXED = ("created_at", "payout_id")


def _constraints(schema_editor, table):
    with schema_editor.connection.cursor() as cursor:
        return schema_editor.connection.introspection.get_constraints(cursor, table)


def _plain_index(info, column):
    return info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == [column]


def forward(apps, schema_editor):
    qn = schema_editor.quote_name
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, info in _constraints(schema_editor, "payouts_transaction").items():
        # Django's own indexes only: "transaction_payout" (partial, added below) is not there yet.
        if any(_plain_index(info, c) for c in TRANSACTION_INDEXED) or name.endswith("_like"):
            schema_editor.execute(f"DROP INDEX {qn(name)}")
    if not postgres:
        return
    for name, info in _constraints(schema_editor, "payouts_commission").items():
        if info["foreign_key"] and info["columns"][0] in COMMISSION_FKS:
            schema_editor.execute(f"ALTER TABLE payouts_commission DROP CONSTRAINT {qn(name)}")
        elif name.endswith("_like") and info["columns"] == ["source_key"]:
            schema_editor.execute(f"DROP INDEX {qn(name)}")


def backward(apps, schema_editor):
    for column in TRANSACTION_INDEXED:
        schema_editor.execute(f"CREATE INDEX payouts_transaction_{column} ON payouts_transaction ({column})")
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, table in COMMISSION_FKS.items():
        schema_editor.execute(
            f"ALTER TABLE payouts_commission ADD CONSTRAINT payouts_commission_{column}_fk FOREIGN KEY "
            f"({column}) REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
        )
    schema_editor.execute(
        "CREATE INDEX payouts_commission_source_key_like ON payouts_commission (source_key varchar_pattern_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX payouts_transaction_key_like ON payouts_transaction (key varchar_pattern_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0004_creative"),
        ("payouts", "0008_help_text"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AlterField(
                    model_name="commission",
                    name="advertiser",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        help_text="Advertiser who owes the revenue. Hidden from publishers.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="affiliates.advertiser",
                    ),
                ),
                migrations.AlterField(
                    model_name="commission",
                    name="goal",
                    field=models.ForeignKey(
                        db_constraint=False,
                        help_text="Goal whose price applied.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="affiliates.goal",
                    ),
                ),
                migrations.AlterField(
                    model_name="commission",
                    name="offer",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        help_text="Offer the commission was earned on.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="commissions",
                        to="affiliates.offer",
                    ),
                ),
                migrations.AlterField(
                    model_name="commission",
                    name="publisher",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        help_text="Publisher who earns the payout.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="commissions",
                        to="affiliates.publisher",
                    ),
                ),
                migrations.AlterField(
                    model_name="transaction",
                    name="created_at",
                    field=models.DateTimeField(default=django.utils.timezone.now),
                ),
                migrations.AlterField(
                    model_name="transaction",
                    name="payout",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transactions",
                        to="payouts.payout",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("payout__isnull", False)), fields=["payout"], name="transaction_payout"
            ),
        ),
    ]
