"""The traffic policy page (staff and advertisers): frequency caps across offers, negative
lists uploaded as CSV, recent clicks the policy refused, and (staff) the naming templates;
and the naming report, which splits a sub id by its template's parts (every role).

The rules are the services' (tracking.policy); these views only render them."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates.core.db import db_id
from affiliates.core.errors import DomainError
from affiliates.portal.access import PortalRequest, account_may, portal_view
from affiliates.roles import Act, Role, scope
from tracking.models.clicks import Click, ClickReason
from tracking.models.policy import NamingTemplate
from tracking.policy import selectors, services
from tracking.policy.naming import template_parts
from tracking.portal.policy_forms import CapForm, TemplateForm, UploadForm, scope_objects

manage = portal_view(Role.ADVERTISER, Role.STAFF)
every_role = portal_view(Role.PUBLISHER, Role.ADVERTISER, Role.STAFF)
REFUSED = (ClickReason.BLOCKED, ClickReason.FREQUENCY_CAP)


def _scope(request: PortalRequest, value: str) -> services.Scope:
    advertiser, offer = scope_objects(value)
    return services.scope_resolve(actor=request.actor, advertiser=advertiser, offer=offer)


def _page(request: PortalRequest, **forms: object) -> HttpResponseBase:
    actor = request.actor
    since = timezone.now() - timedelta(days=1)
    refused = Click.objects.filter(reason__in=REFUSED, created_at__gte=since)
    refused = scope(refused, actor, advertiser_path="offer__advertiser_id", publisher_path="publisher_id")
    context = {
        "caps": selectors.frequency_caps_visible(actor=actor),
        "entries": selectors.list_entries_visible(actor=actor)[:500],
        "refused": refused.select_related("offer", "publisher").order_by("-created_at")[:20],
        "templates": NamingTemplate.objects.all(),
        "upload": forms.get("upload") or UploadForm(actor=actor),
        "cap_form": forms.get("cap_form") or CapForm(actor=actor),
        "template_form": forms.get("template_form") or TemplateForm(),
        "row_errors": forms.get("row_errors") or [],
        "may_template": actor.is_staff,
    }
    return render(request, "tracking/portal/policy.html", context)


@manage
def policy_page(request: PortalRequest) -> HttpResponseBase:
    return _page(request)


@require_POST
@manage
@account_may(Act.MANAGE_OFFERS, staff=Act.REVIEW_FRAUD)
def policy_upload(request: PortalRequest) -> HttpResponseBase:
    form = UploadForm(request.POST, request.FILES, actor=request.actor)
    if not form.is_valid():
        return _page(request, upload=form)
    try:
        text = form.cleaned_data["file"].read().decode("utf-8-sig")
        result = services.list_entries_upload(
            actor=request.actor,
            scope=_scope(request, form.cleaned_data["scope"]),
            text=text,
            default_mode=form.cleaned_data["mode"],
            replace=form.cleaned_data["replace"],
        )
    except UnicodeDecodeError:
        form.add_error("file", "The file is not UTF-8 text.")
        return _page(request, upload=form)
    except services.BadUpload as refused:
        form.add_error(None, refused.message)
        return _page(request, upload=form, row_errors=refused.rows)
    except DomainError as refused:
        form.add_error(None, refused.message)
        return _page(request, upload=form)
    messages.success(
        request,
        f"{result['rows']} rows: {result['added']} added, {result['removed']} removed. "
        "Clicks follow the lists within seconds.",
    )
    return redirect("tracking_portal:policy")


@require_POST
@manage
@account_may(Act.MANAGE_OFFERS, staff=Act.REVIEW_FRAUD)
def policy_entry_delete(request: PortalRequest, entry_id: int) -> HttpResponseBase:
    entry = get_object_or_404(selectors.list_entries_visible(actor=request.actor), pk=entry_id)
    services.list_entry_delete(entry=entry)
    messages.success(request, f"Removed {entry.kind} {entry.value} from the {entry.mode} list.")
    return redirect("tracking_portal:policy")


@require_POST
@manage
@account_may(Act.MANAGE_OFFERS, staff=Act.REVIEW_FRAUD)
def policy_cap_set(request: PortalRequest) -> HttpResponseBase:
    form = CapForm(request.POST, actor=request.actor)
    if form.is_valid():
        try:
            cap = services.frequency_cap_set(
                scope=_scope(request, form.cleaned_data["scope"]),
                window_days=form.cleaned_data["window_days"],
                limit=form.cleaned_data["limit"],
            )
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, f"Frequency cap set: {cap}.")
            return redirect("tracking_portal:policy")
    return _page(request, cap_form=form)


@require_POST
@manage
@account_may(Act.MANAGE_OFFERS, staff=Act.REVIEW_FRAUD)
def policy_cap_delete(request: PortalRequest, cap_id: int) -> HttpResponseBase:
    cap = get_object_or_404(selectors.frequency_caps_visible(actor=request.actor), pk=cap_id)
    services.frequency_cap_delete(cap=cap)
    messages.success(request, f"Frequency cap removed: {cap}.")
    return redirect("tracking_portal:policy")


@require_POST
@portal_view(Role.STAFF)
@account_may(Act.MANAGE_NETWORK)
def policy_template_save(request: PortalRequest) -> HttpResponseBase:
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            services.naming_template_save(template=None, **form.cleaned_data)
        except DomainError as refused:
            form.add_error("pattern", refused.message)
        else:
            messages.success(request, "Naming template saved.")
            return redirect("tracking_portal:policy")
    return _page(request, template_form=form)


@every_role
def naming_report_page(request: PortalRequest, template_id: int) -> HttpResponseBase:
    template = get_object_or_404(NamingTemplate, pk=template_id)
    parts = template_parts(template.pattern)
    group_by = [p for p in request.GET.getlist("group_by") if p in parts] or parts[:1]
    end = timezone.now().date()
    days = db_id(request.GET.get("days", "7")) or 7
    start = end - timedelta(days=max(1, min(days, 31)) - 1)
    try:
        rows = selectors.naming_report(
            actor=request.actor, template=template, group_by=group_by, start=start, end=end
        )
        error = ""
    except DomainError as refused:
        rows, error = [], refused.message
    context = {
        "template": template,
        "parts": parts,
        "group_by": group_by,
        "rows": rows,
        "error": error,
        "start": start,
        "end": end,
        "show_revenue": not request.actor.is_publisher,
    }
    return render(request, "tracking/portal/naming_report.html", context)
