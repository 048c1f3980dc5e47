"""The audit log pages: staff search every entry; advertisers and publishers read their own.

One view for the three portals: affiliates.audit decides which entries and fields each role
reads, the same rendering as ``GET /api/v1/audit-log/``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from affiliates.audit import ACTIONS, AuditFilters, audit_entries, entry_rows, object_types
from affiliates.portal.access import PortalRequest, advertiser_only, publisher_only, staff_only
from affiliates.roles import Actor

PAGE_SIZE = 50
DATE = forms.DateInput(attrs={"type": "date"})


class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(label="Object", required=False)
    object_id = forms.IntegerField(label="Object id", required=False, min_value=1, max_value=2**63 - 1)
    actor = forms.CharField(
        label="Who", required=False, max_length=150, help_text="User id, e-mail, username or system"
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *((a, a.title()) for a in ACTIONS)]
    )
    since = forms.DateField(label="From", required=False, widget=DATE)
    until = forms.DateField(label="To", required=False, widget=DATE)
    q = forms.CharField(label="Search", required=False, max_length=200)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind: Any = self.fields["object_type"]
        kind.choices = [("", "Any"), *((label, label.capitalize()) for label in object_types(actor))]
        if not actor.is_staff:
            del self.fields["actor"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "Must be on or after From.")
        return data

    def filters(self) -> AuditFilters:
        """The valid filters; none at all when one is invalid (its error is shown)."""
        if not self.is_valid():
            return AuditFilters()
        d = self.cleaned_data
        day = timedelta(days=1)
        return AuditFilters(
            object_type=d.get("object_type") or "",
            object_id=d.get("object_id"),
            actor=d.get("actor") or "",
            action=d.get("action") or "",
            since=datetime.combine(d["since"], time.min, tzinfo=UTC) if d.get("since") else None,
            until=datetime.combine(d["until"], time.min, tzinfo=UTC) + day if d.get("until") else None,
            text=d.get("q") or "",
        )


def _page(request: PortalRequest, intro: str) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, actor=request.actor)
    page = Paginator(audit_entries(actor=request.actor, filters=form.filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": entry_rows(page.object_list, request.actor),
        "query": query.urlencode(),
        "intro": intro,
    }
    return render(request, "portal/audit.html", context)


@staff_only
def staff_audit(request: PortalRequest) -> HttpResponse:
    return _page(request, "Every change to offers, accounts, access, commissions, payouts and settings.")


@advertiser_only
def advertiser_audit(request: PortalRequest) -> HttpResponse:
    return _page(request, "Changes to your account, your offers and their parts, access and commissions.")


@publisher_only
def publisher_audit(request: PortalRequest) -> HttpResponse:
    return _page(request, "Changes to your account, your offer access, postbacks, commissions and payouts.")
