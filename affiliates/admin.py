"""Django admin for network staff: every affiliates model, with the day-to-day decisions as actions.

Actions call the same services as the API, so the admin cannot bypass a business rule.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from affiliates import services
from affiliates.accounts.keys import apikey_revoke
from affiliates.core.admin import ReadOnlyAdmin
from affiliates.core.errors import DomainError
from affiliates.credentials import ApiKey
from affiliates.domain_admin import TrackingDomainAdmin  # noqa: F401  (registers it)
from affiliates.models import (
    Advertiser,
    Cap,
    Coupon,
    CustomPayout,
    Goal,
    NetworkTerms,
    Offer,
    OfferAccess,
    Publisher,
)
from affiliates.network_terms import network_terms_set
from affiliates.pricing import (
    AmbiguousUnit,
    custom_payout_unit,
    custom_payout_warnings,
    goal_warnings,
)
from affiliates.team_admin import AdvertiserMemberInline, PublisherMemberInline
from affiliates.validators import offer_measurement_errors

LOSS = "⚠ payout exceeds revenue"


class CustomPayoutForm(forms.ModelForm[CustomPayout]):
    """Refuses a custom payout whose unit would be ambiguous (the API's rule, pricing.py)."""

    class Meta:
        model = CustomPayout
        fields = ["publisher", "offer", "goal", "countries", "min_sale_amount", "payout", "revenue"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        offer = data.get("offer") or getattr(self.instance, "offer", None)
        if offer is not None and offer.pk is not None:
            try:
                custom_payout_unit(goal=data.get("goal"), goals=list(offer.goals.all()))
            except AmbiguousUnit as exc:
                self.add_error("goal", str(exc))
        return data


MEASUREMENT = [
    "view_through_enabled",
    "view_through_window_hours",
    "view_through_goal",
    "assist_enabled",
    "assist_payout",
    "assist_revenue",
    "assist_daily_cap",
]


class OfferAdminForm(forms.ModelForm[Offer]):
    """The portal's rules for view-through and assists; a view-through goal must already be
    saved on the offer (the goal inlines are saved after this form)."""

    class Meta:
        model = Offer
        fields = MEASUREMENT  # the admin passes every field of its fieldsets

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        codes = set(self.instance.goals.values_list("code", flat=True)) if self.instance.pk else set()
        for field, message in offer_measurement_errors(data, goal_codes=codes).items():
            if field == "view_through_goal":
                message += " Save a new goal first, then choose it."
            self.add_error(field, message)
        return data


def _loss_flag(warnings: list[str]) -> str:
    return LOSS if warnings else ""


@admin.register(Advertiser)
class AdvertiserAdmin(admin.ModelAdmin[Advertiser]):
    list_display = ["name", "status", "currency", "postback_token_hint", "created_at"]
    list_filter = ["status", "currency"]
    search_fields = ["name", "members__username", "members__email"]
    readonly_fields = ["postback_token_hint", "created_at"]
    inlines = [AdvertiserMemberInline]
    actions = ["rotate_postback_token", "rotate_hmac_secret"]

    def save_model(self, request: HttpRequest, obj: Advertiser, form: Any, change: bool) -> None:
        if not change:
            # A new advertiser needs a token; show it once, like the API does.
            token = obj.rotate_postback_token()
            self.message_user(request, f"{obj.name}: postback token {token} (shown only now).")
        super().save_model(request, obj, form, change)

    @admin.action(description="Rotate postback token (shows the new one once)")
    def rotate_postback_token(self, request: HttpRequest, queryset: QuerySet[Advertiser]) -> None:
        for advertiser in queryset:
            token = services.advertiser_rotate_credentials(advertiser=advertiser)
            self.message_user(request, f"{advertiser.name}: new postback token {token}", messages.WARNING)

    @admin.action(description="Rotate HMAC secret (shows the new one once)")
    def rotate_hmac_secret(self, request: HttpRequest, queryset: QuerySet[Advertiser]) -> None:
        for advertiser in queryset:
            secret = services.advertiser_rotate_hmac_secret(advertiser=advertiser)
            self.message_user(request, f"{advertiser.name}: new HMAC secret {secret}", messages.WARNING)


def _publisher_action(action_name: str, description: str) -> Any:
    @admin.action(description=description)
    def run(
        modeladmin: admin.ModelAdmin[Publisher], request: HttpRequest, queryset: QuerySet[Publisher]
    ) -> None:
        done, refused = 0, []
        for publisher in queryset:
            try:
                services.publisher_transition(publisher=publisher, action=action_name, by=request.user)  # type: ignore[arg-type]
                done += 1
            except DomainError as exc:
                refused.append(f"{publisher.name}: {exc.message}")
        modeladmin.message_user(request, f"{done} publisher(s) {action_name}d.")
        for line in refused:
            modeladmin.message_user(request, line, messages.ERROR)

    run.__name__ = f"publisher_{action_name}"
    return run


@admin.register(Publisher)
class PublisherAdmin(admin.ModelAdmin[Publisher]):
    list_display = ["name", "email", "status", "payout_method", "payout_currency", "created_at"]
    list_filter = ["status", "payout_method", "payout_currency"]
    search_fields = ["name", "email", "website", "members__username"]
    readonly_fields = ["status_changed_by", "status_changed_at", "created_at"]
    inlines = [PublisherMemberInline]
    actions = [
        _publisher_action("approve", "Approve selected publishers"),
        _publisher_action("reject", "Reject selected publishers"),
        _publisher_action("suspend", "Suspend selected publishers"),
    ]


class GoalInline(admin.TabularInline[Goal, Offer]):
    model = Goal
    extra = 0
    min_num = 1
    fields = ["code", "name", "payout_type", "payout", "revenue", "is_default", "allow_multiple", "warning"]
    readonly_fields = ["warning"]

    @admin.display(description="Warning")
    def warning(self, goal: Goal) -> str:
        return _loss_flag(goal_warnings(goal)) if goal.pk else ""


class CapInline(admin.TabularInline[Cap, Offer]):
    model = Cap
    extra = 0
    autocomplete_fields = ["publisher"]


class CustomPayoutInline(admin.TabularInline[CustomPayout, Offer]):
    model = CustomPayout
    form = CustomPayoutForm
    extra = 0
    autocomplete_fields = ["publisher"]
    fields = ["publisher", "goal", "countries", "min_sale_amount", "payout", "revenue", "warning"]
    readonly_fields = ["warning"]

    @admin.display(description="Warning")
    def warning(self, custom: CustomPayout) -> str:
        return _loss_flag(custom_payout_warnings(custom, list(custom.offer.goals.all()))) if custom.pk else ""


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin[Offer]):
    form = OfferAdminForm
    list_display = ["name", "advertiser", "status", "visibility", "category", "currency", "created_at"]
    list_filter = ["status", "visibility", "currency", "category", "advertiser"]
    search_fields = ["name", "description", "category", "advertiser__name"]
    autocomplete_fields = ["advertiser", "fallback_offer"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [GoalInline, CapInline, CustomPayoutInline]
    fieldsets = [
        (None, {"fields": ["advertiser", "name", "description", "category", "status", "visibility"]}),
        ("Schedule", {"fields": ["starts_at", "ends_at"]}),
        (
            "Links",
            {"fields": ["landing_url", "preview_url", "deep_links_allowed", "allowed_domains"]},
        ),
        ("Fallback", {"fields": ["fallback_offer", "fallback_url"]}),
        (
            "Attribution",
            {
                "fields": [
                    "currency",
                    "attribution_window_days",
                    "attribution_model",
                    "hold_days",
                    "unique_click_window_hours",
                    "min_click_to_conversion_seconds",
                    "max_click_to_conversion_seconds",
                    "slow_conversion_action",
                    "max_sale_amount",
                ]
            },
        ),
        ("Targeting", {"fields": ["target_countries", "target_devices", "target_os"]}),
        (
            "Beyond last click: view-through and assist commissions",
            {"fields": tuple(MEASUREMENT)},
        ),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin[Goal]):
    list_display = ["code", "name", "offer", "payout_type", "payout", "revenue", "is_default", "warning"]
    list_filter = ["payout_type", "is_default"]
    search_fields = ["code", "name", "offer__name"]
    autocomplete_fields = ["offer"]

    @admin.display(description="Warning")
    def warning(self, goal: Goal) -> str:
        return _loss_flag(goal_warnings(goal))


@admin.register(CustomPayout)
class CustomPayoutAdmin(admin.ModelAdmin[CustomPayout]):
    form = CustomPayoutForm
    list_display = ["publisher", "offer", "goal", "min_sale_amount", "payout", "revenue", "unit", "warning"]
    list_filter = ["offer__advertiser"]
    search_fields = ["publisher__name", "offer__name"]
    autocomplete_fields = ["publisher", "offer"]
    list_select_related = ["publisher", "offer", "goal"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomPayout]:
        return super().get_queryset(request).prefetch_related("offer__goals")

    @admin.display(description="Unit")
    def unit(self, custom: CustomPayout) -> str:
        try:
            return custom_payout_unit(goal=custom.goal, goals=list(custom.offer.goals.all()))
        except AmbiguousUnit:
            return "ambiguous"

    @admin.display(description="Warning")
    def warning(self, custom: CustomPayout) -> str:
        return _loss_flag(custom_payout_warnings(custom, list(custom.offer.goals.all())))


@admin.register(Cap)
class CapAdmin(admin.ModelAdmin[Cap]):
    list_display = ["offer", "metric", "period", "scope", "publisher", "limit"]
    list_filter = ["metric", "period", "scope"]
    search_fields = ["offer__name", "publisher__name"]
    autocomplete_fields = ["offer", "publisher"]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin[Coupon]):
    list_display = ["code", "publisher", "offer", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["code", "publisher__name", "offer__name"]
    autocomplete_fields = ["publisher", "offer"]


def _access_action(decision: str, description: str) -> Any:
    @admin.action(description=description)
    def run(
        modeladmin: admin.ModelAdmin[OfferAccess], request: HttpRequest, queryset: QuerySet[OfferAccess]
    ) -> None:
        for access in queryset.select_related("offer", "publisher"):
            services.access_decide(
                offer=access.offer,
                publisher=access.publisher,
                status=decision,
                by=request.user,  # type: ignore[arg-type]
            )
        modeladmin.message_user(request, f"{queryset.count()} access(es) {decision}.")

    run.__name__ = f"access_{decision}"
    return run


@admin.register(OfferAccess)
class OfferAccessAdmin(admin.ModelAdmin[OfferAccess]):
    list_display = ["publisher", "offer", "status", "decided_by", "decided_at", "created_at"]
    list_filter = ["status", "offer__advertiser"]
    search_fields = ["publisher__name", "offer__name", "token"]
    autocomplete_fields = ["publisher", "offer"]
    readonly_fields = ["token", "decided_by", "decided_at", "created_at"]
    actions = [
        _access_action(OfferAccess.Status.APPROVED, "Approve selected applications"),
        _access_action(OfferAccess.Status.REJECTED, "Reject selected applications"),
    ]


@admin.register(NetworkTerms)
class NetworkTermsAdmin(admin.ModelAdmin[NetworkTerms]):
    """One row: the network's minimum payout, the floor under every publisher's."""

    list_display = ["minimum_payout", "minimum_payout_currency", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not NetworkTerms.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: NetworkTerms, form: Any, change: bool) -> None:
        network_terms_set(minimum_payout=obj.minimum_payout, currency=obj.minimum_payout_currency)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin[ApiKey]):
    """Every user's named API keys (never the key: only its prefix is stored in clear). Staff
    revoke one here, e.g. a key leaked in a publisher's repository."""

    list_display = (
        "name",
        "prefix",
        "user",
        "read_only",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("read_only",)
    search_fields = ("name", "prefix", "user__username")
    exclude = ("key_hash",)
    actions = ["apikey_revoke"]

    @admin.action(description="Revoke the selected keys")
    def apikey_revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for row in queryset:
            apikey_revoke(user=row.user, key_id=row.pk)
        self.message_user(request, f"{queryset.count()} key(s) revoked.", messages.SUCCESS)
