"""The spool: fsync'ed lines written when Redis and the database are both down, replayed once."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.db import OperationalError

from tracking.clickpath import spool, store, writer
from tracking.clickpath.writer import records_write
from tracking.models import Click
from tracking.tests.clickpath.conftest import US_IP

pytestmark = pytest.mark.django_db


def click_record(link: Any, n: int) -> dict[str, Any]:
    """A spooled click record with sub1 ``n`` (and an id made of ``n``)."""
    return {
        "kind": "c", "id": f"0190f1e2a3b47c8d{n:016x}", "created_at": 1_720_000_000_000 + n,
        "offer_id": link.offer_id, "publisher_id": link.publisher_id, "ip": "1.2.3.4", "user_agent": "ua",
        "country": "US", "device": "desktop", "os": "linux", "sub1": str(n), "sub2": "", "sub3": "",
        "sub4": "", "sub5": "", "source": "", "referer": "", "is_unique": True, "reason": "",
        "fraud_flags": [], "fallback_offer_id": None,
    }  # fmt: skip


def spooled(spool_dir: Any) -> list[dict[str, Any]]:
    return [rec for path in sorted(spool_dir.glob("clicks-*")) for rec in spool.read(path)]


@pytest.fixture(autouse=True)
def spool_dir(settings, tmp_path):
    settings.CLICK_SPOOL_DIR = str(tmp_path / "spool")
    return tmp_path / "spool"


def test_a_click_is_spooled_when_redis_and_the_database_fail_and_replayed_once(
    edge, shoes_link, monkeypatch, settings, spool_dir
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    edge.get(f"/c/{shoes_link.token}", REMOTE_ADDR=US_IP)  # caches the link first

    def database_down(records):
        raise OperationalError("connection refused")

    monkeypatch.setattr(store.writer, "records_write", database_down)
    response = edge.get(f"/c/{shoes_link.token}", {"sub1": "spooled"}, REMOTE_ADDR=US_IP)
    assert response.status_code == 302
    assert response["Location"].startswith("https://shoes.example.com/")
    assert [r["sub1"] for r in spooled(spool_dir)] == ["spooled"]
    monkeypatch.undo()
    settings.REDIS_URL = ""
    assert writer.spool_replay() == 1
    assert writer.spool_replay() == 0
    assert list(spool_dir.glob("clicks-*")) == []
    assert Click.objects.filter(sub1="spooled").count() == 1


def test_replaying_the_same_lines_twice_writes_each_click_once(shoes_link, spool_dir):
    rec = {
        "kind": "c", "id": "0190f1e2a3b47c8d9e0f112233445566", "created_at": 1_720_000_000_000,
        "offer_id": shoes_link.offer_id, "publisher_id": shoes_link.publisher_id, "ip": "1.2.3.4",
        "user_agent": "ua", "country": "US", "device": "desktop", "os": "linux", "sub1": "a\x00b",
        "sub2": "", "sub3": "", "sub4": "", "sub5": "", "source": "", "referer": "", "is_unique": True,
        "reason": "", "fraud_flags": [], "fallback_offer_id": None,
    }  # fmt: skip
    spool.append(rec)
    spool.append(rec)
    # A file of an older version (plain JSON lines) with a line cut by a crash.
    (spool_dir / "clicks-1.jsonl").write_text(json.dumps(rec) + "\n{cut by a cra")
    assert writer.spool_replay() == 3
    click = Click.objects.get()
    assert click.sub1 == "ab"  # NUL dropped: PostgreSQL text cannot hold it
    [corrupt] = spool_dir.glob("corrupt-*")
    assert b"{cut by a cra" in corrupt.read_bytes()


def test_a_spooled_click_whose_link_was_unknown_is_resolved_by_token_on_replay(shoes_link):
    rec = {
        "kind": "c", "id": "0190f1e2a3b47c8d9e0f112233445577", "created_at": 1_720_000_000_000,
        "token": shoes_link.token, "offer_id": None, "publisher_id": None, "reason": "tracking_unavailable",
        "is_unique": True, "fraud_flags": [],
    }  # fmt: skip
    spool.append(rec)
    spool.append({**rec, "id": "0190f1e2a3b47c8d9e0f112233445588", "token": "gone-token-xyz"})
    writer.spool_replay()
    click = Click.objects.get()
    assert (click.offer_id, click.reason) == (shoes_link.offer_id, "tracking_unavailable")


def test_a_record_the_database_refuses_goes_to_the_dead_letter_file(shoes_link, spool_dir):
    good = {"kind": "c", "id": "0190f1e2a3b47c8d9e0f112233445599", "created_at": 1_720_000_000_000,
            "offer_id": shoes_link.offer_id, "publisher_id": shoes_link.publisher_id}  # fmt: skip
    bad = {**good, "id": "not-a-uuid"}
    records_write([good, bad])
    assert Click.objects.count() == 1
    dead = [json.loads(line) for f in spool_dir.glob("dead-*.jsonl") for line in f.read_text().splitlines()]
    assert [d["record"]["id"] for d in dead] == ["not-a-uuid"]


def test_a_failed_replay_keeps_its_file_and_the_next_take_does_not_overwrite_it(
    shoes_link, spool_dir, monkeypatch
):
    spool.append(click_record(shoes_link, 1))

    def database_down(records):
        raise OperationalError("connection refused")

    monkeypatch.setattr(writer, "records_write", database_down)
    with pytest.raises(OperationalError):
        writer.spool_replay()
    spool.append(click_record(shoes_link, 2))  # a new file under the same live name
    with pytest.raises(OperationalError):
        writer.spool_replay()
    spool.append(click_record(shoes_link, 3))
    monkeypatch.undo()
    assert writer.spool_replay() == 3
    assert sorted(Click.objects.values_list("sub1", flat=True)) == ["1", "2", "3"]
    assert spool.pending() == 0


def test_a_line_cut_by_a_crash_is_reported_and_does_not_swallow_the_next_one(shoes_link, spool_dir):
    path = spool.spool_dir() / f"clicks-{os.getpid()}.spool"
    whole = spool.frame(click_record(shoes_link, 1))
    path.write_bytes(whole[: len(whole) // 2])  # the writer died mid-line, before its fsync
    spool.append(click_record(shoes_link, 2))
    assert writer.spool_replay() == 1
    assert list(Click.objects.values_list("sub1", flat=True)) == ["2"]
    [corrupt] = spool_dir.glob("corrupt-*")
    assert whole[: len(whole) // 2] in corrupt.read_bytes()


def test_a_frame_whose_bytes_changed_is_not_replayed(shoes_link):
    line = spool.frame(click_record(shoes_link, 1)).rstrip(b"\n")
    assert spool.unframe(line) is not None
    assert spool.unframe(line.replace(b'"sub1":"1"', b'"sub1":"7"')) is None
    assert spool.unframe(line[:-1]) is None


def test_a_short_write_cuts_the_file_back_and_refuses_the_click(shoes_link, spool_dir, monkeypatch):
    spool.append(click_record(shoes_link, 1))
    path = spool_dir / f"clicks-{os.getpid()}.spool"
    size = path.stat().st_size
    real_write = os.write

    def half(fd, data):
        return real_write(fd, data[: len(data) // 2])

    monkeypatch.setattr(spool.os, "write", half)
    with pytest.raises(spool.SpoolUnavailable):
        spool.append(click_record(shoes_link, 2))
    monkeypatch.undo()
    assert path.stat().st_size == size
    spool.append(click_record(shoes_link, 3))
    assert [r["sub1"] for r in spooled(spool_dir)] == ["1", "3"]


def test_a_full_disk_refuses_the_click(shoes_link, spool_dir):
    spool_dir.mkdir(parents=True, exist_ok=True)
    (spool_dir / f"clicks-{os.getpid()}.spool").symlink_to("/dev/full")  # every write: ENOSPC
    with pytest.raises(spool.SpoolUnavailable):
        spool.append(click_record(shoes_link, 1))


@pytest.mark.parametrize("fault", ["disk_full", "not_a_directory"])
def test_a_click_no_store_takes_is_answered_503_not_302(
    edge, shoes_link, monkeypatch, settings, spool_dir, fault
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    edge.get(f"/c/{shoes_link.token}", REMOTE_ADDR=US_IP)  # caches the link first

    def database_down(records):
        raise OperationalError("connection refused")

    monkeypatch.setattr(store.writer, "records_write", database_down)
    if fault == "disk_full":
        spool_dir.mkdir(parents=True, exist_ok=True)
        (spool_dir / f"clicks-{os.getpid()}.spool").symlink_to("/dev/full")
    else:  # the spool directory cannot be created (a read-only or broken mount)
        spool_dir.parent.mkdir(parents=True, exist_ok=True)
        (spool_dir.parent / "file").write_text("")
        settings.CLICK_SPOOL_DIR = str(spool_dir.parent / "file" / "spool")
    response = edge.get(f"/c/{shoes_link.token}", {"sub1": "lost"}, REMOTE_ADDR=US_IP)
    assert response.status_code == 503
    assert "Location" not in response
    assert response["Retry-After"] == "5"
