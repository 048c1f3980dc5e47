"""A commission statement's dirty report hours look each conversion up by its primary key.

0012's trigger function joined the statement's new commissions to tracking_conversion, and the
planner hashed the join: it read the whole conversion table for every reconciliation batch.
Reconciling 300,000 conversions (bench/reconcile_profile.py), the commissions' COPY took 27.0 us
of database time per commission with that join and 13.4 us with this. A correlated scalar
subquery is never turned into a join, so each row is one probe of the primary key, whatever the
table's size or statistics. Same result: the conversion's hour, NULL (skipped) when it is
missing, as the LEFT JOIN gave.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION report_commission_dirty_rows() RETURNS trigger AS $$
BEGIN
  INSERT INTO tracking_reportdirtyhour (hour, created_at)
  SELECT DISTINCT h, now() FROM (
    SELECT CASE WHEN r.kind = 'conversion'
                THEN (SELECT date_trunc('hour', c.created_at, 'UTC')
                      FROM tracking_conversion c WHERE c.id = r.conversion_id)
                ELSE r.day::timestamp AT TIME ZONE 'UTC' END AS h
    FROM changed_rows r
  ) hours
  WHERE h IS NOT NULL;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

# 0012's version, for going back.
JOINED = """
CREATE OR REPLACE FUNCTION report_commission_dirty_rows() RETURNS trigger AS $$
BEGIN
  INSERT INTO tracking_reportdirtyhour (hour, created_at)
  SELECT DISTINCT h, now() FROM (
    SELECT CASE WHEN r.kind = 'conversion' THEN date_trunc('hour', c.created_at, 'UTC')
                ELSE r.day::timestamp AT TIME ZONE 'UTC' END AS h
    FROM changed_rows r
    LEFT JOIN tracking_conversion c ON r.kind = 'conversion' AND c.id = r.conversion_id
  ) hours
  WHERE h IS NOT NULL;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(JOINED, params=None)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0031_conversion_event_lean_insert")]

    operations = [migrations.RunPython(forward, backward)]
