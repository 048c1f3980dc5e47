"""Automation rule pages for advertisers (their offers) and staff (every offer).

List, create and edit, and each rule's firing history with the values seen and an undo button.
Writes call automation.services, the API's services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from affiliates.core.errors import DomainError
from affiliates.portal.access import PortalRequest, account_may, portal_view
from affiliates.portal.tables import table_render
from affiliates.roles import Act, Role
from payouts.automation import selectors, services
from payouts.automation.models import Rule
from payouts.automation.portal.forms import RuleForm
from payouts.automation.portal.lists import OWN_RULES, RULES

rules_page = portal_view(Role.ADVERTISER, Role.STAFF)


@rules_page
def rules(request: PortalRequest) -> HttpResponseBase:
    listed = selectors.rules_visible(actor=request.actor).select_related("advertiser")
    return table_render(
        request,
        listed,
        RULES if request.actor.is_staff else OWN_RULES,
        label="Automation rules",
        sub=RULES_SUB,
        rows="automation/rows_rules.html",
        empty="No rules yet. Start with a stop-loss: pause a creative when its CPC goes over your limit.",
        links=[{"url": reverse("automation_portal:rule-new"), "label": "New rule"}],
    )


RULES_SUB = (
    "Stop-loss and more: each rule watches one slice of the reports over a rolling window and acts when "
    "its condition holds. Every firing is recorded and can be undone."
)


def _save(request: PortalRequest, rule: Rule | None) -> HttpResponseBase:
    form = RuleForm(request.POST or None, instance=rule, actor=request.actor)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if rule is None:
                rule = services.rule_create(actor=request.actor, created_by=request.user, **data)
            else:
                rule = services.rule_update(rule=rule, actor=request.actor, **data)
        except DomainError as exc:
            form.add_error(None, f"{exc.message} ({exc.code})")
        else:
            messages.success(request, f"Rule “{rule.name}” saved.")
            return redirect("automation_portal:rule", rule.pk)
    return render(request, "automation/rule_form.html", {"form": form, "rule": rule})


@rules_page
@account_may(Act.MANAGE_OFFERS)
def rule_new(request: PortalRequest) -> HttpResponseBase:
    return _save(request, None)


@rules_page
@account_may(Act.MANAGE_OFFERS)
def rule_edit(request: PortalRequest, rule_id: int) -> HttpResponseBase:
    return _save(request, get_object_or_404(selectors.rules_visible(actor=request.actor), pk=rule_id))


@rules_page
def rule(request: PortalRequest, rule_id: int) -> HttpResponse:
    found = get_object_or_404(selectors.rules_visible(actor=request.actor), pk=rule_id)
    firings: list[Any] = list(selectors.firings_visible(actor=request.actor).filter(rule=found)[:200])
    for firing in firings:
        firing.shown = selectors.values_for(request.actor, firing.values)
    return render(
        request,
        "automation/rule.html",
        {"rule": found, "firings": firings, "scope_label": selectors.scope_label(found)},
    )


@require_POST
@rules_page
@account_may(Act.MANAGE_OFFERS)
def rule_check_now(request: PortalRequest, rule_id: int) -> HttpResponseBase:
    found = get_object_or_404(selectors.rules_visible(actor=request.actor), pk=rule_id)
    firing = services.rule_check(rule_id=found.pk)
    found.refresh_from_db()
    messages.info(request, f"Fired: {firing.detail}" if firing else f"Did not fire: {found.last_result}")
    return redirect("automation_portal:rule", found.pk)


@require_POST
@rules_page
@account_may(Act.MANAGE_OFFERS)
def firing_undo(request: PortalRequest, firing_id: int) -> HttpResponseBase:
    firing = get_object_or_404(selectors.firings_visible(actor=request.actor), pk=firing_id)
    try:
        firing = services.firing_undo(firing=firing, by=request.user)
    except DomainError as exc:
        messages.error(request, f"{exc.message} ({exc.code})")
    else:
        messages.success(request, f"Undone: {firing.undo_detail}.")
    return redirect("automation_portal:rule", firing.rule_id)
