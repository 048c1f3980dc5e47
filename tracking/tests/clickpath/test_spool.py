"""The spool: fsync'ed lines written when Redis and the database are both down, replayed once."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError

from tracking.clickpath import spool, store, writer
from tracking.clickpath.writer import records_write
from tracking.models import Click
from tracking.tests.clickpath.conftest import US_IP

pytestmark = pytest.mark.django_db


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
    lines = [
        json.loads(line) for f in spool_dir.glob("clicks-*.jsonl") for line in f.read_text().splitlines()
    ]
    assert [r["sub1"] for r in lines] == ["spooled"]
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
    (spool_dir / "clicks-1.jsonl").write_text(json.dumps(rec) + "\n{cut by a cra")
    assert writer.spool_replay() == 3
    click = Click.objects.get()
    assert click.sub1 == "ab"  # NUL dropped: PostgreSQL text cannot hold it


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
