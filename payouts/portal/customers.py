"""The customer-value page for advertisers and staff: the cohort table (30/60/90/180 days), a
new vs returning bar per publisher and LTV:CAC per publisher. It reads the job's tables through
payouts.reports.customers.selectors, the same reads and role rules as the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates.models import Advertiser
from affiliates.portal.access import PortalRequest, account_may, advertiser_only, portal_view
from affiliates.portal.charts import share_bars
from affiliates.roles import Act, Role, visible
from affiliates.services import instance_update
from payouts.models.customers import HORIZONS
from payouts.reports.customers.selectors import cohort_table, customer_mix, ltv_cac
from payouts.reports.dimensions import ReportError

_MONTH = {"input_formats": ["%Y-%m"], "widget": forms.DateInput(attrs={"type": "month"}, format="%Y-%m")}
MONEY_LABEL = {"staff": ("revenue", "Revenue"), "advertiser": ("sale_amount", "Sales")}


class CustomerForm(forms.Form):
    start = forms.DateField(label="From month", **_MONTH)  # type: ignore[arg-type]
    end = forms.DateField(label="To month", **_MONTH)  # type: ignore[arg-type]
    horizon = forms.TypedChoiceField(
        label="LTV horizon", choices=[(h, f"{h} days") for h in HORIZONS], coerce=int, initial=90
    )
    advertiser = forms.ModelChoiceField(
        label="Advertiser", queryset=Advertiser.objects.all(), required=False, empty_label="All"
    )


class HorizonForm(forms.Form):
    value_horizon_days = forms.TypedChoiceField(
        label="Effect score counts",
        choices=Advertiser._meta.get_field("value_horizon_days").choices,  # type: ignore[arg-type]
        coerce=int,
    )


def _defaults() -> dict[str, Any]:
    this_month = timezone.now().date().replace(day=1)
    start = (this_month - timedelta(days=330)).replace(day=1)
    return {"start": start.strftime("%Y-%m"), "end": this_month.strftime("%Y-%m"), "horizon": 90}


def _cohort_rows(table: Any, role: str) -> list[dict[str, Any]]:
    """Per cohort month: customers, then per horizon orders, money and (staff) margin."""
    money_key = MONEY_LABEL[role][0]
    rows = []
    for row in table.rows:
        cells = []
        for horizon in HORIZONS:
            cell = row["horizons"].get(str(horizon), {})
            cells.append(
                {
                    "orders": cell.get("orders", 0),
                    "money": cell.get(money_key),
                    "margin": cell.get("margin"),
                    "complete": cell.get("complete", False),
                }
            )
        rows.append({**row, "cells": cells})
    return rows


@portal_view(Role.STAFF, Role.ADVERTISER)
def customers(request: PortalRequest) -> HttpResponse:
    role = "staff" if request.actor.is_staff else "advertiser"
    form = CustomerForm(request.GET or _defaults())
    context: dict[str, Any] = {
        "form": form,
        "role": role,
        "horizons": HORIZONS,
        "money": MONEY_LABEL[role][1],
    }
    if role == "staff":  # an account manager picks among their advertisers
        form.fields["advertiser"].queryset = visible(Advertiser.objects.all(), request.actor)  # type: ignore[attr-defined]
    else:
        del form.fields["advertiser"]
        horizon = request.advertiser.value_horizon_days if request.advertiser else 0
        context["horizon_form"] = HorizonForm(initial={"value_horizon_days": horizon})
    if form.is_valid():
        data = form.cleaned_data
        advertiser = data.get("advertiser")
        adv_id: int | None = advertiser.pk if advertiser else None
        start, end = data["start"], data["end"]
        try:
            table = cohort_table(actor=request.actor, start=start, end=end, advertiser=adv_id)
            mix = customer_mix(actor=request.actor, start=start, end=_month_end(end), advertiser=adv_id)
            ltv = ltv_cac(
                actor=request.actor, start=start, end=end, horizon=data["horizon"], advertiser=adv_id
            )
        except ReportError as exc:
            context["error"] = exc.message
        else:
            context.update(
                table=table,
                cohorts=_cohort_rows(table, role),
                ltv=ltv,
                horizon=data["horizon"],
                mix=mix,
                mix_chart=_mix_chart(mix) if mix else None,
            )
    return render(request, "payouts/portal/customers.html", context)


def _month_end(month: date) -> date:
    return min(
        (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1), timezone.now().date()
    )


def _mix_chart(mix: list[dict[str, Any]]) -> Any:
    rows = [
        (r.get("publisher_name") or f"Publisher #{r['publisher']}", r["new_orders"], r["returning_orders"])
        for r in mix
    ]
    return share_bars(title="New vs returning orders per publisher", rows=rows, names=("new", "returning"))


@require_POST
@advertiser_only
@account_may(Act.MANAGE_OFFERS)
def value_horizon(request: PortalRequest) -> HttpResponseBase:
    """The advertiser's choice of what the effect score counts (Advertiser.value_horizon_days)."""
    form = HorizonForm(request.POST)
    if form.is_valid() and request.advertiser is not None:
        instance_update(
            instance=request.advertiser, value_horizon_days=form.cleaned_data["value_horizon_days"]
        )
        days = form.cleaned_data["value_horizon_days"]
        what = f"{days} days of customer value" if days else "first orders only"
        messages.success(request, f"Effect scores now count {what}.")
    else:
        messages.error(request, "Choose first order, 90 or 180 days.")
    return redirect("payouts_portal:customers")
