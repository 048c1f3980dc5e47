"""The stream's wire format: a click or impression as a line that is nearly its COPY row.

Why not JSON: the consumer turns every stream line into a row for PostgreSQL's COPY. Decoding
JSON, building a tuple and letting psycopg adapt each value cost more of the consumer's time
than the database's insert. So the hot path writes each record in COPY's text format once
(tab-separated, ``\\`` escapes, ``\\N`` for NULL), and the consumer only swaps the last fields
for the columns that depend on Redis's verdict (``copy_rows``).

A click line is ``c<TAB>`` + the CLICK_BODY columns + ``<TAB>flags<TAB>fallback`` (the fraud
flags the hot path found, as JSON, and the fallback offer a refusal goes to, or ``\\N``); the
click script appends ``<TAB>reason uniq flood``. An impression line is ``i<TAB>`` + the
TRAFFIC columns + ``<TAB>flags``; the script appends ``<TAB>uniq flood`` (impressions get the
same bot, datacenter, uniqueness and flood verdicts as clicks, so CPM pays valid ones only).
``line_record`` reads a line back into a record (click lookups, SQLite, the dead-letter path).

This is the bottom of the click path's modules: ``store``, ``spool``, ``writer`` and the
consumer import the record shape from here, and it imports none of them.
"""

from __future__ import annotations

import calendar
import json
import time
from functools import lru_cache
from typing import Any

from tracking.models.clicks import ClickFlag

# A click or impression as a flat dict named after the Click columns ("kind": "c" or "i").
Record = dict[str, Any]

TRAFFIC = (
    "id", "created_at", "offer_id", "publisher_id", "ip", "user_agent", "country", "device", "os",
    "sub1", "sub2", "sub3", "sub4", "sub5", "source",
)  # fmt: skip
# A smart link's click adds its path and the paths it skipped (NULL and "" for other clicks);
# a holdout test's click its test and arm (NULL and "" for other clicks); an A/B test's click
# its variant (NULL for other clicks).
CLICK_BODY = (
    *TRAFFIC, "referer", "smart_path_id", "path_skips", "holdout_test_id", "holdout_arm", "ab_variant_id",
)  # fmt: skip
# The COPY column lists: a click row is its body plus the verdict's columns.
CLICK_COPY_COLUMNS = (*CLICK_BODY, "is_unique", "reason", "fraud_flags", "fallback_offer_id")
IMPRESSION_COPY_COLUMNS = (*TRAFFIC, "is_unique", "fraud_flags")
# An impression line from before impressions carried verdicts: "i" plus the TRAFFIC columns.
_OLD_IMPRESSION_TABS = len(TRAFFIC)
_TEXT = ("ip", "user_agent", "country", "device", "os", "sub1", "sub2", "sub3", "sub4", "sub5", "source")
_CLICK_TEXT = (*_TEXT, "referer")
NULL = "\\N"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(value[i + 1], value[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _texts(texts: list[str]) -> str:
    joined = "\t".join(texts)
    # Almost no value needs an escape: check them all at once, escape one by one only then.
    if "\\" in joined or "\n" in joined or "\r" in joined or joined.count("\t") != len(texts) - 1:
        return "\t".join([_escape(t) for t in texts])
    return joined


_second: list[Any] = [-1, ""]


def _timestamp(ms: int) -> str:
    """COPY's text for a UTC timestamp with milliseconds; the seconds part is reused while
    the clock stays in the same second (most clicks of a burst)."""
    seconds, millis = divmod(ms, 1000)
    if _second[0] != seconds:
        _second[0], _second[1] = seconds, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))
    return f"{_second[1]}.{millis:03d}+00"


def _text_columns(rec: Record, names: tuple[str, ...] = _TEXT) -> str:
    """The record's text columns (``names``), tab-separated and escaped."""
    get = rec.get
    texts = [get(name) or "" for name in names]
    try:
        return _texts(texts)
    except TypeError:  # a value that is not text (a record from elsewhere than the hot path)
        return _texts([str(t) for t in texts])


def _head(rec: Record, names: tuple[str, ...] = _TEXT) -> str:
    """id, time, offer, publisher and the text columns ``names``, tab-separated."""
    return f"{rec['id']}\t{_timestamp(rec['created_at'])}\t{rec['offer_id']}\t{rec['publisher_id']}\t" + (
        _text_columns(rec, names)
    )


# The columns of a click with no smart link path, holdout test or A/B variant (nearly every
# click): smart_path_id, path_skips, holdout_test_id, holdout_arm, ab_variant_id.
_NO_EXTRAS = f"\t{NULL}\t\t{NULL}\t\t{NULL}"


@lru_cache(maxsize=64)
def _flags_text(flags: tuple[str, ...]) -> str:
    return json.dumps(list(flags))


# The text after a timestamp's second: its milliseconds and the zone, per millisecond.
_MILLIS = tuple(f".{ms:03d}+00" for ms in range(1000))


def click_line(rec: Record) -> str:
    """The line of a click record, before the click script appends its verdict. Written out
    in one function (the hot path builds one per click: each helper call was a visible part
    of its cost); the same columns as ``_head`` and ``_text_columns`` give."""
    get = rec.get
    try:  # subscripts, not get(): a hot-path record has every column
        texts = [
            rec["ip"] or "", rec["user_agent"] or "", rec["country"] or "", rec["device"] or "",
            rec["os"] or "", rec["sub1"] or "", rec["sub2"] or "", rec["sub3"] or "", rec["sub4"] or "",
            rec["sub5"] or "", rec["source"] or "", rec["referer"] or "",
        ]  # fmt: skip
    except KeyError:
        texts = [get(name) or "" for name in _CLICK_TEXT]
    try:
        joined = "\t".join(texts)
    except TypeError:  # a value that is not text (a record from elsewhere than the hot path)
        texts = [str(t) for t in texts]
        joined = "\t".join(texts)
    # Almost no value needs an escape: check them all at once, escape one by one only then.
    if "\\" in joined or "\n" in joined or "\r" in joined or joined.count("\t") != 11:
        joined = "\t".join([_escape(t) for t in texts])
    seconds, millis = divmod(rec["created_at"], 1000)
    if _second[0] != seconds:
        _second[0], _second[1] = seconds, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))
    path, test, variant = get("smart_path_id"), get("holdout_test_id"), get("ab_variant_id")
    skips, arm = get("path_skips"), get("holdout_arm")
    if path is None and test is None and variant is None and not skips and not arm:
        extras = _NO_EXTRAS
    else:
        extras = (
            f"\t{NULL if path is None else path}\t{_texts([skips]) if skips else ''}\t"
            f"{NULL if test is None else test}\t{arm or ''}\t"
            f"{NULL if variant is None else variant}"
        )
    flags, fallback = get("fraud_flags"), get("fallback_if_refused")
    return (
        f"c\t{rec['id']}\t{_second[1]}{_MILLIS[millis]}\t{rec['offer_id']}\t{rec['publisher_id']}\t"
        f"{joined}{extras}\t{_flags_text(tuple(flags)) if flags else '[]'}\t"
        f"{NULL if fallback is None else fallback}"
    )


def impression_line(rec: Record) -> str:
    """The line of an impression record, before the script appends its verdict."""
    return f"i\t{_head(rec)}\t{json.dumps(rec.get('fraud_flags') or [])}"


def _merged_flags(flags: bytes, unique: bytes, flood: bytes) -> list[str]:
    merged: list[str] = json.loads(flags)
    if unique != b"1":
        merged.append(ClickFlag.DUPLICATE.value)
    if flood == b"1":
        merged.append(ClickFlag.FLOOD.value)
    return merged


@lru_cache(maxsize=256)
def _impression_verdict_columns(flags: bytes, verdict: bytes) -> bytes:
    """is_unique and fraud_flags of an impression's verdict ("uniq flood")."""
    unique, flood = verdict.split(b" ")
    return (
        (b"t" if unique == b"1" else b"f") + b"\t" + json.dumps(_merged_flags(flags, unique, flood)).encode()
    )


def _impression_row(line: bytes) -> bytes:
    if line.count(b"\t") == _OLD_IMPRESSION_TABS:  # written before impressions had verdicts
        return line[2:] + b"\tt\t[]\n"
    body, flags, verdict = line[2:].rsplit(b"\t", 2)
    return body + b"\t" + _impression_verdict_columns(flags, verdict) + b"\n"


# A handful of distinct tails (flags, fallback and verdict) carry nearly all traffic, so each
# is built once.
@lru_cache(maxsize=1024)
def _verdict_columns(tail: bytes) -> bytes:
    """A click line's tail (``<TAB>flags<TAB>fallback<TAB>reason uniq flood``) as the COPY
    row's last columns (is_unique, reason, fraud_flags, fallback_offer_id), with the row's
    leading tab and newline."""
    _, flags, fallback, verdict = tail.split(b"\t")
    reason, unique, flood = verdict.split(b" ")
    merged = _merged_flags(flags, unique, flood)
    refused_to = fallback if reason else NULL.encode()
    columns = [b"t" if unique == b"1" else b"f", reason, json.dumps(merged).encode(), refused_to]
    return b"\t" + b"\t".join(columns) + b"\n"


_C = ord("c")


def copy_rows(stream_lines: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """COPY rows of the clicks and of the impressions among these lines."""
    clicks: list[bytes] = []
    impressions: list[bytes] = []
    add = clicks.append
    for line in stream_lines:
        if line[0] == _C:
            # The verdict's columns are the line's last three: found from the right, so the
            # body is sliced once and never split.
            at = line.rfind(b"\t", 0, line.rfind(b"\t", 0, line.rfind(b"\t")))
            add(line[2:at] + _verdict_columns(line[at:]))
        else:
            impressions.append(_impression_row(line))
    return clicks, impressions


def click_keys(stream_lines: list[bytes], prefix: bytes) -> list[bytes]:
    """``prefix`` + the id of each click among these lines (the consumer's pending keys)."""
    return [prefix + line[2:34] for line in stream_lines if line[0] == _C]


def _flags_merge(data: Record, unique: bool, flood: bool) -> list[str]:
    flags = list(data.get("fraud_flags") or [])
    if not unique:
        flags.append(ClickFlag.DUPLICATE.value)
    if flood:
        flags.append(ClickFlag.FLOOD.value)
    return flags


def impression_merge(data: Record, unique: bool, flood: bool) -> Record:
    """Fold the uniqueness and flood verdicts into an impression record."""
    return {**data, "is_unique": unique, "fraud_flags": _flags_merge(data, unique, flood)}


def record_merge(data: Record, reason: str, unique: bool, flood: bool) -> Record:
    """Fold the verdicts Redis computed into the record (the consumer and click lookups do this)."""
    flags = _flags_merge(data, unique, flood)
    fallback = data.get("fallback_if_refused") if reason else None
    return {
        **data,
        "reason": reason,
        "is_unique": unique,
        "fraud_flags": flags,
        "fallback_offer_id": fallback,
    }


def _record_from_fields(names: tuple[str, ...], fields: list[str]) -> Record:
    rec: Record = dict(zip(names, map(_unescape, fields), strict=True))
    stamp = rec["created_at"]  # YYYY-MM-DD HH:MM:SS.mmm+00, as _timestamp wrote it
    seconds = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S"))
    rec["created_at"] = seconds * 1000 + int(stamp[20:23])
    rec["offer_id"], rec["publisher_id"] = int(rec["offer_id"]), int(rec["publisher_id"])
    return rec


def line_record(line: bytes) -> Record:
    """The record a line carries (for a click with a verdict: merged as the consumer would)."""
    kind, _, rest = line.decode().partition("\t")
    if kind == "i":
        fields = rest.split("\t")
        rec = {"kind": "i", **_record_from_fields(TRAFFIC, fields[: len(TRAFFIC)])}
        if len(fields) == len(TRAFFIC):  # written before impressions had verdicts
            return impression_merge(rec, unique=True, flood=False)
        rec["fraud_flags"] = json.loads(fields[len(TRAFFIC)])
        if len(fields) == len(TRAFFIC) + 1:  # no verdict (the database path merges its own)
            return rec
        unique, flood = fields[len(TRAFFIC) + 1].split(" ")
        return impression_merge(rec, unique=unique == "1", flood=flood == "1")
    fields = rest.split("\t")
    body, flags, fallback = fields[: len(CLICK_BODY)], fields[len(CLICK_BODY)], fields[len(CLICK_BODY) + 1]
    # Before unescaping: NULL is "\\N".
    path, test, variant = body[len(CLICK_BODY) - 5], body[len(CLICK_BODY) - 3], body[len(CLICK_BODY) - 1]
    rec = {"kind": "c", **_record_from_fields(CLICK_BODY, body)}
    rec["smart_path_id"] = None if path == NULL else int(path)
    rec["holdout_test_id"] = None if test == NULL else int(test)
    rec["ab_variant_id"] = None if variant == NULL else int(variant)
    rec["fraud_flags"] = json.loads(flags)
    rec["fallback_if_refused"] = None if fallback == NULL else int(fallback)
    verdict_field = fields[len(CLICK_BODY) + 2 :]
    if not verdict_field:
        return rec
    reason, unique, flood = verdict_field[0].split(" ")
    return record_merge(rec, reason, unique=unique == "1", flood=flood == "1")
