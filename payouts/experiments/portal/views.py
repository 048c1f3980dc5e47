"""A/B test and budget-shift pages for advertisers (their offers) and staff (every offer).

Tests: the list, a new test (with the weekly preset), and a test's page with each variant's
metric, interval and p-value, the verdict of the last look, one-click promotion and the
decisions with undo. Budget shifts: this week's proposals with their numbers, apply and undo,
and the automatic-application setting. Writes call the services the API calls.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from affiliates.core.db import db_id
from affiliates.core.errors import DomainError
from affiliates.models import Advertiser
from affiliates.portal.access import PortalRequest, account_may, portal_view
from affiliates.portal.daterange import DateRange, date_range_context, date_range_or_default
from affiliates.roles import Act, Role, visible
from payouts.experiments import abtests, range_stats, shifts
from payouts.experiments.models import AbDecision, BudgetShift, ShiftSettings
from payouts.experiments.portal.forms import AbTestForm
from tracking.models import AbTest

page = portal_view(Role.ADVERTISER, Role.STAFF)


def _test(request: PortalRequest, test_id: int) -> AbTest:
    return get_object_or_404(abtests.ab_tests_visible(actor=request.actor), pk=test_id)


def _picker(request: PortalRequest) -> tuple[DateRange, dict[str, Any], int]:
    """The range asked for (default: the last 30 days), or the default and a 400 with the
    picker's message."""
    chosen, error = date_range_or_default(params=request.GET, default="30d")
    return chosen, date_range_context(request.GET, chosen, error), 400 if error else 200


@page
def ab_tests(request: PortalRequest) -> HttpResponse:
    chosen, picker, status = _picker(request)
    tests = list(
        abtests.ab_tests_visible(actor=request.actor)
        .select_related("offer__advertiser")
        .prefetch_related("variants")
    )
    compared = range_stats.ab_compared(
        by="test", ids=[t.pk for t in tests], chosen=chosen, compare=bool(picker["compare"])
    )
    rows = [{"test": t, "range": compared[t.pk]} for t in tests]
    context = {
        **picker,
        "rows": rows,
        "kpis": range_stats.ab_kpis(compared.values(), compare=bool(picker["compare"])),
    }
    return render(request, "experiments/ab_tests.html", context, status=status)


@page
@account_may(Act.MANAGE_OFFERS)
def ab_test_new(request: PortalRequest) -> HttpResponseBase:
    form = AbTestForm(request.POST or None, actor=request.actor)
    if request.method == "POST" and form.is_valid():
        values = {k: form.cleaned_data[k] for k in abtests.SETTINGS}
        if form.cleaned_data["preset"]:
            values.update(abtests.PRESET_WEEKLY)
        try:
            test = abtests.ab_test_create(
                actor=request.actor,
                offer=form.cleaned_data["offer"],
                variants=form.variants(),
                created_by=request.user,
                **values,
            )
        except DomainError as exc:
            form.add_error(None, f"{exc.message} ({exc.code})")
        else:
            messages.success(request, f"Test “{test.name}” saved as a draft: start it to split the traffic.")
            return redirect("experiments_portal:ab-test", test.pk)
    return render(request, "experiments/ab_test_form.html", {"form": form})


def _shown(value: float | None, percent: bool) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.2f} %" if percent else f"{value:.4f}"


def _rows(test: AbTest) -> list[dict[str, Any]]:
    """Each variant with the last look's numbers for it, as the page shows them."""
    look = test.last_look or {}
    percent = test.metric == AbTest.Metric.CVR
    estimates = {e["variant"]: e for e in look.get("estimates", [])}
    comparisons = {c["variant"]: c for c in look.get("comparisons", [])}
    rows = []
    for v in test.variants.select_related("creative"):
        e, c = estimates.get(v.pk), comparisons.get(v.pk)
        rows.append(
            {
                "variant": v,
                "clicks": e["clicks"] if e else None,
                "value": _shown(e["value"], percent) if e else "—",
                "interval": f"{_shown(e['low'], percent)} – {_shown(e['high'], percent)}" if e else "—",
                "lift": "—" if not c or c["lift"] is None else f"{c['lift'] * 100:+.1f} %",
                "p_value": f"{c['p_value']:.4f}" if c else "—",
                "significant": bool(c and c["significant"]),
                "is_winner": look.get("winner") == v.pk,
            }
        )
    return rows


@page
def ab_test(request: PortalRequest, test_id: int) -> HttpResponse:
    test = _test(request, test_id)
    chosen, picker, status = _picker(request)
    rows = _rows(test)
    compared = range_stats.ab_compared(
        by="variant", ids=[r["variant"].pk for r in rows], chosen=chosen, compare=bool(picker["compare"])
    )
    context = {
        **picker,
        "test": test,
        "rows": rows,
        "ranged": [{"variant": r["variant"], "range": compared[r["variant"].pk]} for r in rows],
        "show_revenue": not request.actor.is_publisher,
        "look": test.last_look or {},
        "decisions": test.decisions.select_related("winner", "decided_by"),
    }
    return render(request, "experiments/ab_test.html", context, status=status)


@require_POST
@page
@account_may(Act.MANAGE_OFFERS)
def ab_test_act(request: PortalRequest, test_id: int, verb: str) -> HttpResponseBase:
    test = _test(request, test_id)
    try:
        if verb == "start":
            abtests.ab_test_start(actor=request.actor, test=test)
            messages.success(request, "Test started: the offer's clicks are split between the variants.")
        elif verb == "look":
            look = abtests.ab_test_look(test_id=test.pk, force=True) or {}
            messages.info(request, _look_message(look))
        elif verb == "promote":
            raw = request.POST.get("variant", "")
            decision = abtests.ab_test_promote(
                actor=request.actor,
                test=test,
                variant_id=db_id(raw),
                by=request.user,
            )
            messages.success(request, decision.note)
        elif verb == "end":
            abtests.ab_test_end(actor=request.actor, test=test)
            messages.success(request, "Test ended: the offer's own landing page takes every click again.")
        else:
            raise Http404(verb)
    except DomainError as exc:
        messages.error(request, f"{exc.message} ({exc.code})")
    return redirect("experiments_portal:ab-test", test.pk)


def _look_message(look: dict[str, Any]) -> str:
    verdict = look.get("verdict")
    if verdict == "winner":
        return "Look taken: a winner is clear."
    if verdict == "no_winner":
        return "Look taken: no clear winner by the horizon; the control is kept."
    if verdict == "continue":
        return "Look taken: no significant difference yet."
    return f"Still collecting: {look.get('note', 'not every variant has its minimum sample')}"


@require_POST
@page
@account_may(Act.MANAGE_OFFERS)
def ab_decision_undo(request: PortalRequest, decision_id: int) -> HttpResponseBase:
    decision = get_object_or_404(
        AbDecision.objects.filter(test__in=abtests.ab_tests_visible(actor=request.actor)), pk=decision_id
    )
    try:
        abtests.ab_decision_undo(actor=request.actor, decision=decision, by=request.user)
        messages.success(request, "Decision undone: every variant is back as it was and the test runs again.")
    except DomainError as exc:
        messages.error(request, f"{exc.message} ({exc.code})")
    return redirect("experiments_portal:ab-test", decision.test_id)


def _advertiser(request: PortalRequest) -> Advertiser | None:
    if request.actor.is_advertiser:
        return Advertiser.objects.get(pk=request.actor.advertiser_pk)
    raw = request.GET.get("advertiser") or request.POST.get("advertiser") or ""
    advertiser_id = db_id(raw)
    if advertiser_id is None:
        return None
    # Staff pick among the advertisers they may see (an account manager: their own).
    return visible(Advertiser.objects.all(), request.actor).filter(pk=advertiser_id).first()


@page
def budget_shifts(request: PortalRequest) -> HttpResponse:
    advertiser = _advertiser(request)
    listed = BudgetShift.objects.select_related("advertiser")
    if advertiser is not None:
        listed = listed.filter(advertiser=advertiser)
    settings = ShiftSettings.objects.filter(advertiser=advertiser).first() if advertiser else None
    if request.actor.is_staff:  # an account manager sees their advertisers' shifts only
        listed = listed.filter(advertiser__in=visible(Advertiser.objects.all(), request.actor))
    chosen, picker, status = _picker(request)
    context = {
        **picker,
        "kpis": range_stats.shift_kpis(listed, chosen=chosen, compare=bool(picker["compare"])),
        "shifts": range_stats.shifts_in(listed, first=chosen.first, last=chosen.last)[:200],
        "advertiser": advertiser,
        "advertisers": visible(Advertiser.objects.order_by("name"), request.actor)
        if request.actor.is_staff
        else None,
        "settings": settings,
    }
    return render(request, "experiments/budget_shifts.html", context, status=status)


def _back(advertiser: Advertiser | None) -> HttpResponseBase:
    response = redirect("experiments_portal:budget-shifts")
    if advertiser is not None:
        response["Location"] += f"?advertiser={advertiser.pk}"
    return response


@require_POST
@page
@account_may(Act.MANAGE_OFFERS)
def budget_shifts_propose(request: PortalRequest) -> HttpResponseBase:
    advertiser = _advertiser(request)
    if advertiser is None:
        raise Http404("No advertiser.")
    made = shifts.budget_shifts_propose(advertiser=advertiser)
    messages.info(request, f"{len(made)} new proposal(s) for this week.")
    return _back(advertiser)


@require_POST
@page
@account_may(Act.MANAGE_OFFERS)
def budget_shift_settings(request: PortalRequest) -> HttpResponseBase:
    advertiser = _advertiser(request)
    if advertiser is None:
        raise Http404("No advertiser.")
    try:
        share = Decimal(request.POST.get("share", "0.25"))
        shifts.shift_settings_set(
            advertiser=advertiser, auto_apply=bool(request.POST.get("auto_apply")), share=share
        )
        messages.success(request, "Budget-shift settings saved.")
    except (DomainError, InvalidOperation) as exc:
        messages.error(request, getattr(exc, "message", "The share is a number between 0.20 and 0.30."))
    return _back(advertiser)


@require_POST
@page
@account_may(Act.MANAGE_OFFERS)
def budget_shift_act(request: PortalRequest, shift_id: int, verb: str) -> HttpResponseBase:
    qs = BudgetShift.objects.all()
    if request.actor.is_advertiser:
        qs = qs.filter(advertiser_id=request.actor.advertiser_pk)
    shift = get_object_or_404(qs, pk=shift_id)
    try:
        if verb == "apply":
            shifts.budget_shift_apply(shift=shift, by=request.user, actor=request.actor)
            messages.success(
                request, f"Shift applied: {shift.share:.0%} moved from {shift.bottom} to {shift.top}."
            )
        elif verb == "undo":
            shifts.budget_shift_undo(shift=shift, actor=request.actor)
            messages.success(request, "Shift undone: the caps and weights are back as they were.")
        else:
            raise Http404(verb)
    except DomainError as exc:
        messages.error(request, f"{exc.message} ({exc.code})")
    return _back(shift.advertiser if request.actor.is_staff else None)
