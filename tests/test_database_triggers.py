"""The database has exactly the triggers affiliates/, tracking/ and payouts/triggers.py list, so a
trigger cannot be added, renamed or left behind by a migration without its entry (and the
reason its logic lives in SQL) being written down."""

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from affiliates.triggers import TRIGGERS as AFFILIATES_TRIGGERS
from affiliates.triggers import triggers_for
from payouts.triggers import TRIGGERS as PAYOUTS_TRIGGERS
from tracking.triggers import TRIGGERS as TRACKING_TRIGGERS

LISTED = (*AFFILIATES_TRIGGERS, *TRACKING_TRIGGERS, *PAYOUTS_TRIGGERS)

QUERIES = {
    # pg_trigger, not information_schema.triggers: the latter leaves out TRUNCATE triggers.
    "postgresql": "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace",
    "sqlite": "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'",
}


def test_every_trigger_is_listed_once() -> None:
    names = [(t.table, t.name, vendor) for t in LISTED for vendor in t.vendors]
    assert len(names) == len(set(names))


def test_every_trigger_names_a_migration_that_exists() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    on_disk = {f"{app}.{name}" for app, name in loader.disk_migrations}
    assert {t.migration for t in LISTED} <= on_disk


@pytest.mark.django_db
def test_the_database_has_exactly_the_listed_triggers() -> None:
    with connection.cursor() as cursor:
        cursor.execute(QUERIES[connection.vendor])
        present = {(table, name) for table, name in cursor.fetchall()}
    assert present == triggers_for(LISTED, vendor=connection.vendor)
