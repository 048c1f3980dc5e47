"""Batch insert of click and impression records, idempotent on their ids.

PostgreSQL: COPY into a temporary table, then ``INSERT ... SELECT ... ON CONFLICT (id) DO
NOTHING`` in the same transaction: COPY is the fastest way in, and the conflict clause makes a
redelivered stream entry or a replayed spool line a no-op. SQLite (embedded): bulk_create
with ignore_conflicts, which is the same statement there.

A record the database refuses (not an outage: bad data) must not block the stream forever, so
a failing batch is retried row by row and a row that still fails goes to a dead-letter file
beside the spool, for a human to look at.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction

from affiliates.models import OfferAccess
from tracking.models import Click, Impression

log = logging.getLogger(__name__)

TRAFFIC_COLUMNS = (
    "id", "created_at", "offer_id", "publisher_id", "ip", "user_agent", "country", "device", "os",
    "sub1", "sub2", "sub3", "sub4", "sub5", "source",
)  # fmt: skip
CLICK_COLUMNS = (*TRAFFIC_COLUMNS, "referer", "is_unique", "reason", "fraud_flags", "fallback_offer_id")
# Bad data, not an outage: retrying will not help, so such a record is set aside.
REFUSED = (DataError, IntegrityError, ValidationError, ValueError, TypeError, KeyError)
_TEXT_LIMITS = {"user_agent": 512, "referer": 1024, "ip": 64, "country": 2, "device": 16, "os": 32}


def _value(record: dict[str, Any], column: str) -> Any:
    value = record.get(column)
    if column == "created_at":
        return datetime.fromtimestamp(record["created_at"] / 1000, tz=UTC)
    if column == "fraud_flags":
        return json.dumps(value or [])
    if column == "is_unique":
        return value is None or bool(value)
    if column in ("fallback_offer_id", "offer_id", "publisher_id"):
        return value
    text = str(value or "").replace("\x00", "")  # PostgreSQL text cannot hold NUL
    return text[: _TEXT_LIMITS.get(column, 255)] if column != "id" else text


def _rows(records: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    return [tuple(_value(r, c) for c in columns) for r in records]


def _copy_insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    names = ", ".join(columns)
    temp = f"_in_{table}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {temp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        raw = cursor.cursor  # psycopg's own cursor, for COPY; errors mapped to Django's below
        with connection.wrap_database_errors, raw.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Table and column names are constants of this module, never input.
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp} ON CONFLICT (id) DO NOTHING"  # noqa: S608
        )
        cursor.execute(f"TRUNCATE {temp}")


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
    if connection.vendor == "postgresql":
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
    from tracking.clickpath.spool import spool_dir

    path = spool_dir() / f"dead-{os.getpid()}.jsonl"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"record": record, "error": str(error)}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    log.error("click record %s refused by the database (%s); kept in %s", record.get("id"), error, path)


def records_write(records: list[dict[str, Any]]) -> None:
    """Insert these records in one transaction; already written ids are skipped."""
    records = _resolve_tokens(records)
    clicks = [r for r in records if r.get("kind") == "c"]
    impressions = [r for r in records if r.get("kind") == "i"]
    try:
        with transaction.atomic():
            _insert(Click, CLICK_COLUMNS, _rows(clicks, CLICK_COLUMNS))
            _insert(Impression, TRAFFIC_COLUMNS, _rows(impressions, TRAFFIC_COLUMNS))
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
                _insert(Click, CLICK_COLUMNS, _rows([record], CLICK_COLUMNS))
            else:
                _insert(Impression, TRAFFIC_COLUMNS, _rows([record], TRAFFIC_COLUMNS))
    except REFUSED as exc:
        return exc
    return RuntimeError("refused once, accepted on retry")
