"""Holdout test pages: the list, starting a test, and each test's result explained in plain
words. Writes call the API's services (tracking.holdouts.services, payouts.incrementality)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates.core.errors import DomainError
from affiliates.portal.access import PortalRequest, account_may, portal_view
from affiliates.roles import Act, Role
from payouts.incrementality.portal.forms import HoldoutForm
from payouts.incrementality.report import holdout_report_current
from payouts.incrementality.services import holdout_test_finish
from tracking.holdouts import services
from tracking.models.holdouts import HoldoutTest

holdouts_page = portal_view(Role.ADVERTISER, Role.STAFF)


@holdouts_page
def holdouts(request: PortalRequest) -> HttpResponse:
    listed = services.holdout_tests_visible(actor=request.actor)[:200]
    return render(request, "payouts/portal/holdouts.html", {"tests": listed})


@holdouts_page
@account_may(Act.MANAGE_OFFERS)
def holdout_new(request: PortalRequest) -> HttpResponseBase:
    form = HoldoutForm(request.POST or None, actor=request.actor)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        offer = data.pop("offer")
        data["publishers"] = list(data["publishers"])
        try:
            test = services.holdout_test_create(
                actor=request.actor,
                offer=offer,
                spec=services.HoldoutSpec(starts_at=timezone.now(), **data),
                user=request.user,
            )
        except DomainError as exc:
            form.add_error(None, f"{exc.message} ({exc.code})")
        else:
            messages.success(request, f"Holdout test “{test.name}” started.")
            return redirect("incrementality_portal:holdout", test.pk)
    return render(request, "payouts/portal/holdout_form.html", {"form": form})


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:+.2f} %" if signed else f"{value * 100:.2f} %"


def _interval(ci: list[float] | None, signed: bool = False) -> str:
    return "n/a" if not ci else f"{_pct(ci[0], signed)} to {_pct(ci[1], signed)}"


def _shown(report: dict[str, Any]) -> dict[str, str]:
    """The report's numbers as the page prints them."""
    lift, power = report["lift"], report["power"]
    incremental = report["incremental_conversions"]
    return {
        "cvr_exposed": _pct(lift["cvr_exposed"]),
        "cvr_exposed_ci": _interval(lift["cvr_exposed_ci"]),
        "cvr_control": _pct(lift["cvr_control"]),
        "cvr_control_ci": _interval(lift["cvr_control_ci"]),
        "absolute": _pct(lift["absolute_lift"], signed=True),
        "absolute_ci": _interval(lift["absolute_lift_ci"], signed=True),
        "relative": _pct(lift["relative_lift"], signed=True),
        "relative_ci": _interval(lift["relative_lift_ci"], signed=True),
        "p_value": "n/a" if lift["p_value"] is None else f"{lift['p_value']:.4f}",
        "incremental": "n/a" if incremental is None else f"{incremental:.1f}",
        "incremental_ci": "n/a"
        if not report["incremental_conversions_ci"]
        else "{:.1f} to {:.1f}".format(*report["incremental_conversions_ci"]),
        "power": "n/a" if power["power"] is None else f"{power['power'] * 100:.0f} %",
        "information": f"{power['information'] * 100:.0f} %",
    }


@holdouts_page
def holdout(request: PortalRequest, test_id: int) -> HttpResponse:
    test = get_object_or_404(services.holdout_tests_visible(actor=request.actor), pk=test_id)
    report: dict[str, Any] = holdout_report_current(test=test)
    return render(
        request,
        "payouts/portal/holdout.html",
        {"test": test, "report": report, "shown": _shown(report), "power": report["power"]},
    )


@require_POST
@holdouts_page
@account_may(Act.MANAGE_OFFERS)
def holdout_stop(request: PortalRequest, test_id: int) -> HttpResponseBase:
    test = get_object_or_404(services.holdout_tests_visible(actor=request.actor), pk=test_id)
    try:
        services.holdout_test_may_stop(actor=request.actor, test=test)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("incrementality_portal:holdout", test.pk)
    if holdout_test_finish(test_id=test.pk, reason=HoldoutTest.StopReason.MANUAL):
        messages.success(request, "The test has stopped; its result is kept below.")
    return redirect("incrementality_portal:holdout", test.pk)
