"""Journeys in the admin: read-only, since the journey job writes them (payouts/journeys)."""

from __future__ import annotations

from django.contrib import admin

from affiliates.core.admin import ReadOnlyAdmin
from tracking.models import Journey, JourneyRun, Touch


class TouchInline(admin.TabularInline[Touch, Journey]):
    model = Touch
    extra = 0
    can_delete = False
    fields = ("position", "kind", "at", "publisher", "role", "paid", "linked_by", "linear", "markov")
    readonly_fields = fields

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Journey)
class JourneyAdmin(ReadOnlyAdmin[Journey]):
    list_display = (
        "conversion_id",
        "offer",
        "publisher",
        "converted_at",
        "touches",
        "publishers",
        "view_through",
    )
    list_filter = ("view_through",)
    raw_id_fields = ("advertiser", "offer", "publisher")
    inlines = (TouchInline,)


@admin.register(JourneyRun)
class JourneyRunAdmin(ReadOnlyAdmin[JourneyRun]):
    list_display = ("as_of", "window_start", "journeys", "assists", "seconds")
