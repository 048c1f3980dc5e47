"""Admin for payout runs and payouts: read-only rows, changes only through the services.

Runs are created by the monthly task, ``run_payouts`` or the API; here staff follow a build's
progress, approve a run, mark it paid and fail single payouts.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin, messages
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from affiliates.core.admin import ReadOnlyAdmin
from affiliates.core.errors import DomainError
from affiliates.roles import is_network_admin
from payouts.models import Payout, PayoutRun
from payouts.payout_runs import payout_fail, payout_run_approve, payout_run_mark_paid

_M = TypeVar("_M", bound=Model)


@admin.register(PayoutRun)
class PayoutRunAdmin(ReadOnlyAdmin[PayoutRun]):
    list_display = ["__str__", "status", "progress", "payout_count", "created_at", "approved_at", "paid_at"]
    list_filter = ["status"]
    readonly_fields = ["period", "status", "progress", "payouts_link", "task_id", "created_at", "approved_at",
                       "approved_by", "paid_at"]  # fmt: skip
    fields = tuple(readonly_fields)
    actions = ["approve_runs", "mark_runs_paid"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PayoutRun]:
        return super().get_queryset(request).annotate(payout_total=Count("payouts"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_network_admin(request.user)

    @admin.display(description="Payouts")
    def payout_count(self, run: PayoutRun) -> int:
        return getattr(run, "payout_total", 0)

    @admin.display(description="Progress")
    def progress(self, run: PayoutRun) -> str:
        total = run.progress_total or 0
        done = total if run.status != PayoutRun.Status.BUILDING else run.progress_done
        percent = 100 * done // total if total else (0 if run.status == PayoutRun.Status.BUILDING else 100)
        return format_html(
            '<progress value="{}" max="100" style="width:10em"></progress> {}% ({}/{} publishers)',
            percent,
            percent,
            done,
            total,
        )

    @admin.display(description="Payouts")
    def payouts_link(self, run: PayoutRun) -> str:
        url = reverse("admin:payouts_payout_changelist") + f"?run__id__exact={run.pk}"
        return format_html('<a href="{}">{} payouts</a>', url, run.payouts.count())

    @admin.action(description="Approve selected runs")
    def approve_runs(self, request: HttpRequest, queryset: QuerySet[PayoutRun]) -> None:
        for run in queryset:
            self._apply(request, run, lambda r: payout_run_approve(run=r, user=request.user))

    @admin.action(description="Mark approved payouts of selected runs paid (reference BATCH-YYYYMM)")
    def mark_runs_paid(self, request: HttpRequest, queryset: QuerySet[PayoutRun]) -> None:
        for run in queryset:
            self._apply(
                request, run, lambda r: payout_run_mark_paid(run=r, reference=f"BATCH-{r.period:%Y%m}")
            )

    def _apply(self, request: HttpRequest, run: PayoutRun, step: Any) -> None:
        try:
            run = step(run)
        except DomainError as exc:
            self.message_user(request, f"{run}: {exc.message}", level=messages.ERROR)
        else:
            self.message_user(request, f"{run}: {run.status}.", level=messages.SUCCESS)


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin[Payout]):
    list_display = ["id", "run", "publisher", "currency", "amount", "status", "method", "payment_reference",
                    "paid_at"]  # fmt: skip
    list_filter = ["status", "currency", "method", "run"]
    search_fields = ["publisher__name", "payment_reference"]
    list_select_related = ["run", "publisher"]
    actions = ["fail_payouts"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_network_admin(request.user)

    @admin.action(description="Fail selected payouts (balance returns to the next run)")
    def fail_payouts(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        for payout in queryset:
            payout_fail(payout=payout, reason=f"Failed in admin by {request.user}")
        self.message_user(request, f"{queryset.count()} payouts failed.", level=messages.SUCCESS)
