"""Issued documents refuse UPDATE in the database too (installed by migration payouts 0002_triggers).

The model layer already refuses (payouts.models.documents.WrittenOnce); the trigger covers a
psql shell, a data-fix script or another service. Documents, their lines and items and the
advertiser payments are written once; a mistake is corrected by a new document (a credit
note, the next statement) or a reversing ledger transaction, never by editing what was sent.

PostgreSQL refuses UPDATE and DELETE (pytest's flush empties tables with TRUNCATE, which row
triggers do not see). SQLite refuses UPDATE only: its flush deletes rows one by one, and the
foreign keys' PROTECT already stops the ORM from deleting a document that has lines or items.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

DOCUMENT_TABLES = (
    "payouts_document",
    "payouts_documentline",
    "payouts_documentitem",
    "payouts_advertiserpayment",
)

PG_INSTALL = """
CREATE OR REPLACE FUNCTION payouts_document_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'issued documents never change: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Issue a credit note or post a reversing transaction instead.';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
DROP TRIGGER IF EXISTS {t}_frozen ON {t};
CREATE TRIGGER {t}_frozen BEFORE UPDATE OR DELETE ON {t}
    FOR EACH ROW EXECUTE FUNCTION payouts_document_frozen();
"""
    for t in DOCUMENT_TABLES
)
PG_REMOVE = "".join(f"DROP TRIGGER IF EXISTS {t}_frozen ON {t};" for t in DOCUMENT_TABLES) + (
    "DROP FUNCTION IF EXISTS payouts_document_frozen();"
)

SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS {t}_frozen BEFORE UPDATE ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'issued documents never change: UPDATE on {t} is not allowed'); END"
    for t in DOCUMENT_TABLES
]
SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS {t}_frozen" for t in DOCUMENT_TABLES]


def _statements(connection: BaseDatabaseWrapper, *, install: bool) -> list[str]:
    if connection.vendor == "postgresql":
        return [PG_INSTALL if install else PG_REMOVE]
    if connection.vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    raise NotImplementedError(f"no document guard for {connection.vendor}: PostgreSQL and SQLite only")


def documents_guard_install(*, connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, install=True):
            cursor.execute(sql)


def documents_guard_remove(*, connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, install=False):
            cursor.execute(sql)
