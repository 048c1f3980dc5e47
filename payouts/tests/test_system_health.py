"""The staff console's system health page: the click backlog and the postback and webhook
deliveries on the shared list helper (filters, search, sort, pages, CSV of what is shown),
within an account manager's accounts; the overview's failed-postback count links to it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from affiliates.team_models import StaffMember, StaffRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.callbacks.webhooks import webhook_subscription_create
from payouts.models.callbacks import CallbackDelivery

pytestmark = pytest.mark.django_db


def _delivery(key: str, status: str, minutes_ago: int, **fields: Any) -> CallbackDelivery:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return CallbackDelivery.objects.create(
        key=key, url=f"https://hooks.example/{key}", status=status, created_at=at, give_up_at=at, **fields
    )


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_deliveries_are_listed_filtered_and_exported_with_the_backlog_above(
    nadia: Any, pia: Any, acme: Any, pixelpush: Any, rival: Any
) -> None:
    _delivery("p1", "failed", 10, publisher=pixelpush, event="approved", attempts_count=7,
              last_status_code=503, last_error="Service Unavailable")  # fmt: skip
    _delivery("p2", "delivered", 20, publisher=pixelpush, event="created", attempts_count=1)
    _delivery("p3", "pending", 5, publisher=rival, event="created", attempts_count=2, last_error="timeout")
    hook = webhook_subscription_create(
        owner="advertiser", advertiser=acme, url="https://hooks.example/acme", events=["conversion.created"]
    )
    _delivery("wh:1", "failed", 30, subscription=hook, event="conversion.created", attempts_count=6)
    client = sign_in(Client(), nadia)

    page = client.get("/staff/health/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-health="failed">2<' in body  # the last 24 hours
    assert 'data-health="retrying">1<' in body
    assert page.context["table"].page.paginator.count == 4
    failed = client.get("/staff/health/?status=failed&sort=created").context["table"]
    assert [d.key for d in failed.page] == ["wh:1", "p1"]
    hooks = client.get("/staff/health/?kind=webhook").context["table"]
    assert [d.key for d in hooks.page] == ["wh:1"]
    assert [d.key for d in client.get("/staff/health/?q=timeout").context["table"].page] == []
    assert [d.key for d in client.get("/staff/health/?q=p3").context["table"].page] == ["p3"]
    assert [d.key for d in client.get("/staff/health/?sort=-attempts").context["table"].page][:2] == [
        "p1",
        "wh:1",
    ]

    rows = _csv(client.get("/staff/health/?status=failed&sort=created&format=csv"))
    assert rows[0] == [
        "Fired (UTC)", "Kind", "For", "Event", "Status", "Tries", "Last answer", "URL"
    ]  # fmt: skip
    assert [(r[1], r[2]) for r in rows[1:]] == [
        ("Webhook", "Acme Shoes"),
        ("Publisher postback", "PixelPush Media"),
    ]
    assert rows[2][6] == "HTTP 503 · Service Unavailable"

    # The overview's count of failed postbacks opens this list, filtered the same way.
    home = client.get("/staff/").content.decode()
    assert "/staff/health/?status=failed&amp;kind=postback" in home

    # An account manager of PixelPush sees PixelPush's deliveries only; others are refused.
    manager = f.UserFactory(username="amy", is_staff=True)
    StaffMember.objects.create(user=manager, role=StaffRole.ACCOUNT_MANAGER)
    manager.account_assignments.create(publisher=pixelpush)
    theirs = sign_in(Client(), manager).get("/staff/health/").context["table"]
    assert sorted(d.key for d in theirs.page) == ["p1", "p2"]
    assert sign_in(Client(), pia).get("/staff/health/").status_code == 404
