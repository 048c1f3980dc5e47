"""Admin: commissions (with approve / reject / reverse actions through the services), the
ledger read-only (it is append-only in the database too), FX rates editable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from affiliates.core.admin import ReadOnlyAdmin
from affiliates.core.money import MoneySum
from affiliates.models import FxRate
from affiliates.roles import actor_for, is_network_admin
from payouts import (
    admin_documents,  # noqa: F401  (registers documents and advertiser payments)
    admin_payout_runs,  # noqa: F401  (registers payout runs and payouts)
    services,
)
from payouts.callbacks import admin as callbacks_admin  # noqa: F401  (registers its models)
from payouts.models import Account, Commission, Customer, CustomerValueRun, Entry, Transaction


def _set_status(status: str, label: str) -> Any:
    def run(
        modeladmin: admin.ModelAdmin[Commission], request: HttpRequest, queryset: QuerySet[Commission]
    ) -> None:
        try:
            changed = services.commissions_set_status(
                commission_ids=list(queryset.values_list("id", flat=True)),
                status=status,
                reason=f"{label} in admin",
                actor=actor_for(request.user),
            )
        except services.BulkRefused as exc:
            detail = "; ".join(f"#{e.ref}: {e.message}" for e in exc.errors[:20])
            modeladmin.message_user(request, f"Nothing changed. {detail}", messages.ERROR)
            return
        modeladmin.message_user(request, f"{len(changed)} commission(s) {status}.")

    run.__name__ = f"commissions_{label.lower()}"
    return admin.action(description=f"{label} selected commissions")(run)


@admin.register(Commission)
class CommissionAdmin(ReadOnlyAdmin[Commission]):
    list_display = [
        "id",
        "source_key",
        "kind",
        "status",
        "offer",
        "publisher",
        "day",
        "quantity",
        "currency",
        "revenue",
        "payout",
        "hold_until",
        "held_for_review",
    ]
    list_filter = ["status", "kind", "currency", "held_for_review"]
    search_fields = ["source_key", "conversion__txn_id"]
    date_hierarchy = "day"
    list_select_related = ["offer", "publisher"]
    actions = [
        _set_status("approved", "Approve"),
        _set_status("rejected", "Reject"),
        _set_status("reversed", "Reverse"),
    ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Read-only fields, but staff may run the status actions on the list.
        return is_network_admin(request.user) and obj is None


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin[Account]):
    list_display = ["id", "kind", "advertiser", "publisher", "currency", "balance"]
    list_filter = ["kind", "currency"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return super().get_queryset(request).annotate(_balance=MoneySum("entries__amount"))

    @admin.display(description="balance (debit +)")
    def balance(self, obj: Any) -> Any:
        return obj._balance or 0


class EntryInline(admin.TabularInline[Entry, Transaction]):
    model = Entry
    extra = 0
    can_delete = False
    fields = ["account", "amount", "currency", "created_at"]
    readonly_fields = ["account", "amount", "currency", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin[Transaction]):
    list_display = ["id", "kind", "key", "commission", "payout", "reverses_id", "memo", "created_at"]
    list_filter = ["kind"]
    search_fields = ["key", "memo"]
    inlines = [EntryInline]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_network_admin(request.user)


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin[FxRate]):
    list_display = ["base", "quote", "rate", "valid_from", "created_at"]
    list_filter = ["base", "quote"]


# Customer value: written only by the nightly job (payouts/reports/customers/services.py).
@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin[Customer]):
    list_display = ["id", "advertiser", "cohort_month", "publisher", "source_id", "first_at", "currency"]
    list_filter = ["cohort_month"]
    search_fields = ["=customer_hash"]
    show_full_result_count = False


@admin.register(CustomerValueRun)
class CustomerValueRunAdmin(ReadOnlyAdmin[CustomerValueRun]):
    list_display = ["as_of", "window_start", "customers", "seconds"]
