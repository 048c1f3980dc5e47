"""Conversion lifecycle in the database: a creation event for every conversion, and no unlawful
status change (tracking.lifecycle has the rules and why).

- ``conversion_created_event``: every conversion's event history starts with its creation,
  whatever code path wrote it (the postbacks' batched INSERT, the pixel, the ORM, bulk loads).
  On PostgreSQL once per statement from the transition table, on SQLite once per row. The
  event's actor is the conversion's source (postback, pixel, coupon, api); its reason is the
  rejection's code, or ``held_for_review`` when the fraud rules held it.
- ``conversion_status_lawful``: an UPDATE may not move a conversion out of rejected or reversed,
  nor approved anywhere but reversed. It is the same line as tracking.lifecycle.LAWFUL, held
  where no code path (admin, raw SQL, a bug) can step over it.

Conversions already recorded get their creation event now, with the status they were created
with (the first event's ``from_status``, or their status if nothing changed it).
"""

from django.db import migrations

_LAWFUL_SQL = (
    "(OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'reversed'))"
    " OR (OLD.status = 'approved' AND NEW.status = 'reversed')"
)
_EVENT_REASON = "CASE WHEN {row}.held_for_review THEN 'held_for_review' ELSE {row}.reason END"

PG_FORWARD = f"""
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

PG_BACKWARD = """
DROP TRIGGER IF EXISTS conversion_created_event ON tracking_conversion;
DROP TRIGGER IF EXISTS conversion_status_lawful ON tracking_conversion;
DROP FUNCTION IF EXISTS conversion_created_event();
DROP FUNCTION IF EXISTS status_lawful();
"""

SQLITE_FORWARD = [
    "CREATE TRIGGER IF NOT EXISTS conversion_created_event AFTER INSERT ON tracking_conversion BEGIN "
    "INSERT INTO tracking_conversionevent (conversion_id, created_at, from_status, to_status, reason, actor) "
    f"VALUES (NEW.id, NEW.created_at, '', NEW.status, {_EVENT_REASON.format(row='NEW')}, NEW.source); END;",
    "CREATE TRIGGER IF NOT EXISTS conversion_status_lawful BEFORE UPDATE OF status ON tracking_conversion "
    f"WHEN OLD.status IS NOT NEW.status AND NOT ({_LAWFUL_SQL}) BEGIN "
    "SELECT RAISE(ABORT, 'unlawful status change on tracking_conversion'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS conversion_created_event;",
    "DROP TRIGGER IF EXISTS conversion_status_lawful;",
]

BACKFILL = """
INSERT INTO tracking_conversionevent (conversion_id, created_at, from_status, to_status, reason, actor)
SELECT c.id, c.created_at, '',
       COALESCE((SELECT e.from_status FROM tracking_conversionevent e
                 WHERE e.conversion_id = c.id ORDER BY e.created_at, e.id LIMIT 1), c.status),
       c.reason, c.source
FROM tracking_conversion c
WHERE NOT EXISTS (SELECT 1 FROM tracking_conversionevent e
                  WHERE e.conversion_id = c.id AND e.from_status = '')
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(BACKFILL, params=None)
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
    schema_editor.execute("DELETE FROM tracking_conversionevent WHERE from_status = ''", params=None)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0017_conversion_intake_lean_writes")]

    operations = [migrations.RunPython(forward, backward)]
