"""The one CSV writer: every CSV the product writes (portal downloads, API exports, payout files,
statements, invoices, reports) goes through it, so every cell is safe to open in a spreadsheet.

CSV formula injection (OWASP): a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return runs as a formula in Excel, LibreOffice or Google Sheets, and offer names, goal
codes, publisher names, sub ids and memos are written by one tenant and opened by another. Such
a cell is prefixed with a single quote, which the spreadsheet shows as text. Numbers are
numbers, not formulas: a Decimal, an int or a plain decimal string (``-12.50``, a reversal) is
written as is. The csv module quotes cells that hold separators, quotes or line breaks, so a
formula cannot start mid-cell either.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_cell(value: object) -> str:
    """One cell's text, neutralised when a spreadsheet would run it as a formula."""
    if value is None:
        return ""
    if isinstance(value, Decimal | int | float):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Line:
    def write(self, text: str) -> str:
        return text


_line_writer = csv.writer(_Line(), lineterminator="\r\n")


def csv_line(row: Iterable[object]) -> str:
    """One CSV line (CRLF-terminated, as RFC 4180 and spreadsheets expect), for streaming."""
    line: str = _line_writer.writerow([csv_cell(v) for v in row])
    return line


def csv_lines(header: Sequence[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """A header then the rows, line by line (a StreamingHttpResponse's body)."""
    yield csv_line(header)
    for row in rows:
        yield csv_line(row)


def csv_text(header: Sequence[str], rows: Iterable[Iterable[object]], *, newline: str = "\r\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow([csv_cell(v) for v in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Iterable[object]], *, newline: str = "\r\n") -> bytes:
    return csv_text(header, rows, newline=newline).encode("utf-8")
