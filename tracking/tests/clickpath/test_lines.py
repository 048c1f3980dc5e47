"""The stream's line format: any record survives it, as a record and as a COPY row in the table."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracking.clickpath import lines, writer
from tracking.ids import new_click_hex
from tracking.models import Click, Impression
from tracking.models.clicks import ClickFlag

# Text as a query string or a header can carry it: tabs, newlines, backslashes, quotes, "\N",
# non-ASCII. Not NUL: the hot path drops it (PostgreSQL text cannot hold it).
TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)
SPECIAL = st.sampled_from(["", "a\tb", "line\nbreak", "back\\slash", "\\N", "\\", "cr\r", "é€😀", "x"])


def click_record(**values: Any) -> dict[str, Any]:
    click_id, ms = new_click_hex()
    rec = {
        "kind": "c", "id": click_id, "created_at": ms, "offer_id": 7, "publisher_id": 9,
        "ip": "203.0.113.9", "user_agent": "Mozilla/5.0", "country": "DE", "device": "mobile",
        "os": "android", "sub1": "", "sub2": "", "sub3": "", "sub4": "", "sub5": "", "source": "",
        "referer": "", "smart_path_id": None, "path_skips": "", "holdout_test_id": None, "holdout_arm": "",
        "ab_variant_id": None, "reason": "", "fraud_flags": [], "fallback_if_refused": None,
    }  # fmt: skip
    rec.update(values)
    return rec


def with_verdict(line: str, verdict: str) -> bytes:
    """What the click script stores: the line, a tab, the verdict."""
    return f"{line}\t{verdict}".encode()


@given(sub1=TEXT, sub2=SPECIAL, ua=TEXT, referer=SPECIAL)
def test_a_click_line_reads_back_as_the_record_it_was_made_from(sub1, sub2, ua, referer) -> None:
    rec = click_record(sub1=sub1, sub2=sub2, user_agent=ua, referer=referer, fraud_flags=["bot_user_agent"])
    got = lines.line_record(with_verdict(lines.click_line(rec), "cap_reached 0 1"))
    for name in lines.CLICK_BODY:
        assert got[name] == rec[name], name
    assert got["reason"] == "cap_reached"
    assert got["is_unique"] is False
    assert got["fraud_flags"] == ["bot_user_agent", ClickFlag.DUPLICATE, ClickFlag.FLOOD]


def test_a_refused_click_carries_its_fallback_offer_and_an_accepted_one_does_not() -> None:
    rec = click_record(fallback_if_refused=42)
    refused = lines.line_record(with_verdict(lines.click_line(rec), "geo_mismatch 1 0"))
    accepted = lines.line_record(with_verdict(lines.click_line(rec), " 1 0"))
    assert refused["fallback_offer_id"] == 42
    assert accepted["fallback_offer_id"] is None
    assert accepted["is_unique"] is True
    assert accepted["fraud_flags"] == []


def test_an_impression_line_reads_back_and_its_copy_row_is_the_traffic_columns_and_verdict() -> None:
    rec = {**click_record(sub3="s\t3"), "kind": "i", "fraud_flags": ["bot_user_agent"]}
    line = (lines.impression_line(rec) + "\t0 1").encode()  # the script's verdict: repeat, flood
    got = lines.line_record(line)
    assert {k: got[k] for k in lines.TRAFFIC} == {k: rec[k] for k in lines.TRAFFIC}
    assert got["is_unique"] is False
    assert got["fraud_flags"] == ["bot_user_agent", "duplicate_click", "click_flood"]
    clicks, impressions = lines.copy_rows([line])
    assert clicks == []
    columns = impressions[0].rstrip(b"\n").split(b"\t")
    assert len(columns) == len(lines.IMPRESSION_COPY_COLUMNS)
    assert columns[-2:] == [b"f", b'["bot_user_agent", "duplicate_click", "click_flood"]']


def test_an_impression_line_from_before_verdicts_is_still_written_as_valid() -> None:
    rec = {**click_record(), "kind": "i"}
    old_line = f"i\t{lines._head(rec)}".encode()  # what the stream held before the upgrade
    _, impressions = lines.copy_rows([old_line])
    assert impressions[0].rstrip(b"\n").split(b"\t")[-2:] == [b"t", b"[]"]
    assert (lines.line_record(old_line)["is_unique"], lines.line_record(old_line)["fraud_flags"]) == (
        True,
        [],
    )


def test_click_ids_come_from_the_click_lines_only() -> None:
    new = click_record()
    stream_lines = [
        with_verdict(lines.click_line(new), " 1 0"),
        lines.impression_line({**click_record(), "kind": "i"}).encode(),
    ]
    assert [key.decode() for key in lines.click_keys(stream_lines, b"")] == [new["id"]]


@pytest.mark.postgres
@pytest.mark.django_db
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(sub1=TEXT, sub4=SPECIAL, ua=TEXT)
def test_postgres_stores_exactly_what_the_line_says(sub1, sub4, ua) -> None:
    rec = click_record(sub1=sub1, sub4=sub4, user_agent=ua, fraud_flags=["datacenter_ip"])
    impression = {**click_record(source=sub4), "kind": "i"}
    writer.lines_write(
        [with_verdict(lines.click_line(rec), " 0 0"), with_verdict(lines.impression_line(impression), "1 1")]
    )
    click = Click.objects.get(id=uuid.UUID(rec["id"]))
    for name in ("sub1", "sub4", "user_agent", "ip", "country", "device", "os"):
        assert getattr(click, name) == rec[name], name
    assert int(click.created_at.timestamp() * 1000) == rec["created_at"]
    assert click.is_unique is False
    assert click.fraud_flags == ["datacenter_ip", ClickFlag.DUPLICATE]
    stored = Impression.objects.get(id=uuid.UUID(impression["id"]))
    assert (stored.source, stored.is_unique, stored.fraud_flags) == (sub4, True, [ClickFlag.FLOOD])


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_batch_meeting_clicks_already_written_writes_only_the_new_ones() -> None:
    first, second = click_record(sub1="first"), click_record(sub1="second")
    line_one = with_verdict(lines.click_line(first), " 1 0")
    writer.lines_write([line_one])
    writer.lines_write([line_one, with_verdict(lines.click_line(second), " 1 0")])  # a redelivery
    assert sorted(Click.objects.values_list("sub1", flat=True)) == ["first", "second"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tracking_click")
        assert cursor.fetchone()[0] == 2


@pytest.mark.django_db
def test_lines_are_written_on_any_database() -> None:
    new = click_record(sub2="on any database")
    impression = {**click_record(), "kind": "i", "id": new_click_hex()[0], "created_at": 1_720_000_000_000}
    impression_line = with_verdict(lines.impression_line(impression), "0 0")
    writer.lines_write([with_verdict(lines.click_line(new), " 1 0"), impression_line])
    assert Click.objects.get().sub2 == "on any database"
    assert Impression.objects.get().created_at.timestamp() == 1_720_000_000
    assert (Impression.objects.get().is_unique, Impression.objects.get().fraud_flags) == (
        False,
        [ClickFlag.DUPLICATE],
    )


def test_the_smart_path_holdout_and_variant_columns_read_back_and_copy_in_place() -> None:
    # One stream format (there have been no releases, so no reader of older lines).
    rec = click_record(
        smart_path_id=12, path_skips="3:geo_mismatch", holdout_test_id=9, holdout_arm="exposed"
    )
    rec["ab_variant_id"] = 7
    line = lines.click_line(rec).encode() + b"\t 1 0"
    got = lines.line_record(line)
    assert (got["smart_path_id"], got["path_skips"], got["holdout_test_id"], got["holdout_arm"]) == (
        12, "3:geo_mismatch", 9, "exposed",
    )  # fmt: skip
    assert (got["ab_variant_id"], got["reason"]) == (7, "")
    row = lines.copy_rows([line])[0][0].split(b"\t")
    body = dict(zip(lines.CLICK_BODY, row, strict=False))
    assert (body["smart_path_id"], body["holdout_test_id"], body["holdout_arm"], body["ab_variant_id"]) == (
        b"12", b"9", b"exposed", b"7",
    )  # fmt: skip
