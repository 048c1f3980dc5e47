"""CSV writing shared by the exports (through affiliates.core.spreadsheet, safe to open in a
spreadsheet) and the amounts they print."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from affiliates.core.money import money_round
from affiliates.core.spreadsheet import csv_bytes as spreadsheet_csv_bytes


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The exports' CSV: affiliates.core.spreadsheet's one writer, LF-terminated as they always were."""
    return spreadsheet_csv_bytes(header, rows, newline="\n")


def amount_text(amount: Decimal | None, currency: str) -> str:
    """An amount as the currency writes it ("120.00", "1500" JPY). Stored amounts are already
    rounded to the minor unit, so this only drops the storage's extra zeros."""
    return "" if amount is None else str(money_round(Decimal(amount), currency))
