"""Dirty-hour triggers for report rollups, and indexes the hourly re-aggregation reads by.

Conversions and commissions change long after their hour was rolled up (approvals, reversals,
adjustments, admin edits, bulk updates, raw SQL). A trigger sees every one of them, whatever
code path made it, and appends the affected UTC hour to tracking_reportdirtyhour. Clicks and
impressions get no trigger: their insert path is the hot path (see tracking/models/reports.py).
"""

from django.db import migrations

CONVERSION_COLUMNS = [
    "status", "offer_id", "publisher_id", "goal_id", "click_id", "created_at", "country",
    "sub1", "sub2", "sub3", "sub4", "sub5", "fraud_flags", "held_for_review",
]
COMMISSION_COLUMNS = [
    "status", "kind", "conversion_id", "advertiser_id", "offer_id", "publisher_id", "goal_id",
    "day", "currency", "revenue", "payout", "sale_amount",
]


def _changed(columns, distinct):
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)


PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION report_conversion_dirty() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO tracking_reportdirtyhour (hour, created_at)
    VALUES (date_trunc('hour', NEW.created_at, 'UTC'), now());
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.created_at IS DISTINCT FROM NEW.created_at) THEN
    INSERT INTO tracking_reportdirtyhour (hour, created_at)
    VALUES (date_trunc('hour', OLD.created_at, 'UTC'), now());
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION report_commission_hour(kind text, conversion_id bigint, day date)
RETURNS timestamptz AS $$
  SELECT CASE WHEN kind = 'conversion'
    THEN (SELECT date_trunc('hour', c.created_at, 'UTC') FROM tracking_conversion c WHERE c.id = conversion_id)
    ELSE day::timestamp AT TIME ZONE 'UTC' END
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION report_commission_dirty() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO tracking_reportdirtyhour (hour, created_at)
    SELECT h, now() FROM report_commission_hour(NEW.kind, NEW.conversion_id, NEW.day) h WHERE h IS NOT NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO tracking_reportdirtyhour (hour, created_at)
    SELECT h, now() FROM report_commission_hour(OLD.kind, OLD.conversion_id, OLD.day) h WHERE h IS NOT NULL;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER report_conversion_ins AFTER INSERT OR DELETE ON tracking_conversion
  FOR EACH ROW EXECUTE FUNCTION report_conversion_dirty();
CREATE TRIGGER report_conversion_upd AFTER UPDATE ON tracking_conversion
  FOR EACH ROW WHEN ({_changed(CONVERSION_COLUMNS, "IS DISTINCT FROM")})
  EXECUTE FUNCTION report_conversion_dirty();
CREATE TRIGGER report_commission_ins AFTER INSERT OR DELETE ON payouts_commission
  FOR EACH ROW EXECUTE FUNCTION report_commission_dirty();
CREATE TRIGGER report_commission_upd AFTER UPDATE ON payouts_commission
  FOR EACH ROW WHEN ({_changed(COMMISSION_COLUMNS, "IS DISTINCT FROM")})
  EXECUTE FUNCTION report_commission_dirty();

-- Daily CPC/CPM lines are re-read by day when their hours are rebuilt.
CREATE INDEX report_commission_line_day ON payouts_commission (day) WHERE kind <> 'conversion';
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS report_conversion_ins ON tracking_conversion;
DROP TRIGGER IF EXISTS report_conversion_upd ON tracking_conversion;
DROP TRIGGER IF EXISTS report_commission_ins ON payouts_commission;
DROP TRIGGER IF EXISTS report_commission_upd ON payouts_commission;
DROP FUNCTION IF EXISTS report_conversion_dirty();
DROP FUNCTION IF EXISTS report_commission_dirty();
DROP FUNCTION IF EXISTS report_commission_hour(text, bigint, date);
DROP INDEX IF EXISTS report_commission_line_day;
"""

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_SQLITE_CONV_HOUR = "strftime('%Y-%m-%d %H:00:00', {row}.created_at)"
_SQLITE_COMM_HOUR = (
    "CASE WHEN {row}.kind = 'conversion' THEN (SELECT strftime('%Y-%m-%d %H:00:00', c.created_at) "
    "FROM tracking_conversion c WHERE c.id = {row}.conversion_id) "
    "ELSE strftime('%Y-%m-%d 00:00:00', {row}.day) END"
)


def _sqlite_insert(expr, row):
    return (
        f"INSERT INTO tracking_reportdirtyhour (hour, created_at) "
        f"SELECT h, {_SQLITE_NOW} FROM (SELECT {expr.format(row=row)} AS h) WHERE h IS NOT NULL;"
    )


SQLITE_FORWARD = [
    f"CREATE TRIGGER report_conversion_ins AFTER INSERT ON tracking_conversion BEGIN "
    f"{_sqlite_insert(_SQLITE_CONV_HOUR, 'NEW')} END;",
    f"CREATE TRIGGER report_conversion_del AFTER DELETE ON tracking_conversion BEGIN "
    f"{_sqlite_insert(_SQLITE_CONV_HOUR, 'OLD')} END;",
    f"CREATE TRIGGER report_conversion_upd AFTER UPDATE ON tracking_conversion "
    f"WHEN {_changed(CONVERSION_COLUMNS, 'IS NOT')} BEGIN "
    f"{_sqlite_insert(_SQLITE_CONV_HOUR, 'NEW')} {_sqlite_insert(_SQLITE_CONV_HOUR, 'OLD')} END;",
    f"CREATE TRIGGER report_commission_ins AFTER INSERT ON payouts_commission BEGIN "
    f"{_sqlite_insert(_SQLITE_COMM_HOUR, 'NEW')} END;",
    f"CREATE TRIGGER report_commission_del AFTER DELETE ON payouts_commission BEGIN "
    f"{_sqlite_insert(_SQLITE_COMM_HOUR, 'OLD')} END;",
    f"CREATE TRIGGER report_commission_upd AFTER UPDATE ON payouts_commission "
    f"WHEN {_changed(COMMISSION_COLUMNS, 'IS NOT')} BEGIN "
    f"{_sqlite_insert(_SQLITE_COMM_HOUR, 'NEW')} {_sqlite_insert(_SQLITE_COMM_HOUR, 'OLD')} END;",
    "CREATE INDEX report_commission_line_day ON payouts_commission (day) WHERE kind <> 'conversion';",
]
SQLITE_BACKWARD = [
    *(
        f"DROP TRIGGER IF EXISTS {name};"
        for name in (
            "report_conversion_ins", "report_conversion_del", "report_conversion_upd",
            "report_commission_ins", "report_commission_del", "report_commission_upd",
        )
    ),
    "DROP INDEX IF EXISTS report_commission_line_day;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0005_reports"),
        ("payouts", "0005_ledger_append_only_sqlite_again"),
    ]

    operations = [migrations.RunPython(forward, backward)]
