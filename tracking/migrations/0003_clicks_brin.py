# BRIN indexes on created_at (PostgreSQL only): clicks and impressions are appended in time
# order, so a block-range index answers time-range scans at a tiny fraction of a B-tree's size
# and insert cost. SQLite (embedded mode) has no BRIN and small tables: nothing to do there.

from django.db import migrations

TABLES = ("tracking_click", "tracking_impression")


def brin_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_created_brin ON {table} "
            "USING brin (created_at) WITH (pages_per_range = 32)"
        )


def brin_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_created_brin")


class Migration(migrations.Migration):

    dependencies = [('tracking', '0002_clicks_at_scale')]

    operations = [migrations.RunPython(brin_create, brin_drop)]
