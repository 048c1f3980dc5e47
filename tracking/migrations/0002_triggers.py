"""What tracking's schema has beyond its models: triggers, SQL-only indexes, dropped constraints.

tracking/triggers.py lists every trigger created here and says why its logic lives in SQL. This
migration comes after payouts' tables because three of the report triggers are on
payouts_commission; payouts' own triggers come after it, because its commission lifecycle
trigger runs ``status_lawful()`` made here.

- Foreign keys: the conversion's advertiser, offer and publisher, and a conversion event's
  conversion, lose their constraint on PostgreSQL (Django's PROTECT and CASCADE still hold): each
  was a check and a KEY SHARE lock on the parent row per postback INSERT. SQLite keeps them, as
  0001_initial created them; the embedded mode does not need the speed.
- BRIN indexes on created_at (PostgreSQL): clicks and impressions are appended in time order, so a
  block-range index answers time-range scans at a tiny fraction of a B-tree's size and insert cost.
- Report dirty hours: a conversion or commission that changes after its hour may have been rolled
  up appends that UTC hour to tracking_reportdirtyhour, whatever code path changed it (approvals,
  reversals, admin edits, bulk updates, raw SQL). On PostgreSQL inserts and deletes run once per
  statement over its transition table (one set-based insert of the DISTINCT hours; postbacks and
  reconciliation write many rows per statement), and a commission's conversion hour is a
  correlated scalar subquery, one primary-key probe per row, never a hash join over the whole
  conversion table. Updates are row triggers whose WHEN clause skips the bookkeeping columns.
  SQLite has no transition tables: row triggers throughout. Clicks and impressions get no
  trigger: their insert path is the hot path (see tracking/models/reports.py). The partial index
  on commissions' day serves the daily CPC/CPM lines re-read when their hours are rebuilt.
- The reconciliation work queue, tracking_conversion_unreconciled: a conversion is queued when it
  is inserted (PostgreSQL: once per statement, from the transition table) and again when its
  status or review flag changes, which is what reconciliation follows. Both are idempotent. On
  PostgreSQL the update trigger uses ``ON CONFLICT ... DO UPDATE ... WHERE false`` rather than
  ``DO NOTHING``: it updates nothing but locks the queued row until the status change commits. A
  reconciler takes rows with ``FOR UPDATE SKIP LOCKED``, so it cannot take the id while holding a
  stale read of the conversion; and if a reconciler has already taken (deleted) it, the insert
  waits for that reconciler to commit and then queues the id again. ``DO NOTHING`` would see the
  row still there, skip it, and lose the change once the reconciler deletes it (payouts.reconcile
  has the rest).
- The conversion lifecycle (tracking.lifecycle has the rules and why): every conversion's event
  history starts with its creation, whatever code path wrote it (the event's actor is the
  conversion's source, its reason the rejection's code or ``held_for_review``); and an UPDATE may
  not move a conversion out of rejected or reversed, nor approved anywhere but reversed.

It replaces the migrations of the old history that were only SQL; 0001_initial replaces the rest.
"""

from django.db import migrations

# --- Foreign keys SQLite keeps ------------------------------------------------------------------

FOREIGN_KEYS = {
    "tracking_conversion": {
        "advertiser_id": "affiliates_advertiser",
        "offer_id": "affiliates_offer",
        "publisher_id": "affiliates_publisher",
    },
    "tracking_conversionevent": {"conversion_id": "tracking_conversion"},
}


def foreign_keys_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    introspection = schema_editor.connection.introspection
    for table, columns in FOREIGN_KEYS.items():
        with schema_editor.connection.cursor() as cursor:
            constraints = introspection.get_constraints(cursor, table)
        for name, info in constraints.items():
            if info["foreign_key"] and info["columns"][0] in columns:
                schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {schema_editor.quote_name(name)}")


def foreign_keys_add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in FOREIGN_KEYS.items():
        for column, parent in columns.items():
            schema_editor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fk FOREIGN KEY ({column}) "
                f"REFERENCES {parent} (id) DEFERRABLE INITIALLY DEFERRED"
            )


# --- BRIN indexes -------------------------------------------------------------------------------

BRIN_TABLES = ("tracking_click", "tracking_impression")


def brin_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in BRIN_TABLES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_created_brin ON {table} "
            "USING brin (created_at) WITH (pages_per_range = 32)"
        )


def brin_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in BRIN_TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_created_brin")


# --- Report dirty hours -------------------------------------------------------------------------

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


REPORT_PG = f"""
CREATE FUNCTION report_conversion_dirty() RETURNS trigger AS $$
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

CREATE FUNCTION report_conversion_dirty_rows() RETURNS trigger AS $$
BEGIN
  INSERT INTO tracking_reportdirtyhour (hour, created_at)
  SELECT DISTINCT date_trunc('hour', r.created_at, 'UTC'), now() FROM changed_rows r;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION report_commission_hour(kind text, conversion_id bigint, day date)
RETURNS timestamptz AS $$
  SELECT CASE WHEN kind = 'conversion'
    THEN (SELECT date_trunc('hour', c.created_at, 'UTC') FROM tracking_conversion c WHERE c.id = conversion_id)
    ELSE day::timestamp AT TIME ZONE 'UTC' END
$$ LANGUAGE sql STABLE;

CREATE FUNCTION report_commission_dirty() RETURNS trigger AS $$
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

CREATE FUNCTION report_commission_dirty_rows() RETURNS trigger AS $$
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

CREATE TRIGGER report_conversion_ins AFTER INSERT ON tracking_conversion
  REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION report_conversion_dirty_rows();
CREATE TRIGGER report_conversion_del AFTER DELETE ON tracking_conversion
  REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION report_conversion_dirty_rows();
CREATE TRIGGER report_conversion_upd AFTER UPDATE ON tracking_conversion
  FOR EACH ROW WHEN ({_changed(CONVERSION_COLUMNS, "IS DISTINCT FROM")})
  EXECUTE FUNCTION report_conversion_dirty();
CREATE TRIGGER report_commission_ins AFTER INSERT ON payouts_commission
  REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION report_commission_dirty_rows();
CREATE TRIGGER report_commission_del AFTER DELETE ON payouts_commission
  REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION report_commission_dirty_rows();
CREATE TRIGGER report_commission_upd AFTER UPDATE ON payouts_commission
  FOR EACH ROW WHEN ({_changed(COMMISSION_COLUMNS, "IS DISTINCT FROM")})
  EXECUTE FUNCTION report_commission_dirty();

-- Daily CPC/CPM lines are re-read by day when their hours are rebuilt.
CREATE INDEX report_commission_line_day ON payouts_commission (day) WHERE kind <> 'conversion';
"""

REPORT_PG_DROP = """
DROP TRIGGER IF EXISTS report_conversion_ins ON tracking_conversion;
DROP TRIGGER IF EXISTS report_conversion_del ON tracking_conversion;
DROP TRIGGER IF EXISTS report_conversion_upd ON tracking_conversion;
DROP TRIGGER IF EXISTS report_commission_ins ON payouts_commission;
DROP TRIGGER IF EXISTS report_commission_del ON payouts_commission;
DROP TRIGGER IF EXISTS report_commission_upd ON payouts_commission;
DROP FUNCTION IF EXISTS report_conversion_dirty();
DROP FUNCTION IF EXISTS report_conversion_dirty_rows();
DROP FUNCTION IF EXISTS report_commission_dirty();
DROP FUNCTION IF EXISTS report_commission_dirty_rows();
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


REPORT_SQLITE = [
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
REPORT_SQLITE_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {name};"
        for name in (
            "report_conversion_ins", "report_conversion_del", "report_conversion_upd",
            "report_commission_ins", "report_commission_del", "report_commission_upd",
        )
    ),
    "DROP INDEX IF EXISTS report_commission_line_day;",
]

# --- Reconciliation work queue ------------------------------------------------------------------

QUEUE_PG = """
CREATE FUNCTION conversion_unreconciled_add() RETURNS trigger AS $$
BEGIN
  INSERT INTO tracking_conversion_unreconciled (conversion_id)
  SELECT id FROM new_conversions
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION conversion_unreconciled_requeue() RETURNS trigger AS $$
BEGIN
  INSERT INTO tracking_conversion_unreconciled (conversion_id) VALUES (NEW.id)
  ON CONFLICT (conversion_id) DO UPDATE SET conversion_id = EXCLUDED.conversion_id WHERE false;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER conversion_unreconciled_ins AFTER INSERT ON tracking_conversion
  REFERENCING NEW TABLE AS new_conversions
  FOR EACH STATEMENT EXECUTE FUNCTION conversion_unreconciled_add();
CREATE TRIGGER conversion_unreconciled_upd AFTER UPDATE ON tracking_conversion
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                     OR OLD.held_for_review IS DISTINCT FROM NEW.held_for_review)
  EXECUTE FUNCTION conversion_unreconciled_requeue();
"""

QUEUE_PG_DROP = """
DROP TRIGGER IF EXISTS conversion_unreconciled_ins ON tracking_conversion;
DROP TRIGGER IF EXISTS conversion_unreconciled_upd ON tracking_conversion;
DROP FUNCTION IF EXISTS conversion_unreconciled_add();
DROP FUNCTION IF EXISTS conversion_unreconciled_requeue();
"""

_SQLITE_QUEUE = "INSERT OR IGNORE INTO tracking_conversion_unreconciled (conversion_id) VALUES (NEW.id);"
QUEUE_SQLITE = [
    f"CREATE TRIGGER conversion_unreconciled_ins AFTER INSERT ON tracking_conversion "
    f"BEGIN {_SQLITE_QUEUE} END;",
    f"CREATE TRIGGER conversion_unreconciled_upd AFTER UPDATE ON tracking_conversion "
    f"WHEN OLD.status IS NOT NEW.status OR OLD.held_for_review IS NOT NEW.held_for_review "
    f"BEGIN {_SQLITE_QUEUE} END;",
]
QUEUE_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS conversion_unreconciled_ins;",
    "DROP TRIGGER IF EXISTS conversion_unreconciled_upd;",
]

# --- Conversion lifecycle -----------------------------------------------------------------------

_LAWFUL_SQL = (
    "(OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'reversed'))"
    " OR (OLD.status = 'approved' AND NEW.status = 'reversed')"
)
_EVENT_REASON = "CASE WHEN {row}.held_for_review THEN 'held_for_review' ELSE {row}.reason END"

LIFECYCLE_PG = f"""
CREATE FUNCTION conversion_created_event() RETURNS trigger AS $$
BEGIN
  INSERT INTO tracking_conversionevent (conversion_id, created_at, from_status, to_status, reason, actor)
  SELECT id, created_at, '', status, {_EVENT_REASON.format(row="new_conversions")}, source
  FROM new_conversions;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER conversion_created_event AFTER INSERT ON tracking_conversion
  REFERENCING NEW TABLE AS new_conversions
  FOR EACH STATEMENT EXECUTE FUNCTION conversion_created_event();

CREATE FUNCTION status_lawful() RETURNS trigger AS $$
BEGIN
  IF {_LAWFUL_SQL} THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'unlawful status change on %: % -> %', TG_TABLE_NAME, OLD.status, NEW.status
    USING ERRCODE = 'check_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER conversion_status_lawful BEFORE UPDATE OF status ON tracking_conversion
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION status_lawful();
"""

LIFECYCLE_PG_DROP = """
DROP TRIGGER IF EXISTS conversion_created_event ON tracking_conversion;
DROP TRIGGER IF EXISTS conversion_status_lawful ON tracking_conversion;
DROP FUNCTION IF EXISTS conversion_created_event();
DROP FUNCTION IF EXISTS status_lawful();
"""

LIFECYCLE_SQLITE = [
    "CREATE TRIGGER conversion_created_event AFTER INSERT ON tracking_conversion BEGIN "
    "INSERT INTO tracking_conversionevent (conversion_id, created_at, from_status, to_status, reason, actor) "
    f"VALUES (NEW.id, NEW.created_at, '', NEW.status, {_EVENT_REASON.format(row='NEW')}, NEW.source); END;",
    "CREATE TRIGGER conversion_status_lawful BEFORE UPDATE OF status ON tracking_conversion "
    f"WHEN OLD.status IS NOT NEW.status AND NOT ({_LAWFUL_SQL}) BEGIN "
    "SELECT RAISE(ABORT, 'unlawful status change on tracking_conversion'); END;",
]
LIFECYCLE_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS conversion_created_event;",
    "DROP TRIGGER IF EXISTS conversion_status_lawful;",
]

# --- Running them -------------------------------------------------------------------------------

# Created in this order (SQLite fires a table's triggers for one event in an order of its own;
# none of these depends on another having run).
SQL = {
    "postgresql": [REPORT_PG, QUEUE_PG, LIFECYCLE_PG],
    "sqlite": [*REPORT_SQLITE, *QUEUE_SQLITE, *LIFECYCLE_SQLITE],
}
SQL_DROP = {
    "postgresql": [LIFECYCLE_PG_DROP, QUEUE_PG_DROP, REPORT_PG_DROP],
    "sqlite": [*LIFECYCLE_SQLITE_DROP, *QUEUE_SQLITE_DROP, *REPORT_SQLITE_DROP],
}


def triggers_create(apps, schema_editor):
    for statement in SQL[schema_editor.connection.vendor]:
        schema_editor.execute(statement, params=None)


def triggers_drop(apps, schema_editor):
    for statement in SQL_DROP[schema_editor.connection.vendor]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    replaces = [
        ("tracking", "0003_clicks_brin"),
        ("tracking", "0006_report_triggers"),
        ("tracking", "0012_commission_dirty_per_statement"),
        ("tracking", "0014_conversion_dirty_per_statement"),
        ("tracking", "0017_conversion_intake_lean_writes"),
        ("tracking", "0018_conversion_lifecycle"),
        ("tracking", "0031_conversion_event_lean_insert"),
        ("tracking", "0032_commission_dirty_hours_probe"),
    ]

    dependencies = [
        ("payouts", "0001_initial"),
        ("tracking", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(foreign_keys_drop, foreign_keys_add),
        migrations.RunPython(brin_create, brin_drop),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
