"""Admin: issued documents and advertiser payments, read-only (they never change once written;
issue and record through the portal or the API, which go through payouts.documents)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from affiliates.core.admin import ReadOnlyAdmin
from payouts.models import AdvertiserPayment, Document, DocumentLine


class DocumentLineInline(admin.TabularInline[DocumentLine, Document]):
    model = DocumentLine
    extra = 0
    can_delete = False
    fields = ("position", "description", "goal", "commissions", "quantity", "currency", "amount")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Document | None = None) -> bool:
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin[Document]):
    list_display = ["number_text", "kind", "advertiser", "publisher", "period", "issue_date", "totals"]
    list_filter = ["kind", "period", "vat_treatment"]
    search_fields = ["advertiser__name", "publisher__name"]
    inlines = [DocumentLineInline]


@admin.register(AdvertiserPayment)
class AdvertiserPaymentAdmin(ReadOnlyAdmin[AdvertiserPayment]):
    list_display = ["id", "advertiser", "received_on", "currency", "amount", "reference", "document"]
    list_filter = ["currency"]
    search_fields = ["advertiser__name", "reference"]
