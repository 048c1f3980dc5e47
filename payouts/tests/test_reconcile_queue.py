"""Reconciliation drains tracking's queue of conversion ids (UnreconciledConversion) and never
writes a conversion; a status change racing a batch is never lost."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from django.db import connection

from payouts import reconcile
from payouts.models import Commission
from payouts.reconcile import conversions_reconcile
from payouts.tests.helpers import convert, queued
from tracking.models import UnreconciledConversion


def _row_versions() -> list[tuple[int, str]]:
    # ctid is where a row version lives: any UPDATE, even in this transaction, moves it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, ctid::text FROM tracking_conversion ORDER BY id")
        return cursor.fetchall()


@pytest.mark.django_db
def test_a_batch_takes_its_ids_out_of_the_queue_and_leaves_the_rest(shoes, pixelpush):
    ids = [convert(shoes, pixelpush).pk for _ in range(5)]
    result = reconcile.conversions_reconcile_batch(after_id=0, until_id=None, limit=3)
    assert (result.claimed, result.created, result.last_id) == (3, 3, ids[2])
    assert queued() == set(ids[3:])


@pytest.mark.django_db
def test_an_id_whose_conversion_is_gone_is_dropped(shoes, pixelpush):
    kept = convert(shoes, pixelpush)
    UnreconciledConversion.objects.create(conversion_id=10**12)
    result = conversions_reconcile()
    assert (result.claimed, result.created) == (2, 1)
    assert Commission.objects.get().conversion_id == kept.pk
    assert not queued()


@pytest.mark.postgres
@pytest.mark.django_db
def test_reconciliation_never_writes_a_conversion(shoes, pixelpush):
    for status in ("pending", "approved", "rejected"):
        convert(shoes, pixelpush, status=status)
    before = _row_versions()
    assert conversions_reconcile().created == 2
    assert _row_versions() == before


def _waits_for_a_lock(pid: int) -> bool:
    """Whether backend ``pid`` is (within a few seconds) blocked on another transaction's lock."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return True
        time.sleep(0.02)
    return False


class _StatusChange(threading.Thread):
    """A status change made on a connection of its own, as a concurrent postback would."""

    def __init__(self, conversion_id: int, status: str, *, commit_when: threading.Event | None = None):
        super().__init__(daemon=True)
        self.conversion_id, self.status, self.commit_when = conversion_id, status, commit_when
        self.connected, self.updated, self.committed = threading.Event(), threading.Event(), threading.Event()
        self.backend_pid = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        db = connection.settings_dict
        try:
            with psycopg.connect(
                host=db["HOST"] or "127.0.0.1",
                port=db["PORT"] or 5432,
                user=db["USER"],
                password=db.get("PASSWORD") or None,
                dbname=db["NAME"],
            ) as conn:
                self.backend_pid = conn.info.backend_pid
                self.connected.set()
                conn.execute(
                    "UPDATE tracking_conversion SET status = %s WHERE id = %s",
                    [self.status, self.conversion_id],
                )
                self.updated.set()
                if self.commit_when is not None:
                    self.commit_when.wait(10)
                conn.commit()
                self.committed.set()
        except BaseException as exc:  # seen by the test thread
            self.error = exc


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_status_change_made_while_its_batch_runs_waits_and_is_queued_again(shoes, pixelpush, monkeypatch):
    conversion = convert(shoes, pixelpush, goal="lead")
    change = _StatusChange(conversion.pk, "approved")
    real_pricer = reconcile.BatchPricer

    def pricer_that_lets_the_change_in(rows: Any) -> Any:
        # The batch has taken the id and read the conversion as pending.
        change.start()
        assert change.connected.wait(10)
        assert _waits_for_a_lock(change.backend_pid), "the change must wait for the batch to commit"
        assert not change.updated.is_set()
        return real_pricer(rows)

    monkeypatch.setattr(reconcile, "BatchPricer", pricer_that_lets_the_change_in)
    assert conversions_reconcile().created == 1
    change.join(10)
    assert change.error is None
    assert change.committed.is_set()
    assert Commission.objects.get(conversion=conversion).status == "pending"  # what the batch read
    assert queued() == {conversion.pk}  # and the change is queued for the next run
    monkeypatch.undo()
    assert conversions_reconcile().changed == 1
    assert Commission.objects.get(conversion=conversion).status == "approved"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_passes_over_a_conversion_whose_status_change_is_in_flight(shoes, pixelpush):
    conversion = convert(shoes, pixelpush, goal="lead")  # queued, not yet reconciled
    go = threading.Event()
    change = _StatusChange(conversion.pk, "approved", commit_when=go)
    change.start()
    assert change.updated.wait(10)
    # Taking it now would read "pending" and then drop the id the change relies on.
    assert conversions_reconcile().claimed == 0
    go.set()
    change.join(10)
    assert change.error is None
    assert change.committed.is_set()
    assert queued() == {conversion.pk}
    assert conversions_reconcile().created == 1
    assert Commission.objects.get(conversion=conversion).status == "approved"
