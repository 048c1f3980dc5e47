"""A real Celery worker, over Redis and PostgreSQL, delivers a signed webhook and sends a
notification e-mail."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from affiliates.models import Offer, Publisher
from affiliates.notifications import Kind, NotificationEmail
from affiliates.notify import notify
from payouts.callbacks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid
from payouts.callbacks.webhooks import webhook_subscription_create, webhooks_commissions_changed
from payouts.tests.callback_server import local_server
from payouts.tests.factories_callbacks import ConversionFactory
from payouts.tests.factories_payouts import CommissionFactory
from payouts.tests.test_callback_worker import _wait_for, broker_not_eager, worker

__all__ = ["broker_not_eager", "worker"]  # the fixtures, shared with the postbacks' worker test


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_signed_webhook_the_receiver_verifies(
    settings: Any, shoes: Offer, pixelpush: Publisher, worker: Any, broker_not_eager: None
) -> None:
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    with local_server() as server:
        sub = webhook_subscription_create(
            owner="publisher", publisher=pixelpush, url=server.base_url + "/hooks", events=["commission"]
        )
        commission = CommissionFactory(
            conversion=ConversionFactory(goal=shoes.goals.get(code="sale"), publisher=pixelpush)
        )
        webhooks_commissions_changed(event="approved", commission_ids=[commission.pk])  # autocommit

        _wait_for(server, worker)
        [hit] = server.hits
        assert signature_valid(
            secret=sub.secret,
            header=hit.headers[SIGNATURE_HEADER],
            timestamp=hit.headers[TIMESTAMP_HEADER],
            body=hit.body,
            now=int(time.time()),
        )
        data = json.loads(hit.body)["data"]
        assert (data["id"], data["payout"]) == (commission.pk, "10.00")
        assert "revenue" not in data


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_a_notification_email(pia: Any, worker: Any, broker_not_eager: None) -> None:
    notify(kind=Kind.PAYOUT_PAID, recipients=[pia], title="Payout sent: 120.00 USD")  # autocommit
    email = NotificationEmail.objects.get()
    deadline = time.monotonic() + 120  # a loaded machine starts a worker slowly
    while email.status != NotificationEmail.Status.SENT and time.monotonic() < deadline:
        assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
        time.sleep(0.2)
        email.refresh_from_db()
    assert email.status == NotificationEmail.Status.SENT, (email.attempts, email.last_error)
    assert email.sent_at is not None
