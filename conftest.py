"""Named personas shared by every app's tests.

- ``nadia``: network staff, with a TOTP device (affiliates.tests.signin: ``sign_in`` gives a test
  client her verified session).
- ``acme`` / ``ada``: an advertiser and its member user; ``globex`` / ``gus``: a second one.
- ``pixelpush`` / ``pia``: an active publisher and its member; ``rival`` / ``rex``: another one.
- ``shoes``: acme's offer with a default ``sale`` CPS goal and a ``lead`` CPL goal, approved for
  pixelpush (``shoes_link``).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.test import TestCase
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from affiliates.models import Advertiser, Goal, Offer, OfferAccess, Publisher
from affiliates.tests import factories as f
from affiliates.tests.signin import totp_device
from affiliates.tracking_domains import tracking_domains_forget
from payouts.ledger_guard import ledger_guard_install, ledger_guard_remove
from tracking.clickpath import hosts, links, policy, redis_conn, smart
from tracking.clickpath.consumer import Consumer, group_ensure
from tracking.conversions.catalog import catalog_clear
from tracking.tests.asgi_driver import EdgeClient

ACME_POSTBACK_TOKEN = "acme-postback-token-0123456789"

# No per-example time limit: hypothesis's default deadline (200 ms) is a timed test, and on a
# shared 2-core machine a slow moment failed correct examples. Speed lives in bench/.
hypothesis_settings.register_profile("affnet", deadline=None)
hypothesis_settings.load_profile("affnet")


@pytest.fixture
def nadia(db: Any) -> Any:
    user = f.UserFactory(username="nadia", is_staff=True, is_superuser=True)
    totp_device(user)  # staff sign in with a second factor
    return user


@pytest.fixture
def acme(db: Any) -> Advertiser:
    return f.AdvertiserFactory(name="Acme Shoes", currency="USD", postback_token=ACME_POSTBACK_TOKEN)


@pytest.fixture
def ada(acme: Advertiser) -> Any:
    user = f.UserFactory(username="ada")
    acme.members.add(user)
    return user


@pytest.fixture
def globex(db: Any) -> Advertiser:
    return f.AdvertiserFactory(name="Globex", currency="EUR")


@pytest.fixture
def gus(globex: Advertiser) -> Any:
    user = f.UserFactory(username="gus")
    globex.members.add(user)
    return user


@pytest.fixture
def pixelpush(db: Any) -> Publisher:
    return f.PublisherFactory(name="PixelPush Media", email="ops@pixelpush.example")


@pytest.fixture
def pia(pixelpush: Publisher) -> Any:
    user = f.UserFactory(username="pia")
    pixelpush.members.add(user)
    return user


@pytest.fixture
def rival(db: Any) -> Publisher:
    return f.PublisherFactory(name="Rival Traffic", email="hello@rival.example")


@pytest.fixture
def rex(rival: Publisher) -> Any:
    user = f.UserFactory(username="rex")
    rival.members.add(user)
    return user


@pytest.fixture
def shoes(acme: Advertiser) -> Offer:
    offer = f.OfferFactory(
        advertiser=acme,
        name="Acme Shoes - Summer Sale",
        category="retail",
        landing_url="https://shoes.example.com/?cid={click_id}&s1={sub1}&src={source}",
        allowed_domains=["shoes.example.com"],
        deep_links_allowed=True,
    )
    f.GoalFactory(
        offer=offer,
        code="sale",
        name="Sale",
        payout_type=Goal.PayoutType.CPS,
        payout=Decimal("8"),
        revenue=Decimal("12"),
        is_default=True,
    )
    f.GoalFactory(
        offer=offer,
        code="lead",
        name="Newsletter lead",
        payout_type=Goal.PayoutType.CPL,
        payout=Decimal("1.50"),
        revenue=Decimal("2.00"),
    )
    return offer


@pytest.fixture
def shoes_link(shoes: Offer, pixelpush: Publisher) -> OfferAccess:
    return f.OfferAccessFactory(offer=shoes, publisher=pixelpush, status=OfferAccess.Status.APPROVED)


def _client_for(user: Any) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api_as() -> Any:
    """``api_as(user)`` returns a DRF client authenticated with that user's token."""
    return _client_for


@pytest.fixture(autouse=True)
def _isolated_hot_path(settings: Any) -> None:
    """Each test gets its own Redis key space (xdist workers share one Redis db) and empty link
    and catalog caches (snapshots must never leak between tests)."""
    settings.CLICK_REDIS_PREFIX = f"t-{uuid.uuid4().hex[:12]}"
    links._local.clear()
    policy.policy_reset()  # negative lists and frequency caps (issue 14)
    smart.capped_forget()  # what this process learnt about full smart-link paths
    catalog_clear()  # the postback path's offer and advertiser cache: ids repeat between tests
    redis_conn.reset()
    hosts.hosts_forget()  # tracking domains: ids and hosts repeat between tests
    tracking_domains_forget()


@pytest.fixture
def drain() -> Callable[[], int]:
    """Run the consumer until the stream is empty (a no-op in embedded mode)."""

    def _drain() -> int:
        if not settings.REDIS_URL:
            return 0
        consumer = Consumer(name="test")
        group_ensure(consumer.client)
        total = 0
        while n := consumer.step(block_ms=1):
            total += n
        return total

    return _drain


@pytest.fixture
def edge(transactional_db: Any) -> Iterator[EdgeClient]:
    """The app server's edge (config/asgi.py's, tracking/clickpath/edge.py) in-process through
    its ASGI interface, with Django's test-client API: clicks, impressions and postbacks take
    the one path production takes. The edge answers on connections of its own (its loop's and
    its thread pool's), which see only committed rows: tests that use it commit theirs."""
    client = EdgeClient()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def module_db(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """One transaction around a whole test module, rolled back after its last test.

    A module-scoped fixture that depends on this one writes shared rows once (inside
    ``django_db_blocker.unblock()``), for example the demo data that takes seconds to build;
    each test's own transaction (``django_db``) nests inside as a savepoint, so what a test
    writes is rolled back to the shared rows, and the shared rows to nothing after the module.
    These are the atomics Django's TestCase opens around a class for ``setUpTestData``, so the
    data is written under the same conditions as in a test's own transaction (on_commit hooks do
    not run). Not for modules with ``transaction=True`` tests: those flush the database.
    """
    with django_db_blocker.unblock():
        atomics = TestCase._enter_atomics()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            TestCase._rollback_atomics(atomics)


TRUNCATE_TABLES = re.compile(r"^TRUNCATE (?P<tables>.+?)(?: CASCADE)?;$")


def _flush_by_delete(connection: Any, sql_list: list[str]) -> bool:
    """Empty PostgreSQL's tables with DELETE, not TRUNCATE, when the flush only empties tables.

    TRUNCATE of ~80 tables costs about a second on a loaded 2-core machine (each table gets new
    files), DELETE of a few rows in mostly empty tables a few milliseconds, and pytest-django
    flushes after every transactional test (the edge's, the browser's). ``session_replication_role
    = replica`` turns every trigger off for the statement's transaction, as TRUNCATE does for
    row triggers: the ledger's append-only guard, the audit log's, and the work-queue triggers
    that would otherwise record the deletions. Foreign keys are Django's DEFERRABLE INITIALLY
    DEFERRED ones, checked at commit, when every table is empty. Needs a superuser (CI's and
    this machine's PostgreSQL); otherwise, or when sequences are reset, the flush truncates.
    """
    if connection.vendor != "postgresql" or len(sql_list) != 1:
        return False
    match = TRUNCATE_TABLES.match(sql_list[0])
    if match is None or "RESTART IDENTITY" in sql_list[0]:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table in match["tables"].split(", "):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (Django's own quoted table names)
        cursor.execute("SET LOCAL session_replication_role = origin")
    return True


@pytest.fixture(scope="session", autouse=True)
def _flush_lifts_the_ledger_guard() -> Iterator[None]:
    """Let pytest-django's flush (after transactional tests) empty the ledger.

    SQLite flushes with DELETE and PostgreSQL with TRUNCATE, and the ledger's append-only
    triggers refuse both. Only the flush itself runs without them: they are dropped and
    re-created around it, inside its transaction, by the very functions migration payouts
    0002_triggers runs
    (payouts.ledger_guard), so the test schema cannot drift from production's. On PostgreSQL
    the flush deletes instead of truncating, with triggers off (``_flush_by_delete``).
    """
    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: Any, sql_list: list[str]) -> None:
        with transaction.atomic(using=self.connection.alias):
            if _flush_by_delete(self.connection, sql_list):
                return
            ledger_guard_remove(connection=self.connection, parts=["append_only"])
            original(self, sql_list)
            ledger_guard_install(connection=self.connection, parts=["append_only"])

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
    yield
    BaseDatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: Any) -> None:
    """PYTEST_SEED=<n> repeats a run's test order (pytest-randomly's seed); before the plugin reads it."""
    seed = os.environ.get("PYTEST_SEED")
    if seed and config.getoption("randomly_seed", None) == "default":
        config.option.randomly_seed = int(seed)


def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    """Print the order's seed even under -q, where pytest-randomly's header line is not shown."""
    seed = config.getoption("randomly_seed", None)
    if isinstance(seed, int):
        terminalreporter.write_line(f"test order: PYTEST_SEED={seed} repeats it")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Skip tests whose real service is not configured in this run (make test runs both)."""
    import shutil

    on_postgres = bool(os.environ.get("DATABASE_URL"))
    on_redis = bool(os.environ.get("REDIS_URL"))
    has_chromium = shutil.which("chromium") is not None or os.path.exists("/usr/bin/chromium")
    # make test and .ci/run run the browser tests and the ones that start processes once, on the
    # PostgreSQL + Redis leg that follows (production's stores): they test pages and processes,
    # not the database, and running them twice cost CI about a minute.
    once_on_postgres = os.environ.get("AFFNET_ONCE_ON_POSTGRES") == "1" and not on_postgres
    for item in items:
        if once_on_postgres and ("browser" in item.keywords or "slow" in item.keywords):
            item.add_marker(pytest.mark.skip(reason="runs on the PostgreSQL leg (make test runs both)"))
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL (PostgreSQL)"))
        if "redis" in item.keywords and not on_redis:
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL"))
        if "fuzz" in item.keywords and not os.environ.get("FUZZ_EXAMPLES"):
            item.add_marker(pytest.mark.skip(reason="fuzzing runs in its own leg: make fuzz, .ci/run"))
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason="needs Debian's chromium"))
    # The long tests first (browsers, started processes, the modules that share seeded demo data),
    # each part still in pytest-randomly's order: xdist hands work out in this order, so the long
    # ones spread over both workers early instead of one of them, drawn last, holding a worker
    # while the other sits idle at the end of the leg.
    items.sort(key=lambda item: 0 if _long(item) else 1)


def _long(item: Any) -> bool:
    grouped = item.get_closest_marker("xdist_group") is not None
    return grouped or "browser" in item.keywords or "slow" in item.keywords
