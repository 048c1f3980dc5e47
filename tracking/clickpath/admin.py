"""Admin for clicks and impressions: read-only, and cheap on tables of 100M+ rows.

Rows are written only by the hot path, so nothing is editable. The change list orders by the
primary key (a UUIDv7, time-ordered: the newest first without sorting the table), skips the
full COUNT(*) and searches by exact id or sub id only.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from affiliates.core.admin import ReadOnlyAdmin
from tracking.ids import click_id_parse
from tracking.models import Click, Impression

_M = TypeVar("_M", bound=Model)


class _ReadOnly(ReadOnlyAdmin[_M]):
    show_full_result_count = False
    ordering = ("-id",)
    list_per_page = 100
    list_select_related = ("offer", "publisher")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """An exact click id, or an exact sub1 value: both are index-friendly or narrow."""
        term = search_term.strip()
        if not term:
            return queryset, False
        click_id = click_id_parse(term)
        if click_id is not None:
            return queryset.filter(pk=click_id), False
        return queryset.filter(sub1=term), False


@admin.register(Click)
class ClickAdmin(_ReadOnly[Click]):
    list_display = (
        "id", "created_at", "offer", "publisher", "reason", "is_unique", "country", "device",
        "os", "sub1", "flags",
    )  # fmt: skip
    list_filter = ("reason", "is_unique", "device", "os")
    search_fields = ("id", "sub1")
    search_help_text = "An exact click id, or an exact sub1."
    raw_id_fields = ("offer", "publisher", "fallback_offer")

    @admin.display(description="Fraud flags")
    def flags(self, obj: Click) -> str:
        return ", ".join(obj.fraud_flags or [])


@admin.register(Impression)
class ImpressionAdmin(_ReadOnly[Impression]):
    list_display = ("id", "created_at", "offer", "publisher", "country", "device", "os", "sub1")
    list_filter = ("device", "os")
    search_fields = ("id", "sub1")
    raw_id_fields = ("offer", "publisher")
