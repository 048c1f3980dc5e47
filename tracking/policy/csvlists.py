"""Negative-list values: each kind's normal form, and CSV uploads checked row by row.

A CSV has a header row with ``kind`` and ``value`` (``mode`` and ``note`` optional). Every row
is checked before anything is written: one bad row refuses the whole file, with the reason for
each bad row, so an upload is never half applied.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass

from affiliates.core.db import db_id
from tracking.models.policy import ListEntry

MAX_ROWS = 20_000
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
)
_ASN_NUMBER = re.compile(r"^(as)?\d+$", re.IGNORECASE)
KINDS = [k.value for k in ListEntry.Kind]
MODES = [m.value for m in ListEntry.Mode]


class BadValue(ValueError):
    pass


def _domain(value: str) -> str:
    text = value.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].split(":", 1)[0].rstrip(".")
    text = text.removeprefix("*.")
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BadValue("Not a domain name.") from exc
    if not _DOMAIN.match(text):
        raise BadValue("Not a domain name (example.com; its subdomains match too).")
    return text


def _ip_range(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError as exc:
        raise BadValue("Not an IPv4 or IPv6 address or CIDR range (203.0.113.0/24, 2001:db8::/32).") from exc


def _asn(value: str) -> str:
    text = " ".join(value.split())
    if _ASN_NUMBER.match(text):
        # The bundled geo-IP database (geoip2fast) names each network's AS organisation but
        # carries no AS numbers, so a number could never match: refused rather than ignored.
        raise BadValue("Enter the AS organisation name (for example GOOGLE), not its number.")
    return text.upper()


def _publisher(value: str, publishers: set[int]) -> str:
    text = value.strip()
    publisher_id = db_id(text)
    if publisher_id is None or publisher_id not in publishers:
        raise BadValue("Not a publisher id.")
    return str(publisher_id)


def value_clean(kind: str, value: str, *, publishers: set[int]) -> str:
    """The value's normal form (what the click path compares), or BadValue."""
    if kind not in KINDS:
        raise BadValue(f"Unknown kind; one of: {', '.join(KINDS)}.")
    if not value.strip():
        raise BadValue("Empty value.")
    if len(value) > 255:
        raise BadValue("At most 255 characters.")
    if kind == ListEntry.Kind.REFERRER_DOMAIN:
        return _domain(value)
    if kind == ListEntry.Kind.IP_RANGE:
        return _ip_range(value)
    if kind == ListEntry.Kind.ASN:
        return _asn(value)
    if kind == ListEntry.Kind.PUBLISHER:
        return _publisher(value, publishers)
    return value.strip()  # sub ids and sources compare exactly, as the click carries them


@dataclass(frozen=True)
class Row:
    mode: str
    kind: str
    value: str
    note: str


def csv_rows(
    text: str, *, default_mode: str, publishers: set[int]
) -> tuple[list[Row], list[dict[str, object]]]:
    """The file's rows in normal form, and the errors: ``{"row": n, "errors": {column: msg}}``
    (n counts the header as row 1, as a spreadsheet does)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "kind" not in header or "value" not in header:
        return [], [
            {"row": 1, "errors": {"header": "The first row names the columns: kind,value[,mode][,note]."}}
        ]
    reader.fieldnames = header
    rows: list[Row] = []
    errors: list[dict[str, object]] = []
    seen: set[tuple[str, str, str]] = set()
    for n, raw in enumerate(reader, start=2):
        if n - 1 > MAX_ROWS:
            errors.append({"row": n, "errors": {"file": f"At most {MAX_ROWS} rows a file."}})
            break
        problems: dict[str, str] = {}
        kind = (raw.get("kind") or "").strip().lower()
        mode = (raw.get("mode") or "").strip().lower() or default_mode
        note = (raw.get("note") or "").strip()
        if mode not in MODES:
            problems["mode"] = "block or allow."
        if len(note) > 255:
            problems["note"] = "At most 255 characters."
        try:
            value = value_clean(kind, raw.get("value") or "", publishers=publishers)
        except BadValue as exc:
            problems["kind" if kind not in KINDS else "value"] = str(exc)
            value = ""
        if problems:
            errors.append({"row": n, "errors": problems})
        elif (mode, kind, value) not in seen:  # a repeated row is one entry
            seen.add((mode, kind, value))
            rows.append(Row(mode, kind, value, note))
    return rows, errors
