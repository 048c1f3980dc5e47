"""The customer-value page for advertisers and staff: the cohort table (30/60/90/180 days), a
new vs returning bar per publisher and LTV:CAC per publisher, with LTV:CAC against the previous
period. It reads the job's tables through payouts.reports.customers.selectors, the same reads
and role rules as the API. Its days come from the one range picker (affiliates.portal.daterange):
cohorts and LTV:CAC are by month, so they cover every month the range touches; new vs returning
covers the range's days."""

from __future__ import annotations

import re
from collections.abc import Mapping
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
from affiliates.portal.daterange import (
    DateRange,
    Delta,
    RangeError,
    date_range_context,
    date_range_make,
    date_range_parse,
)
from affiliates.roles import Act, Role, visible
from affiliates.services import instance_update
from payouts.models.customers import HORIZONS
from payouts.reports.customers.selectors import cohort_table, customer_mix, ltv_cac
from payouts.reports.dimensions import ReportError

MONEY_LABEL = {"staff": ("revenue", "Revenue"), "advertiser": ("sale_amount", "Sales")}


class CustomerForm(forms.Form):
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


_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _default_range() -> DateRange:
    """The eleven months before this one and this month so far: cohorts need months to mature."""
    today = timezone.now().date()
    return date_range_make(first=(today.replace(day=1) - timedelta(days=330)).replace(day=1), last=today)


def _range(get: Mapping[str, str]) -> tuple[DateRange, RangeError | None]:
    """The range asked for, else (nothing asked, or a bad range with its error) the default.
    Links from before the picker said ``start=2026-01``: such a month means its first day
    (``start``) or its last (``end``)."""
    params = dict(get.items())
    if not any(params.get(k) for k in ("range", "period", "start", "end")):
        return _default_range(), None
    if _MONTH.match(params.get("start", "")):
        params["start"] += "-01"
    if _MONTH.match(params.get("end", "")):
        params["end"] = _month_end(date.fromisoformat(params["end"] + "-01")).isoformat()
    try:
        return date_range_parse(params=params), None
    except RangeError as exc:
        return _default_range(), exc


def _ltv_compared(now: list[dict[str, Any]], before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each LTV:CAC row with the previous period's customers and LTV:CAC (same publisher and
    currency), None where it had none."""
    earlier = {(r["publisher"], r["currency"]): r for r in before}
    out = []
    for row in now:
        then = earlier.get((row["publisher"], row["currency"]), {})
        ratio_before = then.get("ltv_cac")
        out.append(
            {
                **row,
                "customers_before": then.get("customers"),
                "ltv_cac_before": ratio_before,
                "delta": Delta(row["ltv_cac"], ratio_before),
            }
        )
    return out


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
    chosen, range_error = _range(request.GET)
    picker = date_range_context(request.GET, chosen, range_error)
    form = CustomerForm({"horizon": 90, **request.GET.dict()})
    context: dict[str, Any] = {
        **picker,
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
        actor, adv_id = request.actor, (advertiser.pk if advertiser else None)
        before = chosen.previous()
        try:
            table = cohort_table(start=chosen.first, end=chosen.last, actor=actor, advertiser=adv_id)
            mix = customer_mix(start=chosen.first, end=chosen.last, actor=actor, advertiser=adv_id)
            ltv = ltv_cac(
                start=chosen.first, end=chosen.last, horizon=data["horizon"], actor=actor, advertiser=adv_id
            )
            if picker["compare"]:
                ltv = _ltv_compared(
                    ltv,
                    ltv_cac(
                        start=before.first,
                        end=before.last,
                        horizon=data["horizon"],
                        actor=actor,
                        advertiser=adv_id,
                    ),
                )
        except ReportError as exc:
            context["error"] = exc.message
        else:
            context.update(
                table=table,
                cohorts=_cohort_rows(table, role),
                months=(chosen.first.replace(day=1), chosen.last.replace(day=1)),
                months_before=(before.first.replace(day=1), before.last.replace(day=1)),
                ltv=ltv,
                horizon=data["horizon"],
                mix=mix,
                mix_chart=_mix_chart(mix, chosen) if mix else None,
            )
    return render(request, "payouts/portal/customers.html", context, status=400 if range_error else 200)


def _month_end(month: date) -> date:
    return min(
        (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1), timezone.now().date()
    )


def _mix_chart(mix: list[dict[str, Any]], chosen: DateRange) -> Any:
    rows = [
        (r.get("publisher_name") or f"Publisher #{r['publisher']}", r["new_orders"], r["returning_orders"])
        for r in mix
    ]
    title = f"New vs returning orders per publisher, {chosen.label}"
    return share_bars(title=title, rows=rows, names=("new", "returning"))


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
