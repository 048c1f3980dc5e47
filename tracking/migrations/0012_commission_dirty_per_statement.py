"""Commission inserts and deletes mark their report hours dirty once per statement (PostgreSQL).

Reconciliation inserts commissions a few thousand rows per statement. The row trigger of 0006
ran once per row (a conversion lookup and a dirty-hour insert each, ~11% of a batch); a
statement trigger with a transition table does one set-based insert of the DISTINCT hours the
statement touched. Updates keep their row trigger: its WHEN clause skips most updates (the
reconcile bookkeeping columns) without running anything. SQLite has no transition tables and
keeps the row triggers of 0006.
"""

from django.db import migrations

PG_FORWARD = """
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

DROP TRIGGER IF EXISTS report_commission_ins ON payouts_commission;
CREATE TRIGGER report_commission_ins AFTER INSERT ON payouts_commission
  REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION report_commission_dirty_rows();
CREATE TRIGGER report_commission_del AFTER DELETE ON payouts_commission
  REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION report_commission_dirty_rows();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS report_commission_ins ON payouts_commission;
DROP TRIGGER IF EXISTS report_commission_del ON payouts_commission;
DROP FUNCTION IF EXISTS report_commission_dirty_rows();
CREATE TRIGGER report_commission_ins AFTER INSERT OR DELETE ON payouts_commission
  FOR EACH ROW EXECUTE FUNCTION report_commission_dirty();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0011_geo_cubes")]

    operations = [migrations.RunPython(forward, backward)]
