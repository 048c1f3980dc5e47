"""Conversion inserts and deletes mark their report hours dirty once per statement (PostgreSQL).

Postbacks now arrive in batches (tracking/conversions/group_commit.py): one INSERT of many
rows. The row trigger of 0006 appended one tracking_reportdirtyhour row per conversion; a
statement trigger with a transition table appends each distinct hour the statement touched
once, as 0012 did for commissions. Updates keep their row trigger, whose WHEN clause skips
the bookkeeping columns. SQLite has no transition tables and keeps the row triggers of 0006.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION report_conversion_dirty_rows() RETURNS trigger AS $$
BEGIN
  INSERT INTO tracking_reportdirtyhour (hour, created_at)
  SELECT DISTINCT date_trunc('hour', r.created_at, 'UTC'), now() FROM changed_rows r;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS report_conversion_ins ON tracking_conversion;
CREATE TRIGGER report_conversion_ins AFTER INSERT ON tracking_conversion
  REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION report_conversion_dirty_rows();
CREATE TRIGGER report_conversion_del AFTER DELETE ON tracking_conversion
  REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION report_conversion_dirty_rows();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS report_conversion_ins ON tracking_conversion;
DROP TRIGGER IF EXISTS report_conversion_del ON tracking_conversion;
DROP FUNCTION IF EXISTS report_conversion_dirty_rows();
CREATE TRIGGER report_conversion_ins AFTER INSERT OR DELETE ON tracking_conversion
  FOR EACH ROW EXECUTE FUNCTION report_conversion_dirty();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0013_conversion_lean_indexes")]

    operations = [migrations.RunPython(forward, backward)]
