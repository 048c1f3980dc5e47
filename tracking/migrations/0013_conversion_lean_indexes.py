"""Three fewer indexes on tracking_conversion, which every postback inserts into and every
reconciliation updates: offer_id and publisher_id lead other indexes already, and the
LIKE-pattern twin of the dedupe_key unique index serves no query (dedupe_key becomes a named
UniqueConstraint, which PostgreSQL builds without the twin).

SQLite rebuilds the table for these changes (new table, copy, drop, rename). Its report
triggers on payouts_commission read tracking_conversion, and SQLite refuses the drop and
rename while they exist, so they are dropped first; the table's own report triggers go with
the old table. Both sets are created again afterwards from 0006's SQL. PostgreSQL alters in
place and keeps its triggers.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

COMMISSION_TRIGGERS = ("report_commission_ins", "report_commission_del", "report_commission_upd")


def sqlite_triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in COMMISSION_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};", params=None)


def sqlite_triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    report_triggers = importlib.import_module("tracking.migrations.0006_report_triggers")
    for statement in report_triggers.SQLITE_FORWARD:
        if statement.startswith("CREATE TRIGGER "):
            statement = statement.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('affiliates', '0004_creative'),
        ('tracking', '0012_commission_dirty_per_statement'),
    ]

    operations = [
        migrations.RunPython(sqlite_triggers_drop, sqlite_triggers_create),
        migrations.AlterField(
            model_name='conversion',
            name='dedupe_key',
            field=models.CharField(blank=True, max_length=80, null=True),
        ),
        migrations.AlterField(
            model_name='conversion',
            name='offer',
            field=models.ForeignKey(db_index=False, help_text='Offer converted on; null only for rejected conversions that could not be attributed.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='conversions', to='affiliates.offer'),
        ),
        migrations.AlterField(
            model_name='conversion',
            name='publisher',
            field=models.ForeignKey(db_index=False, help_text='Publisher credited; null when it could not be attributed.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='conversions', to='affiliates.publisher'),
        ),
        migrations.AddConstraint(
            model_name='conversion',
            constraint=models.UniqueConstraint(fields=('dedupe_key',), name='conversion_unique_dedupe'),
        ),
        migrations.RunPython(sqlite_triggers_create, sqlite_triggers_drop),
    ]
