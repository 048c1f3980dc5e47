"""CSV writing shared by the exports, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from affiliates.core.money import money_round

# A cell starting with one of these runs as a formula in Excel/LibreOffice (CSV injection);
# names, memos and payout details come from publishers and advertisers.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | int):
        return str(value)  # numbers may be negative; they are not formulas
    text = str(value)
    if text.startswith(_FORMULA_PREFIXES) and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def amount_text(amount: Decimal | None, currency: str) -> str:
    """An amount as the currency writes it ("120.00", "1500" JPY). Stored amounts are already
    rounded to the minor unit, so this only drops the storage's extra zeros."""
    return "" if amount is None else str(money_round(Decimal(amount), currency))
