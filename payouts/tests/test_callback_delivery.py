"""Publisher postbacks delivered to a real HTTP server on 127.0.0.1.

Only these tests let 127.0.0.1/32 through POSTBACK_ALLOWED_PRIVATE_NETWORKS; the SSRF tests
run with it empty.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest
import time_machine
from django.utils import timezone

from affiliates.models import Offer, Publisher
from payouts.callbacks import addresses, client, tasks
from payouts.callbacks.retries import retry_ceiling
from payouts.callbacks.services import callbacks_fire, delivery_resend
from payouts.models.callbacks import CallbackDelivery, CallbackEndpoint
from payouts.tests.callback_server import Recorder
from payouts.tests.factories_callbacks import CallbackEndpointFactory, ConversionFactory
from payouts.tests.factories_payouts import CommissionFactory

Status = CallbackDelivery.Status


@pytest.fixture
def fire(django_capture_on_commit_callbacks: Any) -> Any:
    """callbacks_fire, with its on-commit enqueue run (eager Celery delivers inline)."""

    def _fire(commissions: list[Any], event: str = "created") -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return callbacks_fire(commission_ids=[c.pk for c in commissions], event=event)

    return _fire


@pytest.fixture
def sale(shoes: Offer, pixelpush: Publisher) -> Any:
    conversion = ConversionFactory(
        offer=shoes,
        publisher=pixelpush,
        goal=shoes.goals.get(code="sale"),
        sub1="camp 1&2",
        sub2="ad/7",
        sub5="z",
        source_id="news-site",
    )
    return CommissionFactory(
        conversion=conversion,
        payout=Decimal("12.345000"),
        currency="USD",
        created_at=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
    )


def _endpoint(server: Recorder, publisher: Publisher, **kw: Any) -> CallbackEndpoint:
    template = (
        "/pb?cid={click_id}&s1={sub1}&s2={sub2}&s3={sub3}&s5={sub5}&src={source}&o={offer_id}"
        "&g={goal}&conv={conversion_id}&p={payout}&cur={currency}&st={status}&t={event_time}"
    )
    return CallbackEndpointFactory(publisher=publisher, url=server.base_url + kw.pop("path", template), **kw)


def test_it_delivers_every_macro_percent_encoded(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(server, sale.publisher)

    assert fire([sale]) == 1

    [hit] = server.hits
    assert hit.method == "GET"
    assert hit.query == {
        "cid": [sale.conversion.click_id.hex],
        "s1": ["camp 1&2"],
        "s2": ["ad/7"],
        "s5": ["z"],
        "src": ["news-site"],
        "o": [str(sale.offer_id)],
        "g": ["sale"],
        "conv": [str(sale.conversion_id)],
        "p": ["12.35"],
        "cur": ["USD"],
        "st": ["pending"],
        "t": ["2025-03-04T05:06:07Z"],
    }
    assert "s1=camp%201%262&s2=ad%2F7&s3=&" in CallbackDelivery.objects.get().url
    delivery = CallbackDelivery.objects.get()
    assert (delivery.status, delivery.attempts_count, delivery.last_status_code) == (Status.DELIVERED, 1, 200)
    [attempt] = delivery.attempts.all()
    assert attempt.ok
    assert attempt.status_code == 200
    assert attempt.ip == "127.0.0.1"
    assert attempt.response_excerpt == "OK"
    assert attempt.latency_ms is not None


def test_a_post_endpoint_sends_the_macros_as_a_form(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(server, sale.publisher, path="/post", method="POST")

    fire([sale])

    [hit] = server.hits
    assert hit.method == "POST"
    assert hit.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(hit.body)
    assert form["sub1"] == ["camp 1&2"]
    assert form["payout"] == ["12.35"]
    assert form["goal"] == ["sale"]


def test_the_response_excerpt_is_cut_to_one_kilobyte(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(server, sale.publisher, path="/pb")
    server.reply(200, "x" * 5000)

    fire([sale])

    assert len(CallbackDelivery.objects.get().attempts.get().response_excerpt) == 1024


def test_firing_twice_owes_and_sends_one_postback(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(server, sale.publisher, path="/pb", on_approved=True)

    assert fire([sale]) == 1
    assert fire([sale, sale]) == 0
    assert fire([sale], "approved") == 1

    assert CallbackDelivery.objects.count() == 2
    assert len(server.hits) == 2


def test_a_duplicate_task_message_does_not_send_twice(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(server, sale.publisher, path="/pb")
    fire([sale])
    delivery = CallbackDelivery.objects.get()

    tasks.callback_deliver.delay(delivery.pk)

    assert len(server.hits) == 1


def test_the_most_specific_endpoint_is_the_only_one_that_fires(
    server: Recorder, sale: Any, fire: Any
) -> None:
    publisher = sale.publisher
    _endpoint(server, publisher, path="/global")
    _endpoint(server, publisher, path="/offer", offer=sale.offer)
    other_goal = sale.offer.goals.get(code="lead")
    lead = CommissionFactory(
        conversion=ConversionFactory(offer=sale.offer, publisher=publisher, goal=other_goal)
    )
    _endpoint(server, publisher, path="/goal", offer=sale.offer, goal=other_goal)
    elsewhere = CommissionFactory(conversion=ConversionFactory(publisher=publisher))

    fire([sale, lead, elsewhere])

    assert sorted(h.path for h in server.hits) == ["/global", "/goal", "/offer"]


def test_an_endpoint_fires_only_for_the_events_it_chose(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(
        server, sale.publisher, path="/pb?st={status}", offer=sale.offer, on_created=False, on_reversed=True
    )
    # A more general endpoint does not stand in for events the specific one left out.
    _endpoint(server, sale.publisher, path="/global", on_approved=True)

    assert fire([sale], "created") == 0
    assert fire([sale], "approved") == 0
    sale.status, sale.reversed_at = "reversed", timezone.now()
    sale.save()
    assert fire([sale], "reversed") == 1

    [hit] = server.hits
    assert hit.path == "/pb"
    assert hit.query["st"] == ["reversed"]


def test_inactive_endpoints_and_other_publishers_do_not_fire(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(server, sale.publisher, path="/pb", is_active=False)
    CallbackEndpointFactory(url=server.base_url + "/someone-else")

    assert fire([sale]) == 0
    assert server.hits == []


def test_cpc_daily_lines_never_fire(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(server, sale.publisher, path="/pb")
    line = CommissionFactory(
        kind="cpc",
        conversion=None,
        offer=sale.offer,
        goal=sale.goal,
        publisher=sale.publisher,
        source_key="cpc:1:1:1:2025-01-01",
    )

    assert fire([line]) == 0
    assert server.hits == []


def test_an_attempt_gives_up_after_the_five_second_limit(server: Recorder) -> None:
    server.delay_seconds = 1.5
    started = time.monotonic()

    outcome = client.send(method="GET", url=server.base_url + "/slow", timeout=0.5)

    assert outcome.error_code == "timeout"
    assert not outcome.ok
    assert outcome.retryable
    assert time.monotonic() - started < 1.4
    assert client.ATTEMPT_TIMEOUT_SECONDS == 5.0


def test_it_connects_to_the_vetted_address_and_sends_the_name_as_host(
    server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []

    def fake_dns(host: str, port: int, **kw: Any) -> list[Any]:
        lookups.append(host)
        return [(2, 1, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(addresses, "_getaddrinfo", fake_dns)

    outcome = client.send(method="GET", url=f"http://tracker.publisher.example:{server.port}/pb?x=1")

    assert outcome.ok
    assert outcome.ip == "127.0.0.1"
    # One lookup: the connection goes to the address that was checked, not to a fresh answer.
    assert lookups == ["tracker.publisher.example"]
    assert server.hits[0].headers["Host"] == f"tracker.publisher.example:{server.port}"


def _run_due_at(moment: datetime) -> None:
    with time_machine.travel(moment, tick=True):
        tasks.callbacks_retry_due()


def test_failures_retry_with_growing_jittered_delays_until_a_success(
    server: Recorder, sale: Any, fire: Any
) -> None:
    _endpoint(server, sale.publisher, path="/pb")
    for _ in range(3):
        server.reply(500, "try later")
    fire([sale])
    delivery = CallbackDelivery.objects.get()

    for failures in (1, 2, 3):
        delivery.refresh_from_db()
        last = delivery.attempts.last()
        assert delivery.status == Status.PENDING
        assert delivery.attempts_count == failures
        assert last is not None
        assert last.status_code == 500
        assert last.response_excerpt == "try later"
        wait = delivery.next_attempt_at - last.created_at
        ceiling = retry_ceiling(failures)
        assert ceiling / 2 <= wait <= ceiling + timedelta(seconds=2)
        # Not yet due: nothing is sent early.
        _run_due_at(delivery.next_attempt_at - timedelta(seconds=5))
        assert len(server.hits) == failures
        _run_due_at(delivery.next_attempt_at + timedelta(seconds=1))

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert delivery.attempts_count == 4
    assert delivery.next_attempt_at is None
    _run_due_at(timezone.now() + timedelta(days=2))
    assert len(server.hits) == 4


def test_it_gives_up_after_24_hours_of_failures(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(server, sale.publisher, path="/pb")
    for _ in range(100):
        server.reply(503)
    fire([sale])
    delivery = CallbackDelivery.objects.get()
    fired_at = delivery.created_at

    for _ in range(60):
        delivery.refresh_from_db()
        if delivery.status != Status.PENDING:
            break
        _run_due_at(delivery.next_attempt_at + timedelta(seconds=1))

    delivery.refresh_from_db()
    attempts = list(delivery.attempts.all())
    assert delivery.status == Status.FAILED
    assert delivery.given_up_at is not None
    assert delivery.give_up_at == fired_at + timedelta(hours=24)
    assert all(a.created_at < delivery.give_up_at for a in attempts)
    # Hourly-ish retries near the end: the last one lands within the final cap of the window.
    assert attempts[-1].created_at > delivery.give_up_at - 2 * retry_ceiling(99)
    assert 10 <= len(attempts) == len(server.hits) <= 25
    _run_due_at(fired_at + timedelta(days=3))
    assert len(server.hits) == len(attempts)


def test_a_resend_makes_a_new_attempt_now_and_can_rescue_a_failed_delivery(
    server: Recorder, sale: Any, fire: Any
) -> None:
    _endpoint(server, sale.publisher, path="/pb")
    server.reply(404, "no such campaign")
    fire([sale])
    delivery = CallbackDelivery.objects.get()
    CallbackDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED, given_up_at=timezone.now())

    attempt = delivery_resend(delivery=delivery)

    delivery.refresh_from_db()
    assert attempt.ok
    assert attempt.trigger == "resend"
    assert delivery.status == Status.DELIVERED
    assert delivery.attempts_count == 2
    assert [h.path for h in server.hits] == ["/pb", "/pb"]


def test_a_failed_resend_leaves_the_retry_schedule_alone(server: Recorder, sale: Any, fire: Any) -> None:
    _endpoint(server, sale.publisher, path="/pb")
    server.reply(500)
    server.reply(500)
    fire([sale])
    delivery = CallbackDelivery.objects.get()
    scheduled = delivery.next_attempt_at

    attempt = delivery_resend(delivery=delivery)

    delivery.refresh_from_db()
    assert not attempt.ok
    assert attempt.status_code == 500
    assert delivery.status == Status.PENDING
    assert delivery.next_attempt_at == scheduled


def test_pending_retries_stop_when_the_publisher_switches_the_postback_off(
    server: Recorder, sale: Any, fire: Any
) -> None:
    endpoint = _endpoint(server, sale.publisher, path="/pb")
    server.reply(500)
    fire([sale])
    delivery = CallbackDelivery.objects.get()
    endpoint.is_active = False
    endpoint.save()

    _run_due_at(delivery.next_attempt_at + timedelta(seconds=1))

    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert "deactivated" in delivery.last_error
    assert len(server.hits) == 1


def test_the_retry_ceiling_doubles_from_a_minute_up_to_three_hours() -> None:
    minutes = [retry_ceiling(n) / timedelta(minutes=1) for n in range(1, 11)]

    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 180, 180]


def test_jitter_spreads_each_delay_between_half_and_all_of_its_ceiling() -> None:
    from payouts.callbacks.retries import retry_delay

    assert retry_delay(3, jitter=0.0) == timedelta(minutes=2)
    assert retry_delay(3, jitter=0.5) == timedelta(minutes=3)
    assert timedelta(minutes=2) <= retry_delay(3) <= timedelta(minutes=4)
