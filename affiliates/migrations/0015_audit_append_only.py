"""The audit log is append-only on PostgreSQL (affiliates/triggers.py says why in SQL)."""

from django.db import migrations

GUARD = """
CREATE FUNCTION affiliates_auditentry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz := NULLIF(current_setting('affnet.audit_prune_before', true), '')::timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- The one change allowed: a deleted user's entries lose the link to the account
        -- (the actor foreign key is SET NULL); actor_email still says who it was.
        IF NEW.actor_id IS NULL AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit entries cannot be changed (entry %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- DELETE: only the retention job, which names its cutoff for its own transaction (SET
    -- LOCAL), only entries older than that, and never a cutoff within the last day.
    IF cutoff IS NULL OR cutoff > now() - interval '1 day' OR OLD.timestamp >= cutoff THEN
        RAISE EXCEPTION 'audit entries are deleted only by the retention job, past their age (entry %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER auditentry_append_only BEFORE UPDATE OR DELETE ON affiliates_auditentry
    FOR EACH ROW EXECUTE FUNCTION affiliates_auditentry_guard();
"""
GUARD_DROP = """
DROP TRIGGER IF EXISTS auditentry_append_only ON affiliates_auditentry;
DROP FUNCTION IF EXISTS affiliates_auditentry_guard();
"""


def guard_create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def guard_drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("affiliates", "0014_notification_kinds_preferences_emails")]

    operations = [migrations.RunPython(guard_create, guard_drop)]
