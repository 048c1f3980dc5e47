"""One index fewer per postback (tracking.models.Conversion says why): advertiser_id's own index
and the partial (advertiser_id, txn_id) index become one full (advertiser_id, txn_id) index,
which serves both kinds of query. The new index is built before the old ones go, so neither
kind of query is left without one meanwhile.

advertiser_id's index is dropped by introspection, as 0031 drops its constraint: Django's
AlterField would rebuild the whole table on SQLite for a db_index change.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "tracking_conversion"
OLD_INDEX = "tracking_conversion_advertiser_id_4c567845"


def advertiser_index_drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, TABLE)
    for name, info in constraints.items():
        plain = info["index"] and not info["unique"] and not info["primary_key"]
        if plain and info["columns"] == ["advertiser_id"]:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def advertiser_index_create(apps, schema_editor):
    schema_editor.execute(f"CREATE INDEX {OLD_INDEX} ON {TABLE} (advertiser_id)")


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0020_offer_terms_allowed_traffic"),
        ("tracking", "0032_commission_dirty_hours_probe"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversion",
            index=models.Index(fields=["advertiser", "txn_id"], name="conversion_adv_txn_all"),
        ),
        migrations.RemoveIndex(model_name="conversion", name="conversion_adv_txn"),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(advertiser_index_drop, advertiser_index_create)],
            state_operations=[
                migrations.AlterField(
                    model_name="conversion",
                    name="advertiser",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        help_text=(
                            "Advertiser that reported it, known from its credentials even when the click is not."
                        ),
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="conversions",
                        to="affiliates.advertiser",
                    ),
                ),
            ],
        ),
    ]
