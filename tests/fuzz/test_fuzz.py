"""Schemathesis per role against /api/schema/: no 5xx, no response outside the schema, every
error status documented (tests/fuzz/runner.py says which checks run, and why two do not).

The network is seed_demo's (network, a few days of traffic, commissions and a paid payout run),
committed once for the module and flushed after it. Each role fuzzes with its own token.
FUZZ_EXAMPLES sets the examples per operation, FUZZ_PHASES schemathesis's phases and FUZZ_SEED
the generator's seed. CI's bounded run: a few random examples per operation; ``make fuzz``: 100
each, with the coverage and stateful phases.
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


@pytest.fixture
def tokens() -> dict[str, str]:
    """seed_demo's network with its traffic and money; the three demo logins' tokens."""
    call_command("seed_demo", days=DAYS, clicks_per_link=1, stdout=io.StringIO())
    return {role: Token.objects.get(user__username=username).key for role, username in ROLES}


@pytest.fixture
def fuzz_settings(settings: Any) -> Iterator[Any]:
    # Schemathesis sends requests without credentials and with wrong ones (ignored_auth): counted
    # as failed attempts they would lock the test client's address out after five.
    settings.AXES_FAILURE_LIMIT = 10**6
    settings.ALLOWED_HOSTS = ["*"]
    # The engine calls the app from a thread of its own, whose connection would outlive the test
    # (and keep PostgreSQL from dropping the test database): closed after each request instead.
    database = connections["default"].settings_dict
    max_age = database.get("CONN_MAX_AGE", 0)
    database["CONN_MAX_AGE"] = 0
    yield settings
    database["CONN_MAX_AGE"] = max_age


def test_no_role_gets_a_5xx_or_an_answer_outside_the_schema(
    tokens: dict[str, str], fuzz_settings: Any
) -> None:
    results = [
        fuzz_role(
            app=WSGIHandler(),
            role=role,
            token=tokens[role],
            max_examples=EXAMPLES,
            seed=SEED,
            phases=PHASES,
        )
        for role, _ in ROLES
    ]
    print("", *(result.summary() for result in results), sep="\n")  # make fuzz shows these (-s)
    for result in results:
        assert result.operations > 100
        assert result.cases >= result.operations * min(EXAMPLES, 2)
        assert not [code for code in result.statuses if code >= 500], result.summary()
        assert result.errors == []
    failures = [f"[{result.role}] {failure}" for result in results for failure in result.failures]
    assert failures == [], "\n".join(failures)
