"""Batch insert of click and impression records, idempotent on their ids.

Records (dicts: the database fallback, the spool) on PostgreSQL: COPY into a temporary
table, then ``INSERT ... SELECT ... ON CONFLICT (id) DO NOTHING`` in the same transaction:
COPY is the fastest way in, and the conflict clause makes a redelivered stream entry or a
replayed spool line a no-op. SQLite (embedded): bulk_create with ignore_conflicts, which is
the same statement there.

Stream lines (``lines_write``, the consumer's batches) are COPY rows already (lines.py), and
go straight into the tables: nearly every batch is new, so the temporary table's second write
and read are skipped. Only a batch that meets a click already written (an entry redelivered
after a consumer died between commit and acknowledgement) rolls back on the unique key and
is written again through the temporary table, which skips the known ids.

A record the database refuses (not an outage: bad data) must not block the stream forever, so
a failing batch is retried row by row and a row that still fails goes to a dead-letter file
beside the spool, for a human to look at.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction

from affiliates.core.db import db_supports_binary_copy
from affiliates.models import OfferAccess
from tracking.clickpath import late, lines, spool
from tracking.models import Click, Impression, SmartPath

log = logging.getLogger(__name__)

IMPRESSION_COLUMNS = lines.IMPRESSION_COPY_COLUMNS
CLICK_COLUMNS = lines.CLICK_COPY_COLUMNS
# Bad data, not an outage: retrying will not help, so such a record is set aside.
# Fewer rows than this (the database fallback writes one click at a time) go in one INSERT ...
# ON CONFLICT DO NOTHING: a temporary table, a COPY and a move cost more than they save.
COPY_FROM_ROWS = 16
REFUSED = (DataError, IntegrityError, ValidationError, ValueError, TypeError, KeyError)


def _text(value: Any, limit: int) -> str:
    """Column text: cut to the column size, without NUL (PostgreSQL text cannot hold it)."""
    if value.__class__ is str and len(value) <= limit and "\x00" not in value:
        text: str = value  # what the hot path always sends, checked cheaply
        return text
    return str(value or "").replace("\x00", "")[:limit]


@lru_cache(maxsize=256)
def _flags_json(flags: tuple[str, ...]) -> str:
    return json.dumps(list(flags))  # a handful of distinct flag sets: encode each once


def _traffic_row(r: dict[str, Any]) -> tuple[Any, ...]:
    # One expression per table rather than a loop over columns: the consumer builds a row
    # per click, and a function call per column was most of its time.
    get = r.get
    return (
        str(get("id") or ""),
        datetime.fromtimestamp(r["created_at"] / 1000, tz=UTC),
        get("offer_id"),
        get("publisher_id"),
        _text(get("ip"), 64),
        _text(get("user_agent"), 512),
        _text(get("country"), 2),
        _text(get("device"), 16),
        _text(get("os"), 32),
        _text(get("sub1"), 255),
        _text(get("sub2"), 255),
        _text(get("sub3"), 255),
        _text(get("sub4"), 255),
        _text(get("sub5"), 255),
        _text(get("source"), 255),
    )


def _impression_row(r: dict[str, Any]) -> tuple[Any, ...]:
    unique = r.get("is_unique")
    return (*_traffic_row(r), unique is None or bool(unique), _flags_json(tuple(r.get("fraud_flags") or ())))


def _click_row(r: dict[str, Any]) -> tuple[Any, ...]:
    get = r.get
    unique = get("is_unique")
    return (
        *_traffic_row(r),
        _text(get("referer"), 1024),
        get("smart_path_id"),
        _text(get("path_skips"), 255),
        get("holdout_test_id"),
        _text(get("holdout_arm"), 8),
        get("ab_variant_id"),
        unique is None or bool(unique),
        _text(get("reason"), 32),
        _flags_json(tuple(get("fraud_flags") or ())),
        get("fallback_offer_id"),
    )


def _copy_via_temp(table: str, columns: tuple[str, ...], feed: Callable[[Any], None]) -> None:
    """COPY into a temporary twin of ``table`` (``feed`` writes the rows), then move the rows
    whose ids the table does not hold yet."""
    names = ", ".join(columns)
    temp = f"_in_{table}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {temp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        raw = cursor.cursor  # psycopg's own cursor, for COPY; errors mapped to Django's below
        with connection.wrap_database_errors, raw.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            feed(copy)
        # Table and column names are constants of this module, never input.
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp} ON CONFLICT (id) DO NOTHING"  # noqa: S608
        )
        cursor.execute(f"TRUNCATE {temp}")


def _copy_insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    def feed(copy: Any) -> None:
        for row in rows:
            copy.write_row(row)

    _copy_via_temp(table, columns, feed)


def _orm_insert(model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    objs = []
    for row in rows:
        data = dict(zip(columns, row, strict=True))
        if "fraud_flags" in data:
            data["fraud_flags"] = json.loads(data["fraud_flags"])
        objs.append(model(**data))
    model.objects.bulk_create(objs, ignore_conflicts=True)


def _insert(model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if db_supports_binary_copy() and len(rows) >= COPY_FROM_ROWS:
        _copy_insert(model._meta.db_table, columns, rows)
    else:
        _orm_insert(model, columns, rows)


def _resolve_tokens(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spooled clicks whose link could not be read carry only a token: look it up now."""
    tokens = {r["token"] for r in records if r.get("offer_id") is None and r.get("token")}
    if not tokens:
        return records
    found = OfferAccess.objects.filter(token__in=tokens).values_list("token", "offer_id", "publisher_id")
    pairs = {t: (o, p) for t, o, p in found}
    # A smart link's token: the click went to the default fallback, and is counted on the
    # smart link's catch-all offer (no path was chosen).
    smart = SmartPath.objects.filter(smart_link__token__in=tokens).order_by("-is_catch_all", "position", "id")
    for t, o, p in smart.values_list("smart_link__token", "offer_id", "smart_link__publisher_id"):
        pairs.setdefault(t, (o, p))
    out = []
    for r in records:
        if r.get("offer_id") is None:
            pair = pairs.get(r.get("token", ""))
            if pair is None:
                log.warning("spooled click %s has an unknown token; dropped", r.get("id"))
                continue
            r = {**r, "offer_id": pair[0], "publisher_id": pair[1]}
        out.append(r)
    return out


def _dead_letter(record: dict[str, Any], error: Exception) -> None:
    path = spool.spool_dir() / f"dead-{os.getpid()}.jsonl"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"record": record, "error": str(error)}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    log.error("click record %s refused by the database (%s); kept in %s", record.get("id"), error, path)


def _copy_direct(table: str, columns: tuple[str, ...], rows: list[bytes]) -> None:
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        copy.write(b"".join(rows))


def _feed_bytes(rows: list[bytes], copy: Any) -> None:
    copy.write(b"".join(rows))


def lines_write(stream_lines: list[bytes]) -> None:
    """Insert the records of these stream lines in one transaction; known ids are skipped."""
    if not stream_lines:
        return
    if not db_supports_binary_copy():
        records_write([lines.line_record(line) for line in stream_lines])
        return
    clicks, impressions = lines.copy_rows(stream_lines)
    tables = [
        (Click._meta.db_table, lines.CLICK_COPY_COLUMNS, clicks),
        (Impression._meta.db_table, lines.IMPRESSION_COPY_COLUMNS, impressions),
    ]
    try:
        try:
            with transaction.atomic():
                for table, columns, rows in tables:
                    if rows:
                        _copy_direct(table, columns, rows)
                late.late_lines_mark(stream_lines)
        except IntegrityError:
            with transaction.atomic():
                for table, columns, rows in tables:
                    if rows:
                        _copy_via_temp(table, columns, functools.partial(_feed_bytes, rows))
                late.late_lines_mark(stream_lines)
    except REFUSED:
        # A line the database refuses (bad data, not an outage): the record path finds it,
        # writes the rest and sets it aside.
        records_write([lines.line_record(line) for line in stream_lines])


def records_write(records: list[dict[str, Any]]) -> None:
    """Insert these records in one transaction; already written ids are skipped."""
    records = _resolve_tokens(records)
    clicks = [r for r in records if r.get("kind") == "c"]
    impressions = [r for r in records if r.get("kind") == "i"]
    try:
        with transaction.atomic():
            _insert(Click, CLICK_COLUMNS, [_click_row(r) for r in clicks])
            _insert(Impression, IMPRESSION_COLUMNS, [_impression_row(r) for r in impressions])
            # Spooled or backlogged rows behind the rollups' watermark: their hours re-roll next.
            late.late_hours_mark(datetime.fromtimestamp(r["created_at"] / 1000, tz=UTC) for r in records)
    except REFUSED:
        if len(records) == 1:
            _dead_letter(records[0], _last_error(records[0]))
            return
        for record in records:
            records_write([record])


def _last_error(record: dict[str, Any]) -> Exception:
    try:
        with transaction.atomic():
            if record.get("kind") == "c":
                _insert(Click, CLICK_COLUMNS, [_click_row(record)])
            else:
                _insert(Impression, IMPRESSION_COLUMNS, [_impression_row(record)])
            late.late_hours_mark([datetime.fromtimestamp(record["created_at"] / 1000, tz=UTC)])
    except REFUSED as exc:
        return exc
    return RuntimeError("refused once, accepted on retry")


def spool_replay() -> int:
    """Write every spooled record (spool.py); returns how many."""
    done = 0
    for records in spool.spool_batches():
        records_write(records)
        done += len(records)
    return done
