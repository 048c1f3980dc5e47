"""Less work per postback INSERT on tracking_conversion (the models say why):

- advertiser, offer and publisher lose their database constraint (Django's PROTECT still
  holds). On PostgreSQL each was a check and a KEY SHARE lock on the parent row per inserted
  conversion. The goal keeps its constraint. SQLite keeps all of them: dropping one there
  rebuilds the table, which drops every trigger on it (the report triggers of 0006 and any
  later ones), and the embedded mode does not need the speed.
- The index on click_id goes (both databases): no query reads conversions by click.

The database side is written by hand, by introspection, so SQLite never rebuilds the table.
"""

import django.db.models.deletion
from django.db import migrations, models

FKS = {
    "advertiser_id": "affiliates_advertiser",
    "offer_id": "affiliates_offer",
    "publisher_id": "affiliates_publisher",
}


def _constraints(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        return schema_editor.connection.introspection.get_constraints(cursor, "tracking_conversion")


def forward(apps, schema_editor):
    qn = schema_editor.quote_name
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, info in _constraints(schema_editor).items():
        plain = info["index"] and not info["unique"] and not info["primary_key"]
        if plain and info["columns"] == ["click_id"]:
            schema_editor.execute(f"DROP INDEX {qn(name)}")
        elif postgres and info["foreign_key"] and info["columns"][0] in FKS:
            schema_editor.execute(f"ALTER TABLE tracking_conversion DROP CONSTRAINT {qn(name)}")


def backward(apps, schema_editor):
    schema_editor.execute("CREATE INDEX tracking_conversion_click_id ON tracking_conversion (click_id)")
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, table in FKS.items():
        schema_editor.execute(
            f"ALTER TABLE tracking_conversion ADD CONSTRAINT tracking_conversion_{column}_fk FOREIGN KEY "
            f"({column}) REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0004_creative"),
        ("tracking", "0016_conversion_unreconciled_queue"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AlterField(
                    model_name="conversion",
                    name="advertiser",
                    field=models.ForeignKey(
                        db_constraint=False,
                        help_text="Advertiser that reported it, known from its credentials even when the click is not.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="conversions",
                        to="affiliates.advertiser",
                    ),
                ),
                migrations.AlterField(
                    model_name="conversion",
                    name="click",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="conversions",
                        to="tracking.click",
                    ),
                ),
                migrations.AlterField(
                    model_name="conversion",
                    name="offer",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        help_text="Offer converted on; null only for rejected conversions that could not be attributed.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="conversions",
                        to="affiliates.offer",
                    ),
                ),
                migrations.AlterField(
                    model_name="conversion",
                    name="publisher",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        help_text="Publisher credited; null when it could not be attributed.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="conversions",
                        to="affiliates.publisher",
                    ),
                ),
            ],
        ),
    ]
