"""The webhooks section of the OpenAPI schema (OpenAPI 3.1 ``webhooks``): what a receiver gets.

Every event is a JSON POST signed as ``payouts.callbacks.signing`` says; the headers and the
envelope are the same for all, ``data`` differs per event. Fields marked with the roles that
see them are absent from other subscribers' bodies.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

S = serializers


def _text(help_text: str, **kw: Any) -> S.CharField:
    return S.CharField(help_text=help_text, **kw)


class ClickData(S.Serializer[Any]):
    id = _text("The click id (32 hex digits).")
    created_at = S.DateTimeField(help_text="When the click was recorded (UTC).")
    offer_id = S.IntegerField(help_text="The offer clicked.")
    publisher_id = S.IntegerField(help_text="The publisher whose link it was.")
    country = _text("ISO 3166 alpha-2 country of the visitor; empty when unknown.")
    device = _text("desktop, mobile, tablet, ...")
    os = _text("Operating system.")
    source = _text("The traffic source id the link carried.")  # type: ignore[assignment]
    sub1 = _text("Publisher's sub id 1.")
    sub2 = _text("Publisher's sub id 2.")
    sub3 = _text("Publisher's sub id 3.")
    sub4 = _text("Publisher's sub id 4.")
    sub5 = _text("Publisher's sub id 5.")
    is_unique = S.BooleanField(help_text="First click of this visitor on this offer in its window.")
    reason = _text("Why it did not go to the offer (offer_paused, cap_reached, ...); empty when it did.")
    fraud_flags = S.ListField(child=S.CharField(), help_text="Fraud rules it tripped.")
    ip = _text("The visitor's address as stored (IP_PRIVACY). Network subscriptions only.", required=False)
    user_agent = _text("The visitor's user agent. Network subscriptions only.", required=False)


class ConversionData(S.Serializer[Any]):
    id = S.IntegerField(help_text="Conversion id.")
    created_at = S.DateTimeField(help_text="When it was recorded (UTC).")
    offer_id = S.IntegerField(help_text="The offer.", allow_null=True)
    publisher_id = S.IntegerField(help_text="The publisher credited.", allow_null=True)
    goal = _text("The goal's code.", allow_null=True)
    click_id = _text("The attributed click; null for coupon conversions.", allow_null=True)
    txn_id = _text("The advertiser's transaction id.")
    status = _text("pending, approved, rejected or reversed.")
    reason = _text("Why it was rejected or reversed; empty otherwise.")
    amount = S.DecimalField(
        max_digits=24, decimal_places=6, help_text="Sale amount as reported.", allow_null=True
    )
    currency = _text("ISO 4217 code of the amount.")
    country = _text("Visitor's country.")
    source_id = _text("The click's traffic source.")
    sub1 = _text("Publisher's sub id 1.")
    sub2 = _text("Publisher's sub id 2.")
    sub3 = _text("Publisher's sub id 3.")
    sub4 = _text("Publisher's sub id 4.")
    sub5 = _text("Publisher's sub id 5.")
    customer_hash = _text(
        "The customer id as the advertiser's keyed hash. Network and advertiser only.", required=False
    )


class CommissionData(S.Serializer[Any]):
    id = S.IntegerField(help_text="Commission id.")
    kind = _text("conversion, or a daily cpc / cpm line.")
    conversion_id = S.IntegerField(help_text="Its conversion; null for cpc / cpm lines.", allow_null=True)
    offer_id = S.IntegerField(help_text="The offer.")
    publisher_id = S.IntegerField(help_text="The publisher.")
    goal = _text("The goal's code.", allow_null=True)
    day = S.DateField(help_text="UTC day of the event.")
    quantity = S.IntegerField(help_text="1, or the day's clicks / impressions.")
    status = _text("pending, approved, rejected or reversed.")
    currency = _text("The offer's currency.")
    created_at = S.DateTimeField(help_text="When it was created.")
    approved_at = S.DateTimeField(help_text="When it was approved.", allow_null=True)
    reversed_at = S.DateTimeField(help_text="When it was reversed.", allow_null=True)
    payout = S.DecimalField(
        max_digits=24,
        decimal_places=2,
        help_text="What the publisher earns. Network and publisher only.",
        required=False,
    )
    revenue = S.DecimalField(
        max_digits=24,
        decimal_places=2,
        help_text="What the advertiser pays. Network and advertiser only.",
        required=False,
    )


class PayoutData(S.Serializer[Any]):
    id = S.IntegerField(help_text="Payout id.")
    run_id = S.IntegerField(help_text="Its payout run.")
    publisher_id = S.IntegerField(help_text="The publisher paid.")
    period = S.DateField(help_text="First day of the month it pays.")
    status = _text("approved, paid or failed.")
    amount = S.DecimalField(max_digits=24, decimal_places=2, help_text="The amount.")
    currency = _text("ISO 4217 code of the amount.")
    payment_reference = _text("The bank or PayPal reference, once paid.")
    paid_at = S.DateTimeField(help_text="When it was marked paid.", allow_null=True)


class InvoiceData(S.Serializer[Any]):
    id = S.IntegerField(help_text="Document id.")
    number = _text("The invoice number, e.g. INV-000042.")
    advertiser_id = S.IntegerField(help_text="The advertiser invoiced.")
    period = S.DateField(help_text="First day of the month it covers.")
    issue_date = S.DateField(help_text="Issue date.")
    due_date = S.DateField(help_text="Due date.", allow_null=True)
    totals = S.DictField(child=S.CharField(), help_text='Per currency, e.g. {"USD": "120.00"}.')
    vat_totals = S.DictField(child=S.CharField(), help_text="VAT per currency.")


def _envelope(name: str, data: type[S.Serializer[Any]], types: str) -> type[S.Serializer[Any]]:
    fields = {
        "id": _text("Unique id of this event (the same on every retry of it)."),
        "event": _text("The event subscribed to."),
        "type": _text(f"What happened: {types}."),
        "created_at": S.DateTimeField(help_text="When it happened (UTC)."),
        "data": data(help_text="The object, as the subscriber's role may see it."),
    }
    return type(f"{name}Event", (S.Serializer,), fields)


# drf-spectacular's webhooks take no header parameters: the signing is in each description.
SIGNED = (
    "Headers: `X-Affnet-Webhook-Id` (the delivery id, the same on every retry: drop duplicates), "
    "`X-Affnet-Webhook-Event` (the type), `X-Affnet-Webhook-Timestamp` (unix seconds of this attempt) and "
    "`X-Affnet-Webhook-Signature: v1=<hex>`, the HMAC-SHA256 with your subscription's secret of "
    "`<timestamp>.<raw body>`. Recompute it, compare in constant time, and refuse timestamps more than "
    "5 minutes old. For 24 hours after a rotation two signatures come, comma-separated (new secret "
    "first): accept when any matches. Fields marked with roles are absent for other subscribers."
)
ANSWER = {
    200: OpenApiResponse(
        description="Any 2xx: received. Anything else, or no answer in 5 s, is retried "
        "with exponential backoff for 24 h; redirects are not followed."
    ),
}


def _hook(name: str, data: type[S.Serializer[Any]], types: str, summary: str) -> OpenApiWebhook:
    return OpenApiWebhook(
        name=name,
        decorator=extend_schema(
            summary=summary,
            description=f"Sent to subscriptions to `{name}`. {SIGNED}",
            request=_envelope(name.replace(".", "_").title().replace("_", ""), data, types),
            responses=ANSWER,
        ),
    )


CLICK = _hook("click", ClickData, "click.recorded", "A click was recorded")
CONVERSION_CREATED = _hook(
    "conversion.created", ConversionData, "conversion.created", "A conversion was created"
)
CONVERSION_STATUS_CHANGED = _hook(
    "conversion.status_changed", ConversionData, "conversion.status_changed", "A conversion's status changed"
)
COMMISSION = _hook(
    "commission",
    CommissionData,
    "commission.created, commission.approved, commission.rejected, commission.reversed",
    "A commission was created or changed status",
)
PAYOUT = _hook(
    "payout",
    PayoutData,
    "payout.approved, payout.paid, payout.failed",
    "A payout was approved, paid or failed",
)
INVOICE = _hook("invoice", InvoiceData, "invoice.issued", "An invoice was issued")
