"""What an app's database trigger list is made of: one entry per trigger, by the name the
database knows it by. Each app's ``triggers.py`` lists its triggers and says why each one's
logic lives in SQL; tests/test_database_triggers.py checks the database has exactly those."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    vendors: frozenset[str]  # "postgresql", "sqlite": where the migrations create it
    migration: str  # "<app>.<migration>" that creates it
    why: str


POSTGRESQL = frozenset({"postgresql"})
SQLITE = frozenset({"sqlite"})
BOTH = POSTGRESQL | SQLITE


def triggers_for(triggers: tuple[Trigger, ...], *, vendor: str) -> set[tuple[str, str]]:
    """(table, trigger name) of the triggers the migrations create on this database vendor."""
    return {(t.table, t.name) for t in triggers if vendor in t.vendors}


#: affiliates' own triggers.
TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "auditentry_append_only",
        "affiliates_auditentry",
        POSTGRESQL,
        "affiliates.0001_initial",
        "the audit log is evidence: no code path (the ORM, the admin, a raw UPDATE in a shell) may "
        "rewrite an entry, and only the retention job (affiliates.core.audit_retention), which "
        "names its retention for its own transaction, may delete, and only entries past that "
        "age; a deleted user's entries may lose the link to the account (actor SET NULL)",
    ),
)
