"""Money pages: publisher payouts and statements, postback settings, staff payout runs."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Sum
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates.models import Offer
from affiliates.portal.access import PortalRequest, publisher_only, staff_only
from affiliates.roles import scope
from config.api import DomainError
from payouts.ledger import publisher_balances
from payouts.models import Account, Payout, PayoutRun
from payouts.portal import actions, statements


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


class PostbackForm(forms.Form):
    url = forms.CharField(
        label="Postback URL template",
        max_length=2000,
        help_text="http(s) only, public hosts. Macros are replaced and URL-encoded.",
        widget=forms.TextInput(
            attrs={"placeholder": "https://tracker.example.com/pb?cid={click_id}&payout={payout}"}
        ),
    )
    offer = forms.ModelChoiceField(
        label="Offer", required=False, queryset=Offer.objects.none(), empty_label="All offers (global)"
    )
    events = forms.MultipleChoiceField(
        label="Fire on",
        choices=[("created", "Conversion created"), ("approved", "Approved"), ("reversed", "Reversed")],
        initial=["created"],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, publisher_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer: Any = self.fields["offer"]
        offer.queryset = Offer.objects.filter(
            accesses__publisher_id=publisher_id, accesses__status="approved"
        )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if not url.startswith(("http://", "https://")):
            raise forms.ValidationError("Use an http:// or https:// URL.", code="bad_url")
        return url


MACROS = [
    ("{click_id}", "The click id"),
    ("{sub1}…{sub5}", "Your sub ids"),
    ("{source}", "Traffic source"),
    ("{offer_id}", "Offer id"),
    ("{goal}", "Goal code"),
    ("{conversion_id}", "Conversion id"),
    ("{payout}", "Your payout"),
    ("{currency}", "Payout currency"),
    ("{status}", "pending, approved, reversed…"),
    ("{event_time}", "ISO 8601 UTC"),
]


@publisher_only
def pub_postbacks(request: PortalRequest) -> HttpResponse:
    publisher = request.publisher
    assert publisher is not None
    form = PostbackForm(request.POST if request.POST.get("do") == "save" else None, publisher_id=publisher.pk)
    try:
        if request.method == "POST":
            if request.POST.get("do") == "save" and form.is_valid():
                data = form.cleaned_data
                actions.postback_save(
                    publisher=publisher,
                    url=data["url"],
                    offer=data["offer"],
                    goal=None,
                    events=data["events"],
                )
                messages.success(request, "Postback saved.")
                return redirect("payouts_portal:pub-postbacks")
            if request.POST.get("do") == "test":
                result = actions.postback_test_fire(
                    publisher=publisher, postback_id=int(request.POST.get("postback", 0))
                )
                messages.success(request, f"Test fired: {result}")
                return redirect("payouts_portal:pub-postbacks")
            if request.POST.get("do") == "resend":
                actions.postback_resend(publisher=publisher, attempt_id=int(request.POST.get("attempt", 0)))
                messages.success(request, "Queued for re-sending.")
                return redirect("payouts_portal:pub-postbacks")
        postbacks, attempts, unavailable = (
            actions.postback_list(publisher=publisher),
            actions.postback_attempts(publisher=publisher),
            "",
        )
    except actions.ActionUnavailable as exc:
        postbacks, attempts, unavailable = [], [], str(exc)
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("payouts_portal:pub-postbacks")
    return render(
        request,
        "payouts/portal/pub_postbacks.html",
        {
            "form": form,
            "postbacks": postbacks,
            "attempts": attempts,
            "unavailable": unavailable,
            "macros": MACROS,
        },
    )


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
def staff_runs(request: PortalRequest) -> HttpResponse:
    form = RunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        period = form.cleaned_data["period"]
        try:
            actions.payout_run_build(period=period)
        except actions.ActionUnavailable as exc:
            messages.error(request, str(exc))
        else:
            run = PayoutRun.objects.filter(period=period).first()
            if run is not None:
                messages.success(request, f"{run} started.")
                return redirect("payouts_portal:staff-run", run_id=run.pk)
    runs = PayoutRun.objects.annotate(n=Count("payouts")).order_by("-period")
    totals = {
        r["run_id"]: r for r in Payout.objects.values("run_id").annotate(total=Sum("amount")).order_by()
    }
    return render(request, "payouts/portal/staff_runs.html", {"form": form, "runs": runs, "totals": totals})


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


@require_POST
@staff_only
def staff_run_action(request: PortalRequest, run_id: int, action: str) -> HttpResponse:
    run = get_object_or_404(PayoutRun, pk=run_id)
    step = {"approve": actions.payout_run_approve, "pay": actions.payout_run_mark_paid}.get(action)
    if step is None:
        messages.error(request, "Unknown action.")
    else:
        try:
            step(run=run, actor=request.actor, reference=request.POST.get("reference", "").strip())
        except actions.ActionUnavailable as exc:
            messages.error(request, str(exc))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            run.refresh_from_db()
            messages.success(request, f"{run} is {run.status}.")
    return redirect("payouts_portal:staff-run", run_id=run.pk)
