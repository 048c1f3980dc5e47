"""Staff: invalidate clicks and impressions from the fraud pages. Pick them (ids, or publisher +
sub id + time range) with a reason, see how much each CPC and CPM line shrinks, then confirm
(payouts.traffic_review)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from affiliates.core.errors import DomainError
from affiliates.models import Publisher
from affiliates.portal.access import PortalRequest, account_may, staff_only
from affiliates.roles import Act, visible
from payouts.traffic_review import SUB_FIELDS, TRAFFIC, Selection, traffic_judge

_WHEN = {"widget": forms.DateTimeInput(attrs={"type": "datetime-local"}), "required": False}


class InvalidateForm(forms.Form):
    click_ids = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Click ids, separated by spaces, commas or lines; or pick by publisher below.",
    )
    impression_ids = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Impression ids, the same way (with or without click ids).",
    )
    publisher = forms.ModelChoiceField(Publisher.objects.order_by("name"), required=False)
    traffic = forms.ChoiceField(
        choices=[(t, t.capitalize()) for t in TRAFFIC],
        initial="clicks",
        required=False,
        label="Kind of traffic",
        help_text="Picking by publisher: their clicks or their impressions.",
    )
    sub = forms.ChoiceField(choices=[(s, s) for s in SUB_FIELDS], initial="sub1", label="Sub id")
    value = forms.CharField(required=False, max_length=255, label="Sub id value")
    start = forms.DateTimeField(label="From (UTC)", **_WHEN)  # type: ignore[arg-type]
    end = forms.DateTimeField(label="To (UTC, exclusive)", **_WHEN)  # type: ignore[arg-type]
    reason = forms.CharField(max_length=150, help_text="Kept on the ledger's decrease.")

    def selection(self) -> Selection:
        data = self.cleaned_data
        publisher = data.get("publisher")
        return Selection(
            click_ids=_ids(data["click_ids"]),
            impression_ids=_ids(data["impression_ids"]),
            publisher_id=publisher.pk if publisher else None,
            traffic=data.get("traffic") or "clicks",
            sub=data["sub"],
            value=data.get("value") or "",
            start=data.get("start"),
            end=data.get("end"),
        )


def _ids(raw: str) -> tuple[str, ...]:
    return tuple(i for i in raw.replace(",", " ").split() if i)


@staff_only
@account_may(Act.REVIEW_FRAUD)
def staff_invalid_traffic(request: PortalRequest) -> HttpResponse:
    """GET: the form. POST: a preview (nothing written), or with ``confirm`` the invalidation."""
    form = InvalidateForm(request.POST or None)
    picker: Any = form.fields["publisher"]  # the viewer's publishers (an account manager's)
    picker.queryset = visible(Publisher.objects.order_by("name"), request.actor)
    context: dict[str, Any] = {"form": form, "judgement": None}
    if request.method == "POST" and form.is_valid():
        confirm = request.POST.get("confirm") == "1"
        try:
            judgement = traffic_judge(
                selection=form.selection(),
                reason=form.cleaned_data["reason"],
                actor=f"staff:{request.user.pk}",
                confirm=confirm,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if confirm:
                shrunk = len(judgement.lines)
                messages.success(
                    request,
                    f"Invalidated {judgement.picked}; {shrunk} line(s) shrunk, "
                    "the ledger carries the decrease.",
                )
                return redirect("payouts_portal:staff-invalid-traffic")
            context["judgement"] = judgement
    return render(request, "payouts/portal/staff_invalid_traffic.html", context)
