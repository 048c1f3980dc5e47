"""Money pages: publisher payouts and statements, postback settings, staff payout runs."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Sum
from django.http import Http404, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates.core.errors import DomainError
from affiliates.portal.access import PortalRequest, account_may, publisher_only, staff_act, staff_only
from affiliates.portal.confirm import confirm_page, confirmed
from affiliates.portal.tables import table_build, table_csv
from affiliates.roles import Act, scope
from payouts.ledger import publisher_balances
from payouts.models import Account, Payout, PayoutRun
from payouts.payout_runs import payout_run_approve, payout_run_mark_paid, payout_run_request
from payouts.portal import statements
from payouts.portal.callbacks import pub_callbacks
from payouts.portal.console_lists import RUNS, runs_for

__all__ = ["pub_callbacks", "pub_payouts", "pub_statement", "staff_run", "staff_runs"]


def _payouts(request: PortalRequest) -> Any:
    return scope(
        Payout.objects.select_related("run", "publisher"),
        request.actor,
        advertiser_path=None,
        publisher_path="publisher_id",
    )


@publisher_only
def pub_payouts(request: PortalRequest) -> HttpResponse:
    pub_id = request.actor.publisher_id or 0
    return render(
        request,
        "payouts/portal/pub_payouts.html",
        {
            "payable": publisher_balances(publisher_id=pub_id),
            "pending": publisher_balances(publisher_id=pub_id, kind=Account.Kind.PUBLISHER_PENDING),
            "payouts": _payouts(request).order_by("-period", "currency"),
            "paid_total": _payouts(request)
            .filter(status=Payout.Status.PAID)
            .values("currency")
            .annotate(total=Sum("amount"))
            .order_by("currency"),
        },
    )


@publisher_only
def pub_statement(request: PortalRequest, payout_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "pdf"):
        raise Http404("Statements come as csv or pdf.")
    payout = get_object_or_404(_payouts(request), pk=payout_id)
    name = f"statement-{payout.period:%Y-%m}-{payout.currency}"
    if fmt == "pdf":
        response = HttpResponse(statements.statement_pdf(payout), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    else:
        response = HttpResponse(statements.statement_csv(payout), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


class RunForm(forms.Form):
    period = forms.DateField(
        label="Month",
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )

    def clean_period(self) -> date:
        period: date = self.cleaned_data["period"].replace(day=1)
        if period >= timezone.now().date().replace(day=1):
            raise forms.ValidationError("Only a month that has ended can be paid.", code="period_open")
        return period


@staff_only
@staff_act(Act.MANAGE_PAYOUTS)
def staff_runs(request: PortalRequest) -> HttpResponseBase:
    if request.GET.get("format") == "csv":
        return table_csv(runs_for(request.actor), RUNS, request.GET, actor=request.actor, label="Payout runs")
    form = RunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The build runs in a worker; the run page shows its progress. Asking twice for a
        # period finds the same run (contract section 8: once per period).
        try:
            run, created = payout_run_request(period=form.cleaned_data["period"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{run} {'started' if created else 'already exists'}.")
            return redirect("payouts_portal:staff-run", run_id=run.pk)
    table = table_build(runs_for(request.actor), RUNS, request.GET, actor=request.actor)
    # Per currency: a run pays each publisher in their own currency, and amounts in different
    # currencies never add up to one number.
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in Payout.objects.values("run_id", "currency").annotate(total=Sum("amount")).order_by():
        totals[row["run_id"]][row["currency"]] = row["total"]
    context = {
        "form": form,
        "table": table,
        "totals": totals,
        "label": "Payout runs",
        "rows": "payouts/portal/console/rows_runs.html",
        "empty": "No payout runs yet.",
    }
    return render(request, "payouts/portal/staff_runs.html", context)


@staff_only
def staff_run(request: PortalRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(PayoutRun, pk=run_id)
    payouts = run.payouts.select_related("publisher").order_by("publisher__name", "currency")
    by_currency = payouts.values("currency").annotate(total=Sum("amount"), n=Count("pk")).order_by("currency")
    return render(
        request, "payouts/portal/staff_run.html", {"run": run, "payouts": payouts, "by_currency": by_currency}
    )


@staff_only
def staff_run_progress(request: PortalRequest, run_id: int) -> JsonResponse:
    run = get_object_or_404(PayoutRun, pk=run_id)
    return JsonResponse(
        {
            "status": run.status,
            "done": run.progress_done,
            "total": run.progress_total,
            "payouts": run.payouts.count(),
        }
    )


def _run_effects(run: PayoutRun, action: str, reference: str) -> list[str]:
    """What approving or paying ``run`` does, in its own numbers."""
    status = Payout.Status.DRAFT if action == "approve" else Payout.Status.APPROVED
    rows = run.payouts.filter(status=status).values("currency").annotate(total=Sum("amount"), n=Count("pk"))
    totals = " · ".join(f"{r['total']:,.2f} {r['currency']}" for r in rows.order_by("currency")) or "nothing"
    count = sum(r["n"] for r in rows)
    publishers = run.payouts.filter(status=status).values("publisher_id").distinct().count()
    them = f"{count} {'draft' if action == 'approve' else 'approved'} payout{'s' if count != 1 else ''}"
    them += f" to {publishers} publisher{'s' if publishers != 1 else ''} ({totals})"
    one = count == 1
    if action == "approve":
        return [
            f"{them} {'becomes' if one else 'become'} approved, ready to be paid.",
            "The publishers are told their payout is approved (notification and webhook).",
            "Held payouts stay held; the run cannot go back to draft.",
        ]
    return [
        f"{them} {'is' if one else 'are'} marked paid with reference “{reference}”.",
        "Each is posted to the ledger as paid out, and its publisher is told.",
        "A payment that bounces later is recorded as failed on its payout; this step is not undone.",
    ]


@require_POST
@staff_only
@account_may(Act.MANAGE_PAYOUTS)
def staff_run_action(request: PortalRequest, run_id: int, action: str) -> HttpResponse:
    run = get_object_or_404(PayoutRun, pk=run_id)
    if action not in ("approve", "pay"):
        raise Http404("No such payout run action.")
    reference = request.POST.get("reference", "").strip()
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"{'Approve' if action == 'approve' else 'Mark paid'}: {run}",
            effects=_run_effects(run, action, reference),
            action=request.path,
            button="Approve run" if action == "approve" else "Mark paid",
            cancel=reverse("payouts_portal:staff-run", args=[run.pk]),
            fields={"reference": reference} if action == "pay" else None,
        )
    try:
        if action == "approve":
            run = payout_run_approve(run=run, user=request.user)
        else:
            # One payment (batch) reference for every approved payout of the run.
            run = payout_run_mark_paid(run=run, reference=reference)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{run} is {run.status}.")
    return redirect("payouts_portal:staff-run", run_id=run.pk)
