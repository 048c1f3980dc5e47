"""The portal's test fire: one ``test`` delivery sent by the delivery task, never retried."""

from __future__ import annotations

from typing import Any

from affiliates.models import Publisher
from payouts.callbacks.services import endpoint_test_enqueue
from payouts.models.callbacks import CallbackDelivery, CallbackEvent
from payouts.tests.callback_server import Recorder, local_server
from payouts.tests.factories_callbacks import CallbackEndpointFactory

Status = CallbackDelivery.Status


def _enqueue(endpoint: Any, capture: Any) -> CallbackDelivery:
    with capture(execute=True) as callbacks:
        delivery = endpoint_test_enqueue(endpoint=endpoint)
    assert len(callbacks) == 1  # the worker is asked only once the delivery is committed
    delivery.refresh_from_db()
    return delivery


def test_it_sends_sample_values_through_the_delivery_task(
    server: Recorder, pixelpush: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = CallbackEndpointFactory(
        publisher=pixelpush, url=server.base_url + "/pb?cid={click_id}&s1={sub1}&p={payout}&st={status}"
    )

    delivery = _enqueue(endpoint, django_capture_on_commit_callbacks)

    [hit] = server.hits
    assert hit.query["s1"] == ["test_sub1"]
    assert hit.query["p"] == ["1.00"]
    assert hit.query["st"] == ["approved"]
    assert (delivery.event, delivery.status, delivery.attempts_count) == (
        CallbackEvent.TEST,
        Status.DELIVERED,
        1,
    )
    [attempt] = delivery.attempts.all()
    assert (attempt.ok, attempt.status_code, attempt.ip) == (True, 200, "127.0.0.1")
    assert attempt.latency_ms is not None


def test_nothing_is_sent_before_the_callers_transaction_commits(
    server: Recorder, pixelpush: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = CallbackEndpointFactory(publisher=pixelpush, url=server.base_url + "/pb")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        endpoint_test_enqueue(endpoint=endpoint)
    assert server.hits == []
    assert len(callbacks) == 1


def test_a_failed_test_is_given_up_at_once(
    server: Recorder, pixelpush: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = CallbackEndpointFactory(publisher=pixelpush, url=server.base_url + "/pb")
    server.reply(503, "down")

    delivery = _enqueue(endpoint, django_capture_on_commit_callbacks)

    assert (delivery.status, delivery.next_attempt_at, delivery.last_status_code) == (
        Status.FAILED,
        None,
        503,
    )
    assert delivery.attempts.get().response_excerpt == "down"


def test_a_private_address_is_refused_when_the_worker_connects(
    pixelpush: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    # Saved without validation, as a URL might be whose address is private by now.
    with local_server() as server:
        endpoint = CallbackEndpointFactory(publisher=pixelpush, url=server.base_url + "/pb")
        delivery = _enqueue(endpoint, django_capture_on_commit_callbacks)
        assert server.hits == []
    assert delivery.status == Status.FAILED
    assert delivery.attempts.get().error_code == "blocked_address"
