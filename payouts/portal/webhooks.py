"""Webhook pages, for every role: subscribe a URL, rotate its secret, test it, read the log.

Thin over ``payouts.callbacks.webhooks`` and ``services.delivery_resend``, the API's own calls.
Staff manage the network's subscriptions; an advertiser or a publisher its own (another
tenant's is 404). A secret is shown on the page that created or rotated it, and never again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render

from affiliates.portal.access import PortalRequest, account_may, portal_view
from affiliates.roles import Act, Role, scope
from payouts.callbacks import services, webhooks
from payouts.models.callbacks import CallbackDelivery
from payouts.models.webhooks import EVENTS_FOR_OWNER, WebhookEvent, WebhookSubscription

LOG_PAGE_SIZE = 25
any_role = portal_view(Role.STAFF, Role.ADVERTISER, Role.PUBLISHER)


class WebhookForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, required=False, help_text="A label for you.")
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        help_text="https to a public host. Events are POSTed as signed JSON.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/affnet"}),
    )
    events = forms.MultipleChoiceField(label="Events", widget=forms.CheckboxSelectMultiple, choices=())
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args: Any, owner: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = EVENTS_FOR_OWNER[owner]
        self.fields["events"].choices = [(v, label) for v, label in WebhookEvent.choices if v in allowed]  # type: ignore[attr-defined]


def _owner(request: PortalRequest) -> dict[str, Any]:
    if request.advertiser is not None:
        return {"owner": "advertiser", "advertiser": request.advertiser}
    if request.publisher is not None:
        return {"owner": "publisher", "publisher": request.publisher}
    return {"owner": "network"}


def _subscriptions(request: PortalRequest) -> QuerySet[WebhookSubscription]:
    rows = scope(
        WebhookSubscription.objects.all(),
        request.actor,
        advertiser_path="advertiser_id",
        publisher_path="publisher_id",
    )
    if request.actor.is_staff:
        rows = rows.filter(owner=WebhookSubscription.Owner.NETWORK)  # tenants' own are theirs
    return rows


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@any_role
@account_may(Act.MANAGE_OFFERS)
@account_may(Act.MANAGE_POSTBACKS)
def webhooks_page(request: PortalRequest) -> HttpResponse:
    owner = _owner(request)
    form = WebhookForm(request.POST or None, owner=owner["owner"], initial={"is_active": True})
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = webhooks.webhook_subscription_create(**owner, **form.cleaned_data, by=request.user)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            form = WebhookForm(owner=owner["owner"], initial={"is_active": True})
    return render(
        request,
        "payouts/portal/webhooks.html",
        {"form": form, "subscriptions": _subscriptions(request), "created": created},
    )


def _act(request: PortalRequest, sub: WebhookSubscription) -> tuple[HttpResponseBase | None, str | None]:
    """The page's buttons; returns (a redirect, or None to render) and a secret to show once."""
    do = request.POST.get("do")
    if do == "rotate":
        sub = webhooks.webhook_secret_rotate(subscription=sub)
        messages.success(request, "New secret made. The old one keeps signing beside it for 24 hours.")
        return None, sub.secret
    if do == "test":
        attempt = webhooks.webhook_test(subscription=sub)
        if attempt.ok:
            messages.success(request, f"Test event delivered: HTTP {attempt.status_code}.")
        else:
            messages.error(request, f"Test event failed: {attempt.error or attempt.status_code}.")
    elif do == "resend":
        delivery = get_object_or_404(CallbackDelivery, pk=request.POST.get("delivery") or 0, subscription=sub)
        attempt = services.delivery_resend(delivery=delivery)
        messages.info(request, "Re-sent: " + ("delivered." if attempt.ok else f"failed ({attempt.error})."))
    elif do == "delete" and not request.POST.get("confirm_delete"):
        # A required box rather than a script's dialog: the page must not rely on JavaScript.
        messages.error(request, "Tick the box to confirm the deletion.")
    elif do == "delete":
        sub.delete()
        messages.success(request, "Webhook deleted.")
        return redirect("payouts_portal:webhooks"), None
    return redirect("payouts_portal:webhook", sub.pk), None


@any_role
@account_may(Act.MANAGE_OFFERS)
@account_may(Act.MANAGE_POSTBACKS)
def webhook_page(request: PortalRequest, sub_id: int) -> HttpResponseBase:
    sub = get_object_or_404(_subscriptions(request), pk=sub_id)
    initial = {"name": sub.name, "url": sub.url, "events": sub.events, "is_active": sub.is_active}
    data = request.POST if request.POST.get("do") == "save" else None
    form = WebhookForm(data, owner=sub.owner, initial=initial)
    secret = None
    if request.method == "POST":
        if data is not None:
            if form.is_valid():
                try:
                    webhooks.webhook_subscription_update(subscription=sub, **form.cleaned_data)
                except ValidationError as exc:
                    _form_errors(form, exc)
                else:
                    messages.success(request, "Webhook saved.")
                    return redirect("payouts_portal:webhook", sub.pk)
        else:
            response, secret = _act(request, sub)
            if response is not None:
                return response
            sub.refresh_from_db()
    log = sub.deliveries.prefetch_related("attempts").order_by("-created_at", "-id")
    page = Paginator(log, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "payouts/portal/webhook.html", {"sub": sub, "form": form, "page": page, "secret": secret}
    )
