"""The durable write of a click or impression, in order of preference.

1. Redis (production): one Lua script, so one round trip and atomic: the uniqueness key, the
   flood counter, the cap check-and-increment, the stream entry and the pending copy that
   attribution reads until the consumer has written the click to PostgreSQL. Atomic means the
   click caps are exact under any concurrency. The edge (edge.py) sends the script: the clicks
   of one event loop iteration share one command (aio_redis.py) and one stream entry. This
   module builds the script's KEYS and ARGV.
2. The database: when Redis is unreachable, or in embedded mode. Uniqueness, floods and caps
   are counted with queries (caps are then best effort across the two paths). Frequency caps
   across offers are not applied on this path (they fail open): their counters are Redis's
   times per hashed visitor (see CLICK_LUA), which the database has no copy of, and counting a visitor
   across every offer of the network would scan the clicks table per click. A Redis outage
   therefore lets capped visitors through to the offer (never to an error), and the caps apply
   again, with the counts Redis kept, when it is back.
3. The spool: when both are unreachable, an fsync'ed line in a local file, replayed later.

Steps 2 and 3 block, so the edge runs them in its thread pool (blocking.py). A record is a flat
dict (``lines.Record``) named after the Click columns; it travels as JSON through the spool
(written by ``writer.records_write``), and through Redis as a line in COPY's text format
(lines.py) with Redis's verdict appended (see CLICK_LUA), which the consumer COPYs
(``writer.lines_write``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import Error as DatabaseError
from django.db import transaction
from django.db.models import Count, QuerySet

from affiliates.core.db import db_advisory_lock
from tracking.clickpath import lines, redis_conn, spool, writer
from tracking.clickpath.conf import hot
from tracking.clickpath.lines import Record, impression_merge, record_merge
from tracking.clickpath.links import CapRule
from tracking.clickpath.policy import FreqCheck
from tracking.clickpath.rules import period_seconds, period_start
from tracking.clickpath.visitor_ids import address_hash, visitor_hash
from tracking.models.clicks import Click, ClickReason, Impression

log = logging.getLogger(__name__)

# One call per click or impression, run in batches by aio_redis.ScriptBatcher. An impression
# (3 KEYS: stream, unique, flood; ARGV: line, unique ttl) gets the same uniqueness and flood
# verdicts as a click, appended to its line as "uniq flood", so CPM pays valid ones only. A
# click's KEYS: stream, pending, unique, flood, cap counters...; ARGV: the record's line
# (lines.py), reason so far, unique ttl, then per cap: limit, ttl, or per frequency cap
# (issue 14): limit, minus the window in seconds. The flood limit and the pending copy's ttl
# are settings, written into the script's text (``click_lua``) rather than sent with every
# call: each argument costs the client its packing and Redis an object and a Lua string. Frequency caps come
# first, so a click over one takes no click cap's room; no counter moves unless the click goes
# to the offer. Answers "reason uniq flood" (one string parses cheapest), which it also
# appends to the click's line. The batch's lines become one stream entry (the batch wrapper's
# stream_add); the pending copy that click_lookup reads is a string key holding the click's
# line with its verdict.
#
# A frequency counter holds the times (unix seconds, from Redis's clock) of the visitor's
# newest accepted clicks, at most ``limit`` of them: a click passes only while fewer than
# ``limit`` are inside the window, so the limit-th newest decides, and older ones never
# matter again. Up to FREQ_STRING_LIMIT they are one string of 10-digit times, oldest first,
# where a sorted set took ZCOUNT, ZADD, ZREMRANGEBYRANK and EXPIRE (and four times the
# memory). A click reads it with a GET and, when counted, adds its time with an APPEND, which
# keeps the key's TTL: setting a TTL is what makes a write dear in Redis (callgrind, one command
# from Lua on an existing key: SETEX about 10k instructions, APPEND 5.4k). So a string is
# written with a window and a half to live and keeps to "never expires before its oldest time
# is 1.5 windows old": a click appends only while the oldest time is under half a window old
# (the key then outlives the new time's window). Otherwise, and when the oldest must go to
# keep ``limit`` times, the string is written anew with a new TTL: at most once per half
# window for a visitor under the limit. An idle counter is freed 1-1.5 windows after its
# visitor's last counted click. (A string written before this rule, with a TTL of one window
# from its newest time, can end up to half a window early, once.) Larger limits keep the
# sorted set (its cost does not grow with the limit; the string's copying would). Redis runs
# the script alone, so both are exact under any concurrency. A counter of the other kind
# (written before the string existed, or before the cap's limit was changed across the
# threshold) is converted in place on the first click that meets it (redis.pcall's
# WRONGTYPE), with its times: a sorted set becomes a string with a new TTL of 1.5 windows, a
# string a sorted set with the string's TTL.
# Should Redis's clock step back, the string's order is that of the clicks: the limit-th
# newest is then at most younger than the true one, so a cap can refuse early, never exceed.
# Numbers are kept as the strings Redis and ARGV carry where they are only compared or
# written back: each conversion is a C library strtod or printf in Redis.
FREQ_STRING_LIMIT = 64
_CLICK_LUA = """
if #KEYS == 3 then
  local uniq = '1'
  if ARGV[2] ~= '0' then
    if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then uniq = '0' end
  end
  local hits = redis.call('INCR', KEYS[3])
  if hits == 1 then redis.call('EXPIRE', KEYS[3], '3600') end
  local flood = '0'
  if hits > FLOOD_PER_HOUR then flood = '1' end
  stream_add(KEYS[1], ARGV[1] .. '\\t' .. uniq .. ' ' .. flood)
  return ''
end
local reason = ARGV[2]
local uniq = '1'
if ARGV[3] ~= '0' then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[3]) then uniq = '0' end
end
local hits = redis.call('INCR', KEYS[4])
if hits == 1 then redis.call('EXPIRE', KEYS[4], '3600') end
local flood = '0'
if hits > FLOOD_PER_HOUR then flood = '1' end
if reason == '' and #KEYS > 4 then
  -- Per-key state in the batch's scratch tables: three new tables a call cost Redis 5k
  -- instructions. Every entry a call reads, it has written first.
  local specs, times, ttls = scratch.specs, scratch.times, scratch.ttls
  if specs == nil then
    specs, times, ttls = {}, {}, {}
    scratch.specs, scratch.times, scratch.ttls = specs, times, ttls
  end
  local now
  local j = 4
  for i = 5, #KEYS do
    local a = ARGV[j]
    if string.byte(a) == 45 then
      -- A frequency cap: "-<window seconds> <limit>", parsed once a batch (kept in the
      -- wrapper's number memo under its own text, which no number has), with the batch's
      -- time bounds as 10-digit text: times compare as text (digits of one length order as
      -- numbers do), where a tonumber is a C library strtod, 2k instructions in Redis.
      local spec = nums[a]
      if spec == nil then
        local w, l = string.match(a, '^%-(%d+) (%d+)$')
        local _, seconds = clock()
        local window = tonumber(w)
        local half = math.floor(window / 2)
        -- limit, window, a written string's TTL, the window's start, the appending bound
        spec = {tonumber(l), w, tostring(window + half), tostring(seconds - window), tostring(seconds - half)}
        nums[a] = spec
      end
      specs[i] = spec
      j = j + 1
      now = clock()
      local limit, key = spec[1], KEYS[i]
      if limit <= FREQ_STRING_LIMIT then
        local v = redis.pcall('GET', key)
        if type(v) == 'table' then
          local scores, parts = redis.call('ZRANGE', key, -limit, -1, 'WITHSCORES'), {}
          for k = 2, #scores, 2 do
            if #scores[k] == 10 then parts[#parts + 1] = scores[k] end
          end
          v = table.concat(parts)
          redis.call('DEL', key)
          if v ~= '' then redis.call('SETEX', key, spec[3], v) end
        end
        v = v or ''
        times[i] = v
        local at = #v - limit * 10
        if at >= 0 and string.sub(v, at + 1, at + 10) > spec[4] then
          reason = 'frequency_cap' break
        end
      else
        local count = redis.pcall('ZCOUNT', key, '(' .. spec[4], '+inf')
        if type(count) == 'table' then
          local v = redis.call('GET', key)
          local left = redis.call('PTTL', key)
          redis.call('DEL', key)
          for k = 1, #v - 9, 10 do redis.call('ZADD', key, string.sub(v, k, k + 9), key .. k) end
          if left > 0 then redis.call('PEXPIRE', key, left) end
          count = redis.call('ZCOUNT', key, '(' .. spec[4], '+inf')
        end
        if count >= limit then reason = 'frequency_cap' break end
      end
    else
      local limit = num(a)
      specs[i] = false
      ttls[i] = ARGV[j + 1]
      j = j + 2
      if tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then
        reason = 'cap_reached' break
      end
    end
  end
  if reason == '' then
    for i = 5, #KEYS do
      local spec = specs[i]
      if spec then
        local limit = spec[1]
        if limit <= FREQ_STRING_LIMIT then
          local v = times[i]
          local n = #v / 10
          if n > 0 and n < limit and string.sub(v, 1, 10) >= spec[5] then
            redis.call('APPEND', KEYS[i], now)
          else
            if n >= limit then v = string.sub(v, (n - limit + 1) * 10 + 1) end
            redis.call('SETEX', KEYS[i], spec[3], v .. now)
          end
        else
          redis.call('ZADD', KEYS[i], now, KEYS[2])
          redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -1 - limit)
          redis.call('EXPIRE', KEYS[i], spec[2])
        end
      elseif redis.call('INCR', KEYS[i]) == 1 then
        redis.call('EXPIRE', KEYS[i], ttls[i])
      end
    end
  end
end
local verdict = reason .. ' ' .. uniq .. ' ' .. flood
local line = ARGV[1] .. '\\t' .. verdict
stream_add(KEYS[1], line)
redis.call('SET', KEYS[2], line, 'EX', 'PENDING_TTL')
return verdict
"""


@lru_cache(maxsize=8)
def _click_lua(flood_per_hour: int, pending_ttl: int) -> str:
    return (
        _CLICK_LUA.replace("FREQ_STRING_LIMIT", str(FREQ_STRING_LIMIT))
        .replace("FLOOD_PER_HOUR", str(int(flood_per_hour)))
        .replace("PENDING_TTL", str(int(pending_ttl)))
    )


def click_lua() -> str:
    """The click script for the current settings (the same string object while they last)."""
    conf = hot()
    return _click_lua(conf.flood_per_hour, conf.pending_ttl)


def stream_key() -> str:
    return redis_conn.key("stream")


def pending_key(click_id: str) -> str:
    return redis_conn.key("p", click_id)


def consumers_key() -> str:
    """A hash: consumer name -> the unix time of its last round (consumer.py, /healthz)."""
    return redis_conn.key("consumers")


def beat_key() -> str:
    """The unix time of beat's last heartbeat task (tracking/tasks.py, /healthz)."""
    return redis_conn.key("beat")


def spooled_key() -> str:
    """A hash: host name -> the number of spool files waiting on that host, kept by each host's
    consumer (consumer.py); click lookups answer 503 rather than unknown_click while any host
    has a spool waiting."""
    return redis_conn.key("spooled")


def entry_lines(fields: Any) -> list[bytes]:
    """The lines of one stream entry (its field ``x``: the lines of one batch, joined)."""
    return list(fields[b"x"].split(b"\n"))


def _cap_key(rule: CapRule, offer_id: int, publisher_id: int, now: datetime) -> str:
    if rule.path_id:  # a smart link path's own cap
        return redis_conn.key("capp", rule.path_id, rule.period, period_start(rule.period, now).date())
    who = publisher_id if rule.per_publisher else "*"
    return redis_conn.key("cap", offer_id, who, rule.period, period_start(rule.period, now).date())


def click_caps_used(caps: list[Any], now: datetime) -> list[tuple[Any, str, int]]:
    """(cap, scope key, clicks counted this period) for click caps (affiliates ``Cap`` rows of
    metric clicks), read where the click path counts them: the script's counters in Redis
    (the keys ``_cap_key`` builds), else the database's clicks, as the fallback path counts.
    Scope keys are ``offer`` or ``pub:<id>``, as tracking.conversions.caps names them. An
    each-publisher cap is read for every publisher with clicks this period, except those with
    their own cap of the period (which replaces it, see links._click_caps)."""
    client = redis_conn.client()
    if client is not None:
        try:
            return _caps_used_redis(client, caps, now)
        except redis_conn.WRITE_ERRORS:
            pass  # the database's clicks: what the fallback path counts with
    return _caps_used_db(caps, now)


def _own_publishers(caps: list[Any], cap: Any) -> set[int]:
    return {
        c.publisher_id
        for c in caps
        if c.offer_id == cap.offer_id and c.publisher_id and c.period == cap.period
    }


def _caps_used_redis(client: Any, caps: list[Any], now: datetime) -> list[tuple[Any, str, int]]:
    out: list[tuple[Any, str, int]] = []
    for cap in caps:
        own = cap.publisher_id is not None
        rule = CapRule(cap.period, int(cap.limit), per_publisher=own or cap.scope == "each_publisher")
        if own or not rule.per_publisher:
            used = client.get(_cap_key(rule, cap.offer_id, cap.publisher_id or 0, now))
            out.append((cap, f"pub:{cap.publisher_id}" if own else "offer", int(used or 0)))
            continue
        # One key per publisher: the key with a publisher id in place of the "*" of the offer's.
        pattern = _cap_key(rule, cap.offer_id, 0, now).replace(
            f":{cap.offer_id}:0:", f":{cap.offer_id}:[0-9]*:"
        )
        keys = sorted(client.scan_iter(match=pattern, count=1000))
        skip = _own_publishers(caps, cap)
        for key, used in zip(keys, client.mget(keys) if keys else [], strict=True):
            publisher_id = int(key.decode().rsplit(":", 4)[-3])
            if publisher_id not in skip:
                out.append((cap, f"pub:{publisher_id}", int(used or 0)))
    return out


def _caps_used_db(caps: list[Any], now: datetime) -> list[tuple[Any, str, int]]:
    out: list[tuple[Any, str, int]] = []
    for cap in caps:
        qs = Click.objects.filter(
            offer_id=cap.offer_id, reason="", created_at__gte=period_start(cap.period, now)
        )
        if cap.publisher_id is not None:
            out.append((cap, f"pub:{cap.publisher_id}", qs.filter(publisher_id=cap.publisher_id).count()))
        elif cap.scope != "each_publisher":
            out.append((cap, "offer", qs.count()))
        else:
            skip = _own_publishers(caps, cap)
            rows = qs.exclude(publisher_id__in=skip).values_list("publisher_id").annotate(n=Count("pk"))
            out += [(cap, f"pub:{pub}", n) for pub, n in rows.order_by()]
    return out


@lru_cache(maxsize=64)
def _seconds_arg(hours: int) -> str:
    """``hours`` in seconds, as ARGV text (the script's packer would format the number for
    every click; a link's window is one of a few values)."""
    return str(hours * 3600)


def click_script_call(
    rec: Record,
    *,
    caps: tuple[CapRule, ...],
    window_hours: int,
    ip: str,
    freq: FreqCheck | None = None,
    visitor: str = "",
) -> tuple[list[Any], list[Any]]:
    """KEYS and ARGV of the click script (CLICK_LUA) for this click; ``visitor``: its
    ``visitor_ids.visitor_hash`` when the caller has it already."""
    conf = hot()
    base = conf.key_base  # the keys below are redis_conn.key(kind, ...), spelled out
    offer_id, click_id, created_at = rec["offer_id"], rec["id"], rec["created_at"]
    seconds = created_at / 1000
    keys: list[Any] = [
        base + "stream",
        base + "p:" + click_id,
        f"{base}u:{offer_id}:{visitor or visitor_hash(ip, rec['user_agent'], now=seconds)}",
        f"{base}fl:{offer_id}:{address_hash(ip, now=seconds)}:{created_at // 3_600_000}",
    ]
    args: list[Any] = [lines.click_line(rec), rec["reason"], _seconds_arg(window_hours)]
    if freq is not None:
        for fr in freq.rules:
            keys.append(base + fr.key_infix + freq.visitor)
            args.append(fr.script_arg)
    if caps:
        now = datetime.fromtimestamp(seconds, tz=UTC)
        for rule in caps:
            keys.append(_cap_key(rule, offer_id, rec["publisher_id"], now))
            args += [rule.limit, period_seconds(rule.period) + 86400]
    return keys, args


def impression_script_call(rec: Record, *, window_hours: int, ip: str) -> tuple[list[Any], list[Any]]:
    """KEYS and ARGV of the script's impression call: its own uniqueness and flood keys ("ui:",
    "fi:"), so banner views never make a visitor's clicks look like repeats or a flood."""
    conf = hot()
    base, offer_id, created_at = conf.key_base, rec["offer_id"], rec["created_at"]
    seconds = created_at / 1000
    keys = [
        base + "stream",
        f"{base}ui:{offer_id}:{visitor_hash(ip, rec['user_agent'], now=seconds)}",
        f"{base}fi:{offer_id}:{address_hash(ip, now=seconds)}:{created_at // 3_600_000}",
    ]
    return keys, [lines.impression_line(rec), _seconds_arg(window_hours)]


def verdict_reason(verdict: bytes) -> str:
    """The final reason code in the click script's answer ("reason uniq flood")."""
    return verdict.partition(b" ")[0].decode()


def cap_queries(rec: Record, caps: tuple[CapRule, ...], now: datetime) -> list[tuple[QuerySet[Click], int]]:
    """Per cap: the clicks that took its room this period, and its limit."""
    out = []
    for rule in caps:
        qs = Click.objects.filter(
            offer_id=rec["offer_id"], reason="", created_at__gte=period_start(rule.period, now)
        )
        if rule.path_id:  # a smart link path's cap: its clicks (all on its offer, this publisher)
            qs = qs.filter(publisher_id=rec["publisher_id"], smart_path_id=rule.path_id)
        elif rule.per_publisher:
            qs = qs.filter(publisher_id=rec["publisher_id"])
        out.append((qs, rule.limit))
    return out


def _caps_reached_db(rec: Record, caps: tuple[CapRule, ...], now: datetime) -> bool:
    # Counted up to the limit only (COUNT over a LIMIT subquery): a big cap's month of clicks
    # is never counted whole per click.
    return any(qs[:limit].count() >= limit for qs, limit in cap_queries(rec, caps, now))


_CAP_LOCK_NAMESPACE = 5_210_425  # pg_advisory_xact_lock(namespace, offer id)


def _via_db(rec: Record, caps: tuple[CapRule, ...], window_hours: int) -> str:
    """Count and write in one transaction. For an offer with caps it holds the offer's lock
    (PostgreSQL: an advisory lock; SQLite's IMMEDIATE transactions take the write lock at
    BEGIN), so concurrent clicks take cap room one at a time and a cap is exact on this path
    too. Clicks on offers without caps do not wait for each other."""
    with transaction.atomic():
        if caps:
            db_advisory_lock(keys=(_CAP_LOCK_NAMESPACE, rec["offer_id"]))
        return _count_and_write(rec, caps, window_hours)


def visitor_queries(
    rec: Record, window_hours: int, now: datetime, model: type[Click | Impression] = Click
) -> tuple[QuerySet[Any], QuerySet[Any]]:
    """The visitor's clicks (or impressions) on the offer within the uniqueness window, and
    within the last hour (flood); both served by the (offer, ip, time) index."""
    same_visitor = model.objects.filter(offer_id=rec["offer_id"], ip=rec["ip"])
    window = same_visitor.filter(
        user_agent=rec["user_agent"], created_at__gte=now - timedelta(hours=window_hours)
    )
    return window, same_visitor.filter(created_at__gte=now - timedelta(hours=1))


def _unique_and_flood(model: type[Click | Impression], rec: Record, window_hours: int) -> tuple[bool, bool]:
    """The Redis script's uniqueness and flood verdicts, counted with bounded queries."""
    now = datetime.fromtimestamp(rec["created_at"] / 1000, tz=UTC)
    window, last_hour = visitor_queries(rec, window_hours, now, model)
    unique = window_hours == 0 or not window.exists()
    limit = settings.CLICK_FLOOD_PER_HOUR
    return unique, last_hour[:limit].count() + 1 > limit  # counted up to the limit only


def _count_and_write(rec: Record, caps: tuple[CapRule, ...], window_hours: int) -> str:
    now = datetime.fromtimestamp(rec["created_at"] / 1000, tz=UTC)
    unique, flood = _unique_and_flood(Click, rec, window_hours)
    reason: str = rec["reason"]
    if reason == ClickReason.OK and caps and _caps_reached_db(rec, caps, now):
        reason = ClickReason.CAP_REACHED
    writer.records_write([record_merge(rec, reason, unique, flood)])
    return reason


def redis_write_failed(exc: BaseException, rec: Record) -> None:
    """A record's Redis write failed (any path): say so, and open the breaker when Redis itself
    is the trouble; the caller then writes the record without Redis."""
    redis_conn.write_failed(exc)
    log.warning("Redis failed (%s): %s %s goes straight to the database", exc, rec.get("kind"), rec["id"])


def click_store_without_redis(rec: Record, *, caps: tuple[CapRule, ...], window_hours: int) -> str:
    """The database, or the spool when the database is unreachable too (blocking: the edge
    calls it in its thread pool). Raises spool.SpoolUnavailable when neither took the click:
    the caller must not answer it with its id. Any database error counts as unreachable
    (Django's base Error: a connection closed under us is an InterfaceError, not a
    DatabaseError)."""
    try:
        return _via_db(rec, caps, window_hours)
    except DatabaseError:
        log.error("Redis and database unreachable: click %s spooled", rec["id"])
    spool.append(record_merge(rec, rec["reason"], unique=True, flood=False))
    return str(rec["reason"])


def impression_store_without_redis(rec: Record, *, window_hours: int) -> None:
    try:
        with transaction.atomic():
            unique, flood = _unique_and_flood(Impression, rec, window_hours)
            writer.records_write([impression_merge(rec, unique, flood)])
        return
    except DatabaseError:
        log.error("Redis and database unreachable: impression %s spooled", rec["id"])
    spool.append(impression_merge(rec, unique=True, flood=False))


def unresolved_store(rec: Record) -> None:
    """A click whose link could not be read (database down, nothing cached): only its token is
    known. Spooled; the replay resolves the token. Raises spool.SpoolUnavailable."""
    spool.append(rec)
