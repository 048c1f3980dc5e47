"""Named personas shared by every app's tests.

- ``nadia``: network staff.
- ``acme`` / ``ada``: an advertiser and its member user; ``globex`` / ``gus``: a second one.
- ``pixelpush`` / ``pia``: an active publisher and its member; ``rival`` / ``rex``: another one.
- ``shoes``: acme's offer with a default ``sale`` CPS goal and a ``lead`` CPL goal, approved for
  pixelpush (``shoes_link``).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from affiliates.models import Advertiser, Goal, Offer, OfferAccess, Publisher
from affiliates.tests import factories as f
from payouts.ledger_guard import ledger_guard_install, ledger_guard_remove

ACME_POSTBACK_TOKEN = "acme-postback-token-0123456789"


@pytest.fixture
def nadia(db: Any) -> Any:
    return f.UserFactory(username="nadia", is_staff=True, is_superuser=True)


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


@pytest.fixture(scope="session", autouse=True)
def _flush_lifts_the_ledger_guard() -> Iterator[None]:
    """Let pytest-django's flush (after transactional tests) empty the ledger.

    SQLite flushes with DELETE and PostgreSQL with TRUNCATE, and the ledger's append-only
    triggers refuse both. Only the flush itself runs without them: they are dropped and
    re-created around it, inside its transaction, by the very functions migration 0011 runs
    (payouts.ledger_guard), so the test schema cannot drift from production's.
    """
    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: Any, sql_list: list[str]) -> None:
        with transaction.atomic(using=self.connection.alias):
            ledger_guard_remove(connection=self.connection, parts=["append_only"])
            original(self, sql_list)
            ledger_guard_install(connection=self.connection, parts=["append_only"])

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
    yield
    BaseDatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Skip tests whose real service is not configured in this run (make test runs both)."""
    import os
    import shutil

    on_postgres = bool(os.environ.get("DATABASE_URL"))
    on_redis = bool(os.environ.get("REDIS_URL"))
    has_chromium = shutil.which("chromium") is not None or os.path.exists("/usr/bin/chromium")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL (PostgreSQL)"))
        if "redis" in item.keywords and not on_redis:
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL"))
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason="needs Debian's chromium"))
