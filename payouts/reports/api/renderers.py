"""CSV for reports (?format=csv): the same columns as the JSON, then one totals line per currency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

from affiliates.core.spreadsheet import csv_text


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
        columns: list[str] = list(data.get("columns", []))
        rows: list[list[Any]] = [[row.get(c) for c in columns] for row in data.get("rows", [])]
        for total in data.get("totals", []):
            cells = [total.get(c, "") for c in columns]
            if columns and columns[0] not in total:
                cells[0] = "Total"
            rows.append(cells)
        # Names and sub ids come from tenants and traffic: the one writer neutralises formulas.
        return csv_text(columns, rows).encode(self.charset)
