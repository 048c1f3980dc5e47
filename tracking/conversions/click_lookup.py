"""Finding a click by id for attribution.

In production a click is first written to a Redis stream and reaches PostgreSQL a moment later
through the consumer, so a conversion can arrive before its click is in the table. The hot
path therefore also writes a pending copy (a Redis string per click holding its stream line,
in the same atomic script as the stream entry), which the consumer deletes only after the click is committed.

Lookups ask the database first (most conversions come long after their click, which is then
stored), Redis for the ids the database lacks, and the database once more for ids Redis lacks
too: a click committed between the first query and the Redis read has lost its pending copy
only after its commit, so the second query sees it. Nothing in between can be missed.

A lookup that could not look is a failure, never "not found": Redis unreachable (or closing
the connection) raises ``ClickLookupUnavailable``, which the postback answers with 503 so the
advertiser retries. So does a click that no store holds yet but that may still be on its way
(``_may_be_undrained``): a click answered 302 waits in the stream, a spool or the table, and a
postback for it is never refused for good as unknown_click while it waits.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection

from affiliates.core.db import db_supports_binary_copy
from tracking.clickpath import redis_conn, spool
from tracking.clickpath.lines import line_record
from tracking.clickpath.store import pending_key, spooled_key, stream_key
from tracking.conversions.instances import instance_build
from tracking.conversions.offload import blocking_io
from tracking.models import Click

log = logging.getLogger(__name__)


def _click_from_record(click_id: uuid.UUID, rec: dict[str, Any]) -> Click:
    return Click(
        id=click_id,
        created_at=datetime.fromtimestamp(rec["created_at"] / 1000, tz=UTC),
        offer_id=rec["offer_id"],
        publisher_id=rec["publisher_id"],
        ip=rec["ip"],
        user_agent=rec["user_agent"],
        referer=rec.get("referer", ""),
        country=rec["country"],
        device=rec["device"],
        os=rec["os"],
        sub1=rec["sub1"],
        sub2=rec["sub2"],
        sub3=rec["sub3"],
        sub4=rec["sub4"],
        sub5=rec["sub5"],
        source=rec["source"],
        is_unique=rec["is_unique"],
        reason=rec["reason"],
        fraud_flags=rec["fraud_flags"],
        fallback_offer_id=rec.get("fallback_offer_id"),
        smart_path_id=rec.get("smart_path_id"),
        path_skips=rec.get("path_skips", ""),
        holdout_test_id=rec.get("holdout_test_id"),
        holdout_arm=rec.get("holdout_arm", ""),
        ab_variant_id=rec.get("ab_variant_id"),
    )


class ClickLookupUnavailable(OperationalError):
    """The click may be where the lookup could not look. A database error to every caller (the
    postback answers 503 and is retried, the pixel records nothing), never "not found"."""


# A click's id is minted before its Redis write, and hosts' clocks differ: a click may sit in a
# stream entry whose id is this much older than the click's own millisecond.
STREAM_SLACK_MS = 60_000


def _redis() -> redis.Redis | None:
    """Redis for lookups, None in embedded mode. Not the hot path's breaker: a lookup that
    cannot reach Redis must fail, not skip it."""
    if not settings.REDIS_URL:
        return None
    return redis_conn.client_always()


def _unavailable(exc: BaseException, n: int) -> ClickLookupUnavailable:
    log.warning("Redis unreachable (%s): %d click lookup(s) answer 503", exc, n)
    return ClickLookupUnavailable(f"click lookup: Redis unreachable ({exc})")


def _pending_clicks(click_ids: Sequence[uuid.UUID]) -> list[Click | None]:
    client = _redis()
    if client is None:
        return [None] * len(click_ids)
    try:
        keys = [pending_key(click_id.hex) for click_id in click_ids]
        found: list[bytes | None] = client.mget(keys)  # type: ignore[assignment]
    except redis.RedisError as exc:
        raise _unavailable(exc, len(click_ids)) from exc
    return [
        _click_from_record(click_id, line_record(value)) if value else None
        for click_id, value in zip(click_ids, found, strict=True)
    ]


_Converters = list[tuple[str, list[Any], Any]]
_LOADER: tuple[str, list[str], _Converters] | None = None


def _loader() -> tuple[str, list[str], _Converters]:
    """The SELECT by ids and, per column, the converters the ORM would apply (JSON decoding):
    built once. A raw query, not the ORM's: building the query through the compiler took
    about half of a lookup's time, and every postback pays for it."""
    global _LOADER
    if _LOADER is None:
        fields = Click._meta.concrete_fields
        quote = connection.ops.quote_name
        table = Click._meta.db_table
        converters = []
        for f in fields:
            col = f.get_col(table)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                converters.append((f.attname, found, col))
        pk = Click._meta.pk
        assert pk is not None
        sql = (
            f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(table)} "  # noqa: S608
            f"WHERE {quote(pk.column)} IN ({{marks}})"
        )
        _LOADER = (sql, [f.attname for f in fields], converters)
    return _LOADER


def pg_clicks_sql() -> str:
    """PostgreSQL's lookup: one text for any number of ids (``= ANY($1)``, a uuid array), so it
    is prepared once per connection and never parsed or planned again."""
    sql, _, _ = _loader()
    return sql.replace("IN ({marks})", "= ANY($1)")


def clicks_from_rows(rows: Sequence[Any], converters: _Converters | None = None) -> dict[uuid.UUID, Click]:
    """Click instances from the lookup's rows, as the ORM would load them (no query)."""
    _, names, _ = _loader()
    found = {}
    for row in rows:
        values = list(row)
        if converters:
            by_name = dict(zip(names, values, strict=True))
            for name, funcs, col in converters:
                for func in funcs:
                    by_name[name] = func(by_name[name], col, connection)
            values = list(by_name.values())
        click = instance_build(Click, dict(zip(names, values, strict=True)), db=DEFAULT_DB_ALIAS)
        found[click.id] = click
    return found


def _pg_rows(click_ids: Sequence[uuid.UUID]) -> list[Any]:
    """PostgreSQL: binary results, which psycopg decodes in C. A binary jsonb arrives decoded
    already, so the ORM's JSON converter is not applied (Click's JSON field has no custom
    decoder)."""
    with connection.wrap_database_errors:
        connection.ensure_connection()
        with psycopg.RawCursor(connection.connection) as raw:
            return raw.execute(pg_clicks_sql(), [list(click_ids)], binary=True, prepare=True).fetchall()


def _stored_clicks(click_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Click]:
    if not click_ids:
        return {}
    if db_supports_binary_copy():
        return clicks_from_rows(_pg_rows(click_ids))
    sql, _, converters = _loader()
    pk = Click._meta.pk
    assert pk is not None
    params = [pk.get_db_prep_value(click_id, connection) for click_id in click_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql.format(marks=", ".join(["%s"] * len(params))), params)
        return clicks_from_rows(cursor.fetchall(), converters)


def _minted_ms(click_id: uuid.UUID) -> int | None:
    """The millisecond a click id of ours was minted (a UUIDv7's first 48 bits); None for an
    id that is not a UUIDv7 (not one of ours)."""
    return click_id.int >> 80 if click_id.version == 7 else None


def _spool_waits_here() -> bool:
    try:
        return spool.pending() > 0
    except OSError as exc:  # no spool directory to read: nothing could be spooled in it either
        log.warning("spool unreadable (%s): not counted as waiting", exc)
        return False


def _may_be_undrained(click_ids: Sequence[uuid.UUID]) -> bool:
    """Whether a click with one of these ids could still be on its way to the table although
    neither the table nor its pending copy has it:

    - a spool waits on this host, or on any host (its consumer keeps ``store.spooled_key``);
    - the stream holds entries as old as the click (its pending copy expired first: the
      consumer stopped longer than CLICK_PENDING_TTL_SECONDS);
    - the id was minted less than CLICK_UNDRAINED_GRACE_SECONDS ago: a click spooled while
      Redis was down waits until its host's consumer next looks at the spool."""
    minted = [ms for ms in map(_minted_ms, click_ids) if ms is not None]
    if not minted:
        return False  # not ids of ours: nothing can hold them
    if _spool_waits_here():
        return True
    now_ms = time.time_ns() // 1_000_000
    if max(minted) > now_ms - settings.CLICK_UNDRAINED_GRACE_SECONDS * 1000:
        return True
    client = _redis()
    if client is None:
        return False
    try:
        if client.hlen(spooled_key()):
            return True
        oldest: Any = client.xrange(stream_key(), count=1)
    except redis.RedisError as exc:
        raise _unavailable(exc, len(click_ids)) from exc
    if not oldest:
        return False
    oldest_ms = int(oldest[0][0].split(b"-")[0])
    return max(minted) >= oldest_ms - STREAM_SLACK_MS


def clicks_find(click_ids: Sequence[uuid.UUID]) -> list[Click | None]:
    """The clicks with these ids, in order, from the database or still pending in Redis
    (unsaved Click instances, same fields); None where no store has one and none can still
    bring it. Raises ClickLookupUnavailable when a store could not be asked, or a missing
    click may still be on its way. One query when the database has them all."""
    found = _stored_clicks(click_ids)
    missing = [cid for cid in click_ids if cid not in found]
    if missing:
        pending = _pending_clicks(missing)
        found.update((c.id, c) for c in pending if c is not None)
        unseen = [cid for cid, c in zip(missing, pending, strict=True) if c is None]
        found.update(_stored_clicks(unseen))
        unseen = [cid for cid in unseen if cid not in found]
        if unseen and _may_be_undrained(unseen):
            raise ClickLookupUnavailable(f"click {unseen[0].hex} may still be on its way: retry")
    return [found.get(cid) for cid in click_ids]


def click_find(*, click_id: uuid.UUID) -> Click | None:
    """The click with this id, from Redis (not yet written) or the database; None when neither
    has it. Blocking: on the edge's loop the click is looked up by ``aio_db`` instead."""
    blocking_io("click lookup")
    return clicks_find([click_id])[0]
