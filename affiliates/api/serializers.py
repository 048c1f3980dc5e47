"""Input and output shapes of the affiliates API.

Which serializer a request gets depends on the actor's role (see views.RoleSerializerMixin):
a publisher never sees revenue (the network's margin) nor another publisher's payout details,
and an advertiser sees only a publisher's public face.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from affiliates import roles
from affiliates.core.db import MAX_ID
from affiliates.models import Advertiser, Cap, Coupon, CustomPayout, Goal, Offer, OfferAccess, Publisher
from affiliates.network_terms import publisher_minimum_check
from affiliates.payout_methods import PayoutDetailsError, payout_details_clean
from affiliates.pricing import (
    PERCENT,
    AmbiguousUnit,
    custom_payout_unit,
    custom_payout_warnings,
    goal_warnings,
    price_errors,
    price_pick,
)
from affiliates.reporting_currency import ReportingCurrencyRefused, reporting_currency_check
from affiliates.validators import offer_measurement_errors

# Printed on invoices and statements; country and tax id decide the VAT treatment.
PARTY_FIELDS = ["legal_name", "address", "country", "tax_id"]
COUPON_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$")


REPORTING_CURRENCY_HELP = (
    "Currency dashboards and reports total money in (ISO 4217), converted at the stored FX rates; "
    "blank: the network's base currency. Only the base currency or one with a stored rate is "
    "accepted (400, code unknown_currency or no_fx_rate)."
)


def reporting_currency_valid(value: str) -> str:
    """A serializer's check of ``reporting_currency`` (affiliates.reporting_currency)."""
    try:
        return reporting_currency_check(value)
    except ReportingCurrencyRefused as exc:
        raise serializers.ValidationError(exc.message, code=exc.code) from exc


class ScopedModelSerializer(serializers.ModelSerializer[Any]):
    """Narrows every related-object field to the rows the requesting actor can see.

    An id from another tenant then fails as "does not exist", exactly like a missing id, so a
    write can neither reach nor probe another tenant's objects.
    """

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        request = self.context.get("request")
        actor = roles.actor_for(request.user) if request is not None else roles.NOBODY
        for name, field in fields.items():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and not field.read_only:
                field.queryset = roles.visible(queryset, actor)  # type: ignore[attr-defined]
            if name == "id" and not field.help_text:
                field.help_text = "Unique identifier."
        return fields


def _check_money(attrs: dict[str, Any], *, percent: bool) -> None:
    """The price rules (affiliates.pricing.price_errors), as a 400 with the fields at fault."""
    errors = price_errors(payout=attrs.get("payout"), revenue=attrs.get("revenue"), percent=percent)
    if errors:
        raise serializers.ValidationError({k: [v] for k, v in errors.items()}, code="out_of_range")


WARNINGS_HELP = (
    "payout_exceeds_revenue: the publisher earns more than the advertiser pays (a loss on every action)."
)


# --- Advertisers ---------------------------------------------------------------------------


class AdvertiserSerializer(ScopedModelSerializer):
    """Staff's view: every field, status included."""

    class Meta:
        model = Advertiser
        fields = [
            "id",
            "name",
            "status",
            "currency",
            "postback_token_hint",
            "ip_allowlist",
            "value_horizon_days",
            "reporting_currency",
            *PARTY_FIELDS,
            "created_at",
        ]
        read_only_fields = ["postback_token_hint", "created_at"]
        extra_kwargs = {"reporting_currency": {"help_text": REPORTING_CURRENCY_HELP}}

    def validate_reporting_currency(self, value: str) -> str:
        return reporting_currency_valid(value)


class AdvertiserSelfSerializer(AdvertiserSerializer):
    """An advertiser's view of itself: its status is the network's decision."""

    class Meta(AdvertiserSerializer.Meta):
        read_only_fields = ["status", "postback_token_hint", "created_at"]


class AdvertiserCreatedSerializer(AdvertiserSerializer):
    """Shown once, at creation or rotation: the secrets in clear."""

    postback_token = serializers.CharField(
        read_only=True, help_text="Postback token in clear; shown only in this response."
    )
    hmac_secret = serializers.CharField(read_only=True, help_text="Key for HMAC-signed postbacks.")

    class Meta(AdvertiserSerializer.Meta):
        fields = [*AdvertiserSerializer.Meta.fields, "postback_token", "hmac_secret"]

    def to_representation(self, instance: Advertiser) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["postback_token"] = self.context.get("postback_token")
        return data


# --- Publishers ----------------------------------------------------------------------------


class PublisherSerializer(ScopedModelSerializer):
    """Staff's and the publisher's own view. Status changes only through the actions."""

    role_shaped = True  # affiliates.api.schema: roles get different subsets of these fields

    class Meta:
        model = Publisher
        fields = [
            "id",
            "name",
            "email",
            "status",
            "website",
            "payout_method",
            "payout_details",
            "payout_currency",
            "minimum_payout",
            "reporting_currency",
            *PARTY_FIELDS,
            "status_changed_at",
            "created_at",
        ]
        read_only_fields = ["status", "status_changed_at", "created_at"]
        extra_kwargs = {"reporting_currency": {"help_text": REPORTING_CURRENCY_HELP}}

    def validate_reporting_currency(self, value: str) -> str:
        return reporting_currency_valid(value)

    def validate_payout_details(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 500 for k, v in value.items()
        ):
            raise serializers.ValidationError(
                'Give an object of text values, e.g. {"iban": "..."}.', code="bad_payout_details"
            )
        return value

    def validate_minimum_payout(self, value: Decimal) -> Decimal:
        if value < 0:
            raise serializers.ValidationError("Must be zero or more.", code="out_of_range")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The same per-method rules as the portal's form (affiliates.payout_methods), checked
        # when the method or its details change; stored normalised.
        if "payout_details" in attrs or "payout_method" in attrs:
            current = self.instance
            method = attrs.get("payout_method", getattr(current, "payout_method", "paypal"))
            details = attrs.get("payout_details", getattr(current, "payout_details", None) or {})
            try:
                attrs["payout_details"] = payout_details_clean(
                    method=method, details=details, allow_empty=True
                )
            except PayoutDetailsError as exc:
                raise serializers.ValidationError(
                    {"payout_details": {k: [v] for k, v in exc.fields.items()}}, code=exc.code
                ) from exc
        # Checked when the threshold or its currency changes, so raising the network's floor
        # does not block a publisher's unrelated edits (the payout run applies the floor anyway).
        if "minimum_payout" in attrs or "payout_currency" in attrs:
            current = self.instance
            publisher_minimum_check(
                minimum_payout=attrs.get("minimum_payout", getattr(current, "minimum_payout", Decimal("50"))),
                currency=attrs.get("payout_currency", getattr(current, "payout_currency", "USD")),
            )
        return attrs


class PublisherPublicSerializer(ScopedModelSerializer):
    """What an advertiser sees of a publisher that applied to or runs its offers."""

    class Meta:
        model = Publisher
        fields = ["id", "name", "status", "website"]
        read_only_fields = fields


class StatusChangeSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Reason, kept on offer accesses."
    )


# --- Offers and goals ----------------------------------------------------------------------


class GoalSerializer(ScopedModelSerializer):
    """A goal inside an offer. On update, send ``id`` to keep an existing goal."""

    role_shaped = True  # affiliates.api.schema: roles get different subsets of these fields

    id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="Existing goal to update; omit for a new goal.",
    )
    warnings = serializers.SerializerMethodField(help_text=WARNINGS_HELP)

    class Meta:
        model = Goal
        fields = [
            "id",
            "code",
            "name",
            "payout_type",
            "payout",
            "revenue",
            "is_default",
            "allow_multiple",
            "warnings",
        ]
        # The offer-level unique (offer, code) is checked by the service across the whole list.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        payout_type = attrs.get("payout_type", getattr(self.instance, "payout_type", None))
        _check_money(attrs, percent=payout_type == Goal.PayoutType.CPS)
        return attrs

    def get_warnings(self, goal: Goal) -> list[str]:
        return goal_warnings(goal)


class GoalDetailSerializer(GoalSerializer):
    """A goal as its own resource (/goals/)."""

    id = serializers.IntegerField(read_only=True, help_text="Unique identifier.")

    class Meta(GoalSerializer.Meta):
        fields = ["id", "offer", *GoalSerializer.Meta.fields[1:]]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["offer"].read_only = True  # a goal does not move between offers
        return fields


MEASUREMENT_SETTINGS = (
    "view_through_enabled",
    "view_through_window_hours",
    "assist_enabled",
    "assist_payout",
    "assist_revenue",
    "assist_daily_cap",
)


class OfferSerializer(ScopedModelSerializer):
    """The network's and the advertiser's view: prices include revenue."""

    role_shaped = True  # affiliates.api.schema: roles get different subsets of these fields

    goals = GoalSerializer(many=True, help_text="Payable events; exactly one is the default.")

    class Meta:
        model = Offer
        fields = [
            "id",
            "advertiser",
            "name",
            "description",
            "category",
            "status",
            "starts_at",
            "ends_at",
            "visibility",
            "landing_url",
            "preview_url",
            "deep_links_allowed",
            "allowed_domains",
            "fallback_offer",
            "fallback_url",
            "currency",
            "attribution_window_days",
            "attribution_model",
            "hold_days",
            "unique_click_window_hours",
            "min_click_to_conversion_seconds",
            "max_click_to_conversion_seconds",
            "slow_conversion_action",
            "max_sale_amount",
            "target_countries",
            "target_devices",
            "target_os",
            "allowed_traffic",
            "terms",
            "view_through_enabled",
            "view_through_window_hours",
            "view_through_goal",
            "assist_enabled",
            "assist_payout",
            "assist_revenue",
            "assist_daily_cap",
            "goals",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"currency": {"required": False}}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["advertiser"].read_only = True  # an offer does not change hands
        return fields

    def validate_max_sale_amount(self, value: Decimal | None) -> Decimal | None:
        if value is not None and value <= 0:
            raise serializers.ValidationError("Must be more than zero, or empty.", code="out_of_range")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        # The portal forms' rules for the other settings, on the offer as it will be.
        current = self.instance if isinstance(self.instance, Offer) else None
        merged = {
            name: attrs.get(name, getattr(current, name, None))
            for name in (*MEASUREMENT_SETTINGS, "attribution_window_days")
        }
        errors = offer_measurement_errors(merged)
        if errors:
            raise serializers.ValidationError({k: [v] for k, v in errors.items()}, code="invalid")
        code = attrs.get("view_through_goal")
        if code:
            if "goals" in attrs:
                codes = {g.get("code") for g in attrs["goals"]}
            else:
                codes = set(self.instance.goals.values_list("code", flat=True)) if self.instance else set()
            if code not in codes:
                raise serializers.ValidationError(
                    {"view_through_goal": ["Not the code of one of this offer's goals."]},
                    code="does_not_exist",
                )
        return attrs


class PublisherGoalSerializer(serializers.ModelSerializer[Goal]):
    """A goal as a publisher sees it: its own price (custom payouts applied), no revenue."""

    payout = serializers.SerializerMethodField(help_text="What this publisher earns (percent for CPS).")

    class Meta:
        model = Goal
        fields = ["id", "code", "name", "payout_type", "payout", "is_default", "allow_multiple"]
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}

    def get_payout(self, goal: Goal) -> str:
        customs = self.context.get("custom_payouts", {}).get(goal.offer_id, [])
        return str(price_pick(goal=goal, customs=customs).payout)


class PublisherOfferSerializer(serializers.ModelSerializer[Offer]):
    """An offer as a publisher sees it in the marketplace."""

    goals = PublisherGoalSerializer(many=True, read_only=True, help_text="Payable events and your price.")
    access_status = serializers.SerializerMethodField(
        help_text="Your access: approved, pending, rejected, or null when you have not applied."
    )
    tracking_url = serializers.SerializerMethodField(help_text="Your tracking link, once approved.")

    class Meta:
        model = Offer
        fields = [
            "id",
            "name",
            "description",
            "category",
            "status",
            "starts_at",
            "ends_at",
            "visibility",
            "preview_url",
            "deep_links_allowed",
            "allowed_domains",
            "currency",
            "attribution_window_days",
            "hold_days",
            "target_countries",
            "target_devices",
            "target_os",
            "allowed_traffic",
            "terms",
            "view_through_enabled",
            "view_through_window_hours",
            "assist_enabled",
            "assist_payout",
            "goals",
            "access_status",
            "tracking_url",
        ]
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}

    def _access(self, offer: Offer) -> OfferAccess | None:
        access: OfferAccess | None = self.context.get("accesses", {}).get(offer.pk)
        return access

    def get_access_status(self, offer: Offer) -> str | None:
        access = self._access(offer)
        return access.status if access else None

    def get_tracking_url(self, offer: Offer) -> str | None:
        access = self._access(offer)
        return access.tracking_url() if access and access.status == OfferAccess.Status.APPROVED else None


# --- Custom payouts, caps, coupons ---------------------------------------------------------


class CustomPayoutSerializer(ScopedModelSerializer):
    role_shaped = True  # affiliates.api.schema: roles get different subsets of these fields

    unit = serializers.SerializerMethodField(
        help_text=(
            "percent: payout and revenue are percentages of the sale (CPS goals); amount: an amount "
            "per action in the offer's currency (per 1000 impressions for CPM)."
        )
    )
    warnings = serializers.SerializerMethodField(help_text=WARNINGS_HELP)

    class Meta:
        model = CustomPayout
        fields = [
            "id",
            "publisher",
            "offer",
            "goal",
            "countries",
            "min_sale_amount",
            "payout",
            "revenue",
            "unit",
            "warnings",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        offer = attrs.get("offer", getattr(self.instance, "offer", None))
        goal = attrs.get("goal", getattr(self.instance, "goal", None))
        if goal is not None and offer is not None and goal.offer_id != offer.pk:
            raise serializers.ValidationError({"goal": ["Pick a goal of this offer."]}, code="goal_mismatch")
        try:
            unit = custom_payout_unit(goal=goal, goals=list(offer.goals.all()) if offer else [])
        except AmbiguousUnit as exc:
            raise serializers.ValidationError({"goal": [str(exc)]}, code="ambiguous_unit") from exc
        _check_money(attrs, percent=unit == PERCENT)
        threshold = attrs.get("min_sale_amount")
        if threshold is not None and threshold < 0:
            raise serializers.ValidationError(
                {"min_sale_amount": ["Must be zero or more."]}, code="out_of_range"
            )
        return attrs

    def get_unit(self, custom: CustomPayout) -> str:
        try:
            return custom_payout_unit(goal=custom.goal, goals=list(custom.offer.goals.all()))
        except AmbiguousUnit:
            return "ambiguous"  # made before units were checked: edit it to name its goal

    def get_warnings(self, custom: CustomPayout) -> list[str]:
        return custom_payout_warnings(custom, list(custom.offer.goals.all()))


class PublisherCustomPayoutSerializer(serializers.ModelSerializer[CustomPayout]):
    class Meta:
        model = CustomPayout
        fields = ["id", "offer", "goal", "countries", "min_sale_amount", "payout", "created_at"]
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}


class CapSerializer(ScopedModelSerializer):
    class Meta:
        model = Cap
        fields = ["id", "offer", "metric", "period", "scope", "publisher", "limit"]
        validators: list[Any] = []  # the unique rule is enforced by full_clean in the service

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        metric = attrs.get("metric", getattr(self.instance, "metric", None))
        limit = attrs.get("limit")
        if limit is not None and limit < 0:
            raise serializers.ValidationError({"limit": ["Must be zero or more."]}, code="out_of_range")
        counted = metric in (Cap.Metric.CLICKS, Cap.Metric.CONVERSIONS)
        if limit is not None and counted and limit != limit.to_integral_value():
            raise serializers.ValidationError(
                {"limit": ["Clicks and conversions are counted in whole numbers."]}, code="not_integer"
            )
        return attrs


class CouponSerializer(ScopedModelSerializer):
    class Meta:
        model = Coupon
        fields = ["id", "code", "publisher", "offer", "active", "created_at"]
        read_only_fields = ["created_at"]

    def validate_code(self, value: str) -> str:
        if not COUPON_RE.match(value):
            raise serializers.ValidationError(
                "2-64 letters, digits, '-' or '_', starting with a letter or digit.", code="bad_coupon"
            )
        return value


# --- Offer access and links ----------------------------------------------------------------


class OfferAccessSerializer(ScopedModelSerializer):
    # Both null until the access is approved (to_representation): nullable in the schema.
    token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Opaque tracking-link token: /c/{token}; null until approved.",
    )
    url = serializers.CharField(
        source="tracking_url",
        read_only=True,
        allow_null=True,
        help_text="The tracking link on its tracking domain (else SITE_URL); null until approved.",
    )

    class Meta:
        model = OfferAccess
        fields = ["id", "offer", "publisher", "status", "token", "url", "note", "decided_at", "created_at"]
        read_only_fields = ["status", "token", "decided_at", "created_at"]
        validators: list[Any] = []  # applying twice is idempotent in the service, not a 400

    def to_representation(self, instance: OfferAccess) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.status != OfferAccess.Status.APPROVED:
            # Until approved, a token would only lead to the fallback: do not hand it out.
            data["token"] = None
            data["url"] = None
        return data


class AccessApplySerializer(ScopedModelSerializer):
    """A publisher applies: only the offer and a note; the publisher is itself."""

    class Meta:
        model = OfferAccess
        fields = ["offer", "note"]


class LinkCreateSerializer(serializers.Serializer[Any]):
    offer = serializers.PrimaryKeyRelatedField(
        queryset=Offer.objects.all(), help_text="The offer to approve the publisher for."
    )
    publisher = serializers.PrimaryKeyRelatedField(
        queryset=Publisher.objects.all(), help_text="The publisher who gets the link."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        actor = roles.actor_for(request.user) if request is not None else roles.NOBODY
        fields["offer"].queryset = roles.visible(Offer.objects.all(), actor)  # type: ignore[attr-defined]
        # An advertiser approves the publishers that applied to its offers; staff anyone.
        fields["publisher"].queryset = roles.visible(  # type: ignore[attr-defined]
            Publisher.objects.all(), actor
        )
        return fields
