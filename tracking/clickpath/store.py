"""The durable write of a click or impression, in order of preference.

1. Redis (production): one Lua script, so one round trip and atomic: the uniqueness key, the
   flood counter, the cap check-and-increment, the stream entry and the pending copy that
   attribution reads until the consumer has written the click to PostgreSQL. Atomic means the
   click caps are exact under any concurrency. The clicks that a process's threads send
   together share one command (``group_commit``) and one stream entry.
2. The database: when Redis is unreachable, or in embedded mode. Uniqueness, floods and caps
   are counted with queries (caps are then best effort across the two paths).
3. The spool: when both are unreachable, an fsync'ed line in a local file, replayed later.

A record is a flat dict (``Record``) named after the Click columns; it travels as JSON through
the spool, and through Redis as a line (JSON, then Redis's verdict: see _CLICK_LUA), and is
written by ``writer.records_write``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from tracking.clickpath import redis_conn, spool, writer
from tracking.clickpath.group_commit import GroupCommit
from tracking.clickpath.lean import db_enter
from tracking.clickpath.links import CapRule
from tracking.clickpath.rules import period_seconds, period_start
from tracking.models.clicks import Click, ClickFlag, ClickReason

log = logging.getLogger(__name__)

Record = dict[str, Any]

# One call per click or impression, run in batches by GroupCommit. KEYS: stream; for a click
# also pending, unique, flood, cap counters... ARGV: record json; for a click also reason so
# far, unique ttl, flood limit, pending ttl, then per cap: limit, ttl. Answers "reason uniq
# flood" (one string parses cheapest).
#
# What Redis keeps is a LINE: the record's JSON, and for a click a tab and Redis's verdict
# (json.dumps escapes every control character, so neither a tab nor a newline can occur in the
# JSON). The batch's lines become one stream entry (GroupCommit's stream_add); the pending
# copy that click_lookup reads is a hash with the click's line in field x.
_CLICK_LUA = """
if #KEYS == 1 then
  stream_add(KEYS[1], ARGV[1])
  return ''
end
local reason = ARGV[2]
local uniq = 1
if tonumber(ARGV[3]) > 0 then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[3]) then uniq = 0 end
end
local hits = redis.call('INCR', KEYS[4])
if hits == 1 then redis.call('EXPIRE', KEYS[4], 3600) end
local flood = 0
if hits > tonumber(ARGV[4]) then flood = 1 end
if reason == '' and #KEYS > 4 then
  for i = 5, #KEYS do
    local used = tonumber(redis.call('GET', KEYS[i]) or '0')
    if used >= tonumber(ARGV[4 + (i - 4) * 2]) then reason = 'cap_reached' break end
  end
  if reason == '' then
    for i = 5, #KEYS do
      if redis.call('INCR', KEYS[i]) == 1 then
        redis.call('EXPIRE', KEYS[i], ARGV[5 + (i - 4) * 2])
      end
    end
  end
end
local verdict = reason .. ' ' .. uniq .. ' ' .. flood
local line = ARGV[1] .. '\\t' .. verdict
stream_add(KEYS[1], line)
redis.call('HSET', KEYS[2], 'x', line)
redis.call('EXPIRE', KEYS[2], ARGV[5])
return verdict
"""


_scripts: dict[int, GroupCommit] = {}


def _script(client: Any) -> GroupCommit:
    """The click script for this client, run through the process's group commit."""
    script = _scripts.get(id(client))
    if script is None:
        # Waiters outlast the flusher's own socket timeout, so they normally get its real error.
        wait = 2 * settings.CLICK_REDIS_TIMEOUT_SECONDS + 0.5
        script = _scripts[id(client)] = GroupCommit(client, _CLICK_LUA, wait)
    return script


def stream_key() -> str:
    return redis_conn.key("stream")


def pending_key(click_id: str) -> str:
    return redis_conn.key("p", click_id)


def visitor_hash(*parts: str) -> str:
    return hashlib.blake2b("|".join(parts).encode(), digest_size=10).hexdigest()


def record_merge(data: Record, reason: str, unique: bool, flood: bool) -> Record:
    """Fold the verdicts Redis computed into the record (the consumer and click_find do this)."""
    flags = list(data.get("fraud_flags") or [])
    if not unique:
        flags.append(ClickFlag.DUPLICATE.value)
    if flood:
        flags.append(ClickFlag.FLOOD.value)
    fallback = data.get("fallback_if_refused") if reason else None
    return {
        **data,
        "reason": reason,
        "is_unique": unique,
        "fraud_flags": flags,
        "fallback_offer_id": fallback,
    }


def _record_from_line(line: bytes) -> Record:
    record, tab, verdict = line.partition(b"\t")
    data = json.loads(record)
    if not tab:
        return data  # an impression: no verdict
    reason, unique, flood = verdict.split(b" ")
    return record_merge(data, reason.decode(), unique=unique == b"1", flood=flood == b"1")


def records_from_entry(fields: Any) -> list[Record]:
    """The records of one stream entry: the lines of field x, or one record in the older
    d, r, u, f form (entries written before lines were batched)."""
    lines = fields.get(b"x")
    if lines is None:
        return [record_from_fields(fields)]
    return [_record_from_line(line) for line in lines.split(b"\n")]


def record_from_fields(fields: Any) -> Record:
    """The record of a pending hash: its line in field x, or the older d, r, u, f fields."""
    line = fields.get(b"x")
    if line is not None:
        return _record_from_line(line)
    data = json.loads(fields[b"d"])
    if data.get("kind") != "c":
        return data
    return record_merge(data, fields[b"r"].decode(), unique=fields[b"u"] == b"1", flood=fields[b"f"] == b"1")


def _cap_key(rule: CapRule, offer_id: int, publisher_id: int, now: datetime) -> str:
    who = publisher_id if rule.per_publisher else "*"
    return redis_conn.key("cap", offer_id, who, rule.period, period_start(rule.period, now).date())


def _via_redis(client: Any, rec: Record, caps: tuple[CapRule, ...], window_hours: int, ip: str) -> str:
    base = redis_conn.key("")  # the keys below are redis_conn.key(kind, ...), spelled out
    offer_id, click_id = rec["offer_id"], rec["id"]
    keys = [
        base + "stream",
        base + "p:" + click_id,
        f"{base}u:{offer_id}:{visitor_hash(ip, rec['user_agent'])}",
        f"{base}fl:{offer_id}:{visitor_hash(ip)}:{rec['created_at'] // 3_600_000}",
    ]
    args: list[Any] = [
        json.dumps(rec),
        rec["reason"],
        window_hours * 3600,
        settings.CLICK_FLOOD_PER_HOUR,
        settings.CLICK_PENDING_TTL_SECONDS,
    ]
    if caps:
        now = datetime.fromtimestamp(rec["created_at"] / 1000, tz=UTC)
        for rule in caps:
            keys.append(_cap_key(rule, offer_id, rec["publisher_id"], now))
            args += [rule.limit, period_seconds(rule.period) + 86400]
    verdict: bytes = _script(client)(keys=keys, args=args)
    return verdict.partition(b" ")[0].decode()


def _caps_reached_db(rec: Record, caps: tuple[CapRule, ...], now: datetime) -> bool:
    for rule in caps:
        qs = Click.objects.filter(
            offer_id=rec["offer_id"], reason="", created_at__gte=period_start(rule.period, now)
        )
        if rule.per_publisher:
            qs = qs.filter(publisher_id=rec["publisher_id"])
        if qs.count() >= rule.limit:
            return True
    return False


def _via_db(rec: Record, caps: tuple[CapRule, ...], window_hours: int) -> str:
    db_enter()
    now = datetime.fromtimestamp(rec["created_at"] / 1000, tz=UTC)
    same_visitor = Click.objects.filter(offer_id=rec["offer_id"], ip=rec["ip"])
    unique = window_hours == 0 or not (
        same_visitor.filter(
            user_agent=rec["user_agent"], created_at__gte=now - timedelta(hours=window_hours)
        ).exists()
    )
    recent = same_visitor.filter(created_at__gte=now - timedelta(hours=1)).count()
    flood = recent + 1 > settings.CLICK_FLOOD_PER_HOUR
    reason = rec["reason"]
    if reason == ClickReason.OK and caps and _caps_reached_db(rec, caps, now):
        reason = ClickReason.CAP_REACHED
    writer.records_write([record_merge(rec, reason, unique, flood)])
    return reason


def click_store(rec: Record, *, caps: tuple[CapRule, ...], window_hours: int, ip: str) -> str:
    """Write a click durably and return its final reason code ("" when it goes to the offer).

    ``ip`` is the raw client address (uniqueness and floods key on it even when only a hash or
    a truncation is stored).
    """
    client = redis_conn.client()
    if client is not None:
        try:
            return _via_redis(client, rec, caps, window_hours, ip)
        except redis_conn.ERRORS:
            redis_conn.mark_down()
            log.warning("Redis unreachable: click %s goes straight to the database", rec["id"])
    try:
        return _via_db(rec, caps, window_hours)
    except DatabaseError:
        log.error("Redis and database unreachable: click %s spooled", rec["id"])
    spool.append(record_merge(rec, rec["reason"], unique=True, flood=False))
    return str(rec["reason"])


def impression_store(rec: Record) -> None:
    client = redis_conn.client()
    if client is not None:
        try:
            _script(client)(keys=[stream_key()], args=[json.dumps(rec)])
            return
        except redis_conn.ERRORS:
            redis_conn.mark_down()
    try:
        db_enter()
        writer.records_write([rec])
        return
    except DatabaseError:
        log.error("Redis and database unreachable: impression %s spooled", rec["id"])
    spool.append(rec)


def unresolved_store(rec: Record) -> None:
    """A click whose link could not be read (database down, nothing cached): only its token is
    known. Spooled; the replay resolves the token."""
    spool.append(rec)
