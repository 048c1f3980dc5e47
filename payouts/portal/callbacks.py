"""The publisher's postback page: URL templates per scope, a test fire, and the delivery log.

Thin over payouts.callbacks.services: the page saves through ``callback_endpoint_create`` /
``callback_endpoint_update``, test-fires through the delivery worker
(``endpoint_test_enqueue``) and re-sends through ``delivery_resend``, the API's own calls.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from affiliates.core.db import db_id
from affiliates.core.errors import DomainError
from affiliates.models import Goal, Offer, OfferAccess, Publisher
from affiliates.portal.access import PortalRequest, account_may, publisher_only
from affiliates.roles import Act
from payouts.callbacks import services
from payouts.callbacks.templates import CALLBACK_MACROS
from payouts.models.callbacks import CallbackAttempt, CallbackDelivery, CallbackEndpoint

LOG_PAGE_SIZE = 25
MACRO_HELP = {
    "click_id": "The click id",
    "source": "Traffic source",
    "offer_id": "Offer id",
    "goal": "Goal code",
    "conversion_id": "Conversion id",
    "payout": "Your payout",
    "currency": "Payout currency",
    "status": "pending, approved, reversed…",
    "event_time": "ISO 8601, UTC",
}


def _offers(publisher: Publisher) -> QuerySet[Offer]:
    return Offer.objects.filter(
        accesses__publisher=publisher, accesses__status=OfferAccess.Status.APPROVED
    ).order_by("name")


class CallbackForm(forms.Form):
    url = forms.CharField(
        label="Postback URL template",
        max_length=2000,
        help_text="http(s) to a public host. Macros are replaced and URL-encoded.",
        widget=forms.TextInput(
            attrs={"placeholder": "https://tracker.example.com/pb?cid={click_id}&payout={payout}"}
        ),
    )
    offer = forms.ModelChoiceField(
        label="Offer", required=False, queryset=Offer.objects.none(), empty_label="All offers (global)"
    )
    goal = forms.ModelChoiceField(
        label="Goal", required=False, queryset=Goal.objects.none(), empty_label="All goals of the offer"
    )
    events = forms.MultipleChoiceField(
        label="Fire on",
        choices=[("created", "Conversion created"), ("approved", "Approved"), ("reversed", "Reversed")],
        initial=["created"],
        widget=forms.CheckboxSelectMultiple,
    )
    method = forms.ChoiceField(
        label="Method",
        choices=[("GET", "GET (macros in the URL)"), ("POST", "POST (macros also as a form body)")],
        initial="GET",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args: Any, publisher: Publisher, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offers = _offers(publisher)
        offer: Any = self.fields["offer"]
        offer.queryset = offers
        goal: Any = self.fields["goal"]
        goal.queryset = Goal.objects.filter(offer__in=offers).select_related("offer").order_by("offer__name")
        goal.label_from_instance = lambda g: f"{g.offer.name} · {g.code}"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        offer, goal = data.get("offer"), data.get("goal")
        if goal is not None and offer is not None and goal.offer_id != offer.pk:
            self.add_error("goal", "This goal belongs to another offer.")
        elif goal is not None:
            data["offer"] = goal.offer
        return data


def _endpoint_save(publisher: Publisher, data: dict[str, Any]) -> tuple[CallbackEndpoint, bool]:
    """One postback per scope: saving for a scope that has one updates it."""
    existing = CallbackEndpoint.objects.filter(
        publisher=publisher, offer=data["offer"], goal=data["goal"]
    ).first()
    fields = {k: data[k] for k in ("url", "method", "events", "is_active")}
    if existing is not None:
        return services.callback_endpoint_update(endpoint=existing, **fields), False
    return services.callback_endpoint_create(
        publisher=publisher, offer=data["offer"], goal=data["goal"], **fields
    ), True


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    """The model's errors (blocked_address, unknown_macro, duplicate...) on the form's fields."""
    by_field: dict[str | None, list[str]] = {None: exc.messages}
    if hasattr(exc, "error_dict"):
        by_field = {field: errors for field, errors in exc.message_dict.items()}
    for field, errors in by_field.items():
        form.add_error(field if field in form.fields else None, errors)


def _deliveries(publisher: Publisher) -> QuerySet[CallbackDelivery]:
    return (
        CallbackDelivery.objects.filter(publisher=publisher)
        .select_related("offer", "commission")
        .prefetch_related(
            Prefetch("attempts", queryset=CallbackAttempt.objects.order_by("-created_at", "-id"))
        )
        .order_by("-created_at", "-id")
    )


def _posted_id(request: PortalRequest, name: str) -> int:
    """The id a button posts: digits, or 404 (``pk="abc"`` made the lookup raise, a 500)."""
    value = db_id(request.POST.get(name))
    if value is None:
        raise Http404
    return value


def _act(request: PortalRequest, publisher: Publisher) -> None:
    """The test-fire and re-send buttons; each names an object of this publisher only."""
    if request.POST.get("do") == "test":
        pk = _posted_id(request, "endpoint")
        endpoint = get_object_or_404(CallbackEndpoint, publisher=publisher, pk=pk)
        services.endpoint_test_enqueue(endpoint=endpoint)
        messages.success(
            request, "Test postback sent to the delivery queue; its attempt is in the log below."
        )
    elif request.POST.get("do") == "resend":
        pk = _posted_id(request, "delivery")
        delivery = get_object_or_404(CallbackDelivery, publisher=publisher, pk=pk)
        attempt = services.delivery_resend(delivery=delivery)
        outcome = f"HTTP {attempt.status_code}" if attempt.status_code else attempt.error_code or "no answer"
        messages.success(request, f"Re-sent: {outcome}.")


@publisher_only
@account_may(Act.MANAGE_POSTBACKS)
def pub_callbacks(request: PortalRequest) -> HttpResponse:
    publisher = request.publisher
    assert publisher is not None  # publisher_only
    saving = request.method == "POST" and request.POST.get("do") == "save"
    form = CallbackForm(request.POST if saving else None, publisher=publisher)
    if saving and form.is_valid():
        try:
            _, created = _endpoint_save(publisher, form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Postback added." if created else "Postback updated.")
            return redirect("payouts_portal:pub-callbacks")
    elif request.method == "POST" and not saving:
        _act(request, publisher)
        return redirect("payouts_portal:pub-callbacks")
    page = Paginator(_deliveries(publisher), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payouts/portal/pub_callbacks.html",
        {
            "form": form,
            "endpoints": CallbackEndpoint.objects.filter(publisher=publisher)
            .select_related("offer", "goal")
            .order_by("offer__name", "goal__code", "id"),
            "page": page,
            "waiting": CallbackDelivery.objects.filter(
                publisher=publisher, status=CallbackDelivery.Status.PENDING
            ).count(),
            "macros": [
                (f"{{{m}}}", MACRO_HELP.get(m, "Your sub id" if m.startswith("sub") else m))
                for m in CALLBACK_MACROS
            ],
        },
    )
