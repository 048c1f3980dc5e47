"""CSV for reports (?format=csv): the same columns as the JSON, then one totals line per currency."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

# Sub ids and names come from publishers: a leading = + - @ would run as a spreadsheet formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = frozenset(
    {
        "country",
        "device",
        "currency",
        "offer_name",
        "publisher_name",
        "goal_code",
        "sub1",
        "sub2",
        "sub3",
        "sub4",
        "sub5",
    }
)


def _safe(column: str, value: Any) -> str:
    text = "" if value is None else str(value)
    if column in TEXT_COLUMNS and text.startswith(_FORMULA_START):
        return "'" + text
    return text


class ReportCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        columns: list[str] = list(data.get("columns", []))
        writer.writerow(columns)
        for row in data.get("rows", []):
            writer.writerow([_safe(c, row.get(c)) for c in columns])
        for total in data.get("totals", []):
            cells = [_safe(c, total[c]) if c in total else "" for c in columns]
            if columns and columns[0] not in total:
                cells[0] = "Total"
            writer.writerow(cells)
        return out.getvalue().encode(self.charset)
