"""Group commit: concurrent postbacks share click lookups and INSERTs (conversions/group_commit.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.forms.models import model_to_dict
from django.utils import timezone

from conftest import ACME_POSTBACK_TOKEN
from tracking import click_lookup
from tracking.click_lookup import clicks_find
from tracking.conversions.group_commit import GroupCommit, conversions_insert
from tracking.ids import new_click_id
from tracking.models import Click, Conversion
from tracking.tests.conversions.conftest import click_make
from tracking.tests.conversions.test_postback_lean_app import lean


class _Recorder:
    """A flush that records its batches and holds the first one until released, so the
    other threads pile up behind the leader."""

    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.batches: list[list[int]] = []
        self.singles: list[int] = []
        self.first_running = threading.Event()
        self.release = threading.Event()
        self.fail_on = fail_on or set()

    def flush(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.first_running.set()
        self.release.wait(5)
        if self.fail_on & set(items):
            raise RuntimeError("poison in the batch")
        return [i * 10 for i in items]

    def single(self, item: int) -> int:
        self.singles.append(item)
        self.first_running.set()
        self.release.wait(5)
        if item in self.fail_on:
            raise ValueError(f"bad item {item}")
        return item * 10


def _submit_all(gc: GroupCommit[int, int], rec: _Recorder, items: list[int]) -> list[Any]:
    """Submit item 0 first (it leads and blocks in flush), then the rest while it holds."""
    with ThreadPoolExecutor(max_workers=len(items)) as pool:

        def one(i: int) -> Any:
            try:
                return gc.submit(i)
            except Exception as exc:
                return exc

        first = pool.submit(one, items[0])
        assert rec.first_running.wait(5)
        rest = [pool.submit(one, i) for i in items[1:]]
        while len(gc._queue) < len(items) - 1:  # all queued behind the leader
            threading.Event().wait(0.005)
        rec.release.set()
        return [first.result(5), *(r.result(5) for r in rest)]


def test_threads_that_arrive_during_a_flush_share_the_next_one_and_get_their_own_results() -> None:
    rec = _Recorder()
    gc: GroupCommit[int, int] = GroupCommit(flush=rec.flush, single=rec.single)
    results = _submit_all(gc, rec, list(range(12)))
    assert results == [i * 10 for i in range(12)]
    assert rec.singles == [0]  # the lone leader went alone
    assert sorted(rec.batches[0]) == list(range(1, 12))  # the rest in one batch
    assert not gc._flushing
    assert not gc._queue


def test_a_batch_limit_hands_the_queue_on_to_the_next_leader() -> None:
    rec = _Recorder()
    gc: GroupCommit[int, int] = GroupCommit(flush=rec.flush, single=rec.single, max_batch=3)
    results = _submit_all(gc, rec, list(range(11)))
    assert results == [i * 10 for i in range(11)]
    # 0 alone; then each leader takes three and promotes the next waiter; the last one alone.
    assert [len(b) for b in rec.batches] == [3, 3, 3]
    assert len(rec.singles) == 2
    assert rec.singles[0] == 0
    assert sorted([*(i for b in rec.batches for i in b), *rec.singles]) == list(range(11))
    assert not gc._flushing
    assert not gc._queue


def test_a_failing_batch_is_retried_item_by_item_so_only_the_bad_item_fails() -> None:
    rec = _Recorder(fail_on={7})
    gc: GroupCommit[int, int] = GroupCommit(flush=rec.flush, single=rec.single)
    results = _submit_all(gc, rec, list(range(10)))
    assert isinstance(results[7], ValueError)
    assert [r for i, r in enumerate(results) if i != 7] == [i * 10 for i in range(10) if i != 7]
    assert sorted(rec.singles) == list(range(10))  # 0 alone, then 1..9 one by one


def _conversion(offer: Any, publisher: Any, goal: Any, click: Any, **fields: Any) -> Conversion:
    values: dict[str, Any] = {
        "created_at": timezone.now(),
        "advertiser_id": offer.advertiser_id,
        "offer_id": offer.id,
        "publisher_id": publisher.id,
        "goal_id": goal.id,
        "click_id": click.id,
        "click_time": click.created_at,
        "currency": "USD",
        "amount": Decimal("12.345600"),
        "country": "GB",
        "sub1": "campaign-7",
        "fraud_flags": ["country_mismatch"],
        "trace": {"request": {"via": "test"}, "price": {"payout": "1.50"}},
    }
    values.update(fields)
    return Conversion(**values)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_statement_inserts_a_batch_and_reports_each_duplicate_by_position(shoes, pixelpush, shoes_link):
    goal = shoes.goals.get(code="sale")
    click = click_make(shoes, pixelpush)
    existing = _conversion(shoes, pixelpush, goal, click, txn_id="OLD")
    existing.save()
    batch = [
        _conversion(shoes, pixelpush, goal, click, txn_id="A"),
        _conversion(shoes, pixelpush, goal, click, txn_id="A"),  # same key in the same batch
        _conversion(shoes, pixelpush, goal, click, txn_id="OLD"),  # already stored
        _conversion(shoes, pixelpush, goal, click),  # no key: never a duplicate
        _conversion(shoes, pixelpush, goal, click),
        _conversion(shoes, pixelpush, goal, click, dedupe_key=f"{click.id.hex}:{goal.id}"),
        _conversion(shoes, pixelpush, goal, click, dedupe_key=f"{click.id.hex}:{goal.id}"),
    ]
    ids = conversions_insert(batch)
    assert [i is not None for i in ids] == [True, False, False, True, True, True, False]
    assert Conversion.objects.count() == 1 + 4
    for conv, new_id in zip(batch, ids, strict=True):
        if new_id is not None:
            assert conv.id == new_id
            assert conv._state.adding is False
            stored = Conversion.objects.get(pk=new_id)
            assert model_to_dict(stored) == model_to_dict(conv)  # every column as the ORM writes it


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_row_equals_the_row_the_orm_writes(shoes, pixelpush, shoes_link):
    goal = shoes.goals.get(code="sale")
    click = click_make(shoes, pixelpush)
    at = timezone.now()
    via_orm = _conversion(shoes, pixelpush, goal, click, txn_id="ORM", created_at=at)
    via_orm.save()
    via_batch = _conversion(shoes, pixelpush, goal, click, txn_id="BATCH", created_at=at)
    conversions_insert([via_batch, _conversion(shoes, pixelpush, goal, click, txn_id="OTHER")])
    orm_row = model_to_dict(Conversion.objects.get(pk=via_orm.pk), exclude=["id", "txn_id"])
    batch_row = model_to_dict(Conversion.objects.get(pk=via_batch.pk), exclude=["id", "txn_id"])
    assert orm_row == batch_row


@pytest.mark.django_db
def test_clicks_find_returns_each_id_in_order(shoes, pixelpush):
    first, second = click_make(shoes, pixelpush), click_make(shoes, pixelpush)
    found = clicks_find([second.id, new_click_id(1), first.id])
    assert [c.pk if c else None for c in found] == [second.id, None, first.id]
    assert found[0] is not None
    assert model_to_dict(found[0]) == model_to_dict(second)
    assert clicks_find([]) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_postbacks_through_the_lean_app_each_get_their_own_conversion(
    shoes, pixelpush, shoes_link
):
    clicks = [click_make(shoes, pixelpush) for _ in range(40)]

    def one(i: int) -> dict[str, Any]:
        try:
            query = {"click_id": clicks[i % 20].id.hex, "txn_id": f"T{i % 30}", "amount": "10"}
            return json.loads(lean({"token": ACME_POSTBACK_TOKEN, **query})[2])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(one, range(40)))
    accepted = [a for a in answers if a["result"] == "accepted"]
    assert len(accepted) == 30  # txn_id T0..T29 once each; the ten repeats are duplicates
    assert sum(a["result"] == "duplicate" for a in answers) == 10
    stored = {c.id: c for c in Conversion.objects.all()}
    assert len(stored) == 30
    for i, answer in enumerate(answers):
        conv = stored[answer["conversion_id"]]
        assert conv.txn_id == f"T{i % 30}"  # each answer names its own row


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_broken_between_requests_costs_one_503_then_recovers(shoes, pixelpush, shoes_link):
    click = click_make(shoes, pixelpush)
    params = {"token": ACME_POSTBACK_TOKEN, "click_id": click.id.hex, "amount": "10"}
    assert lean({**params, "txn_id": "UP-1"})[0] == "200 OK"
    pid = connection.connection.info.backend_pid  # the lean app kept its connection open
    with psycopg.connect(
        f"host={connection.settings_dict['HOST']} port={connection.settings_dict['PORT']} "
        f"user={connection.settings_dict['USER']} dbname={connection.settings_dict['NAME']}",
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    status = lean({**params, "txn_id": "UP-2"})[0]
    assert status == "503 Service Unavailable"
    assert not Conversion.objects.filter(txn_id="UP-2").exists()
    assert lean({**params, "txn_id": "UP-2"})[0] == "200 OK"  # the advertiser's retry lands
    assert Conversion.objects.filter(txn_id="UP-2").count() == 1


@pytest.mark.django_db
def test_a_click_the_consumer_commits_during_the_lookup_is_still_found(shoes, pixelpush, monkeypatch):
    """Database miss, then the consumer commits the click and deletes its Redis copy, then the
    Redis miss: the second database query finds it (click_lookup's ordering argument)."""
    at = timezone.now()
    click = Click(
        id=new_click_id(int(at.timestamp() * 1000)), offer=shoes, publisher=pixelpush, created_at=at
    )

    def consumer_commits_meanwhile(click_ids: Sequence[Any]) -> list[None]:
        click.save(force_insert=True)
        return [None] * len(click_ids)

    monkeypatch.setattr(click_lookup, "_pending_clicks", consumer_commits_meanwhile)
    found = clicks_find([click.id])[0]
    assert found is not None
    assert found.pk == click.id
