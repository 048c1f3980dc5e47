"""Less work per postback INSERT (tracking.models.ConversionEvent says why): the creation
event's foreign key to its conversion loses its database constraint on PostgreSQL. SQLite
keeps it: dropping one there rebuilds the table, and the embedded mode does not need the
speed. Written by introspection, as 0017 is, so SQLite never rebuilds the table.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "tracking_conversionevent"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, TABLE)
    for name, info in constraints.items():
        if info["foreign_key"] and info["columns"] == ["conversion_id"]:
            schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {schema_editor.quote_name(name)}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_conversion_id_fk FOREIGN KEY (conversion_id)"
        " REFERENCES tracking_conversion (id) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [("tracking", "0030_ab_tests")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AlterField(
                    model_name="conversionevent",
                    name="conversion",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="tracking.conversion",
                    ),
                ),
            ],
        ),
    ]
