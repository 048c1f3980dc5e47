"""Schemathesis per role against /api/schema/: no 5xx, no response outside the schema, every
error status documented (tests/fuzz/runner.py says which checks run, and why two do not).

One test per role, so that ``-n 3`` runs the three roles side by side, each in its own process
with its own test database (both cores busy; one role after the other in one process took about
an hour for the full run). Each test gets seed_demo's network (a few days of traffic,
commissions and a paid payout run), committed, and flushed after it; the role fuzzes with its
own token. On PostgreSQL a process seeds once: a later role gets a copy of what the first
one started from (``tokens``). FUZZ_EXAMPLES sets the examples per operation, FUZZ_PHASES
schemathesis's phases and FUZZ_SEED the generator's seed. CI's bounded run: a few random
examples per operation; ``make fuzz``: 100 each, with the coverage and stateful phases.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from rest_framework.authtoken.models import Token

from tests.fuzz.runner import fuzz_role

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))
SEED = int(os.environ.get("FUZZ_SEED", "13"))
# Days of demo traffic: CI's 2 days seed in a second; make fuzz's full window (30 days and last
# month's paid payout run, FUZZ_DAYS unset there) has every kind of row to show.
DAYS = int(os.environ["FUZZ_DAYS"]) if os.environ.get("FUZZ_DAYS") else None
PHASES = tuple(os.environ.get("FUZZ_PHASES", "examples,fuzzing").split(","))

ROLES = [("staff", "admin"), ("advertiser", "acme"), ("publisher", "pixelpush")]

# transaction=True: the data is committed and the app answers in autocommit, as in production (a
# database error is then the 500 it would be there, not a broken test transaction); the
# database is flushed after the test.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.fuzz]


@pytest.fixture(scope="module")
def seed_copy(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, str]]:
    """Where the seeded network is kept for the module's next roles: on PostgreSQL, a copy of
    the test database made right after the first seeding (``{"name": ...}``), dropped after the
    module; empty until then, and on SQLite (each role seeds its own)."""
    copy: dict[str, str] = {}
    yield copy
    if copy:
        with django_db_blocker.unblock():
            _pg_database_copy(source=None, target=copy["name"])


def _pg_database_copy(*, source: str | None, target: str) -> None:
    """Replace PostgreSQL database ``target`` by a copy of ``source`` (CREATE DATABASE ...
    TEMPLATE: a file copy, no migrations, no seeding), or only drop it when ``source`` is None.
    A template must have no sessions, so this process's are closed first (they reopen on use)."""
    connections.close_all()
    database = connections["default"]
    qn = database.ops.quote_name
    with database._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {qn(target)} WITH (FORCE)")
        if source is not None:
            cursor.execute(f"CREATE DATABASE {qn(target)} TEMPLATE {qn(source)}")


@pytest.fixture
def tokens(seed_copy: dict[str, str]) -> dict[str, str]:
    """seed_demo's network with its traffic and money; the three demo logins' tokens.

    Seeding is most of fuzz-ci's time and the same for every role, so on PostgreSQL it is done
    once: the first role seeds and the database is copied; each later role (one after the other
    in make fuzz-ci) gets the test database replaced by that copy, the very rows the first role
    started from, untouched by what an earlier role's requests wrote."""
    database = connections["default"]
    test_db = database.settings_dict["NAME"]
    if seed_copy:
        _pg_database_copy(source=seed_copy["name"], target=test_db)
    else:
        call_command("seed_demo", days=DAYS, clicks_per_link=1, stdout=io.StringIO())
        if database.vendor == "postgresql":
            seed_copy["name"] = f"{test_db}_seeded"[:63]
            _pg_database_copy(source=test_db, target=seed_copy["name"])
    return {role: Token.objects.get(user__username=username).key for role, username in ROLES}


class _SharedConnections:
    """The WSGI app as the engine's thread calls it, on one database connection kept open for
    the whole run (a new connection per request cost PostgreSQL a backend start each time). The
    connection is opened in the engine's thread, so it is marked shareable there and closed
    from the test's thread at the end: left open, PostgreSQL could not drop the test database."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.opened: list[BaseDatabaseWrapper] = []

    def __call__(self, environ: Any, start_response: Any) -> Any:
        connection = connections["default"]
        if connection not in self.opened:
            connection.inc_thread_sharing()
            self.opened.append(connection)
        return self.app(environ, start_response)

    def close(self) -> None:
        for connection in self.opened:
            connection.close()
            connection.dec_thread_sharing()


@pytest.fixture
def fuzz_app(settings: Any) -> Iterator[_SharedConnections]:
    # Schemathesis sends requests without credentials and with wrong ones (ignored_auth): counted
    # as failed attempts they would lock the test client's address out after five.
    settings.AXES_FAILURE_LIMIT = 10**6
    settings.ALLOWED_HOSTS = ["*"]
    database = connections["default"].settings_dict
    max_age = database.get("CONN_MAX_AGE", 0)
    database["CONN_MAX_AGE"] = None  # persistent: request_finished leaves it open
    app = _SharedConnections(WSGIHandler())
    yield app
    app.close()
    database["CONN_MAX_AGE"] = max_age


@pytest.mark.parametrize("role", [role for role, _ in ROLES])
def test_no_role_gets_a_5xx_or_an_answer_outside_the_schema(
    role: str, tokens: dict[str, str], fuzz_app: _SharedConnections
) -> None:
    result = fuzz_role(
        app=fuzz_app, role=role, token=tokens[role], max_examples=EXAMPLES, seed=SEED, phases=PHASES
    )
    print("", result.summary(), sep="\n")  # make fuzz shows it (-s)
    assert result.operations > 100
    assert result.cases >= result.operations * min(EXAMPLES, 2)
    assert not [code for code in result.statuses if code >= 500], result.summary()
    assert result.errors == []
    assert result.failures == [], "\n".join(f"[{role}] {failure}" for failure in result.failures)
