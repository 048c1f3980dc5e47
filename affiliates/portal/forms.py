"""Forms for the affiliate pages: sign-up, profile, payout details, offers with goals and caps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.forms import inlineformset_factory
from django.utils.functional import cached_property

from affiliates.core.db import MAX_INT
from affiliates.core.errors import DomainError
from affiliates.models import Cap, Creative, CustomPayout, Goal, Offer, Publisher
from affiliates.network_terms import publisher_minimum_check
from affiliates.offer_targets import OfferTarget
from affiliates.payout_methods import DETAILS, PayoutDetailsError, payout_details_clean
from affiliates.pricing import PERCENT, AmbiguousUnit, custom_payout_unit, price_errors
from affiliates.reporting_currency import ReportingCurrencyRefused, reporting_currency_check
from affiliates.services import goal_code_change_check
from affiliates.validators import DEVICE_TYPES, OS_FAMILIES, TRAFFIC_TYPES, offer_measurement_errors

# Measurement beyond last click (issue 15): view-through conversions and assist commissions.
MEASUREMENT_FIELDS = [
    "view_through_enabled",
    "view_through_window_hours",
    "view_through_goal",
    "assist_enabled",
    "assist_payout",
    "assist_revenue",
    "assist_daily_cap",
]


class SignupForm(forms.Form):
    company = forms.CharField(label="Company or brand", max_length=200)
    email = forms.EmailField(label="Work email")
    website = forms.URLField(label="Website", required=False, assume_scheme="https")
    traffic = forms.CharField(
        label="How do you promote offers?",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Sources, verticals and monthly volume help us approve you faster.",
    )
    password1 = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Repeat password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].lower()
        if get_user_model().objects.filter(username__iexact=email).exists():
            raise ValidationError("An account with this email already exists.", code="email_taken")
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif data.get("password1"):
            user = get_user_model()(username=data.get("email", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(data["password1"], user)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ProfileForm(forms.ModelForm[Publisher]):
    website = forms.URLField(label="Website", required=False, assume_scheme="https")

    class Meta:
        model = Publisher
        # Legal name, address, country and tax id are printed on the statements the network issues.
        fields = [
            "name",
            "email",
            "website",
            "legal_name",
            "address",
            "country",
            "tax_id",
            "reporting_currency",
        ]
        labels = {
            "name": "Company or brand",
            "email": "Contact email",
            "tax_id": "VAT / tax id",
            "reporting_currency": "Reporting currency",
        }
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def clean_reporting_currency(self) -> str:
        try:
            return reporting_currency_check(self.cleaned_data.get("reporting_currency") or "")
        except ReportingCurrencyRefused as exc:
            raise ValidationError(exc.message, code=exc.code) from exc


class PayoutDetailsForm(forms.ModelForm[Publisher]):
    """The payout method and the details it needs: one group of fields per method, named
    ``<method>-<detail>``; only the chosen method's are checked (affiliates.payout_methods,
    shared with the API), so the page works without JavaScript."""

    class Meta:
        model = Publisher
        fields = ["payout_method", "payout_currency", "minimum_payout"]
        labels = {"payout_currency": "Payout currency", "minimum_payout": "Minimum payout"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        details = self.instance.payout_details or {}
        for method, specs in DETAILS.items():
            for spec in specs:
                initial = details.get(spec.key, "") if self.instance.payout_method == method else ""
                if method == Publisher.PayoutMethod.PAYPAL and not initial:
                    initial = details.get("account", "")  # before per-method details: one "account"
                self.fields[f"{method}-{spec.key}"] = forms.CharField(
                    label=spec.label,
                    required=False,  # required only for the chosen method, checked in clean()
                    max_length=spec.max_length,
                    help_text=spec.help,
                    initial=initial,
                )

    def method_groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(method, its label, its bound fields) for the template's fieldsets."""
        labels = dict(Publisher.PayoutMethod.choices)
        return [
            (method, labels[method], [self[f"{method}-{spec.key}"] for spec in specs])
            for method, specs in DETAILS.items()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("minimum_payout") is not None and data.get("payout_currency"):
            try:
                publisher_minimum_check(
                    minimum_payout=data["minimum_payout"], currency=data["payout_currency"]
                )
            except DomainError as exc:
                self.add_error("minimum_payout", exc.message)
        method = data.get("payout_method")
        if method in DETAILS:
            given = {spec.key: data.get(f"{method}-{spec.key}") or "" for spec in DETAILS[method]}
            try:
                self.details = payout_details_clean(method=method, details=given)
            except PayoutDetailsError as exc:
                for key, message in exc.fields.items():
                    self.add_error(f"{method}-{key}" if key in given else None, message)
        return data

    def save(self, commit: bool = True) -> Publisher:
        # The sign-up's traffic note rides in the same JSON; staff still read it after approval.
        note = (self.instance.payout_details or {}).get("signup_note")
        self.instance.payout_details = {**self.details, **({"signup_note": note} if note else {})}
        return super().save(commit)


class CodeListField(forms.CharField):
    """A JSON list edited as comma-separated text: "US, ca" -> ["US", "CA"]."""

    def __init__(self, *, upper: bool = False, **kwargs: Any) -> None:
        self.upper = upper
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> str:
        return ", ".join(value) if isinstance(value, list) else (value or "")

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        items = [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]
        return [i.upper() if self.upper else i.lower() for i in items]

    def has_changed(self, initial: Any, data: Any) -> bool:
        # A formset's extra form has no initial (None) where the empty box means []: unchanged,
        # or an untouched blank row would be validated as a new one.
        return list(initial or []) != self.to_python(data)


class EffectTargetForm(forms.Form):
    """The advertiser's conversion target for an offer: what the effect score measures
    attainment against (payouts.reports: effect = attainment x quality / cost per result)."""

    conversions = forms.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        required=False,
        label="Target conversions",
        help_text="Pending + approved conversions you aim for per period. Empty: no target, no effect score.",
    )
    period = forms.ChoiceField(
        choices=OfferTarget.Period.choices, initial=OfferTarget.Period.MONTH, label="Per", required=False
    )

    def clean_period(self) -> str:
        return self.cleaned_data.get("period") or OfferTarget.Period.MONTH


class OfferForm(forms.ModelForm[Offer]):
    target_countries = CodeListField(
        upper=True, label="Countries", help_text="ISO codes, comma-separated (US, CA). Empty: worldwide."
    )
    target_devices = forms.MultipleChoiceField(
        choices=[(d, d.title()) for d in sorted(DEVICE_TYPES)],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Devices",
        help_text="None ticked: every device.",
    )
    target_os = forms.MultipleChoiceField(
        choices=[(o, o) for o in sorted(OS_FAMILIES)],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Operating systems",
    )
    allowed_domains = CodeListField(label="Deep-link domains", help_text="Hosts a deep link may go to.")
    allowed_traffic = forms.MultipleChoiceField(
        choices=list(TRAFFIC_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Allowed traffic",
        help_text="Shown to publishers in the marketplace. None ticked: not stated.",
    )

    class Meta:
        model = Offer
        fields = [
            "name",
            "description",
            "terms",
            "category",
            "status",
            "visibility",
            "landing_url",
            "preview_url",
            "currency",
            "starts_at",
            "ends_at",
            "deep_links_allowed",
            "allowed_domains",
            "target_countries",
            "target_devices",
            "target_os",
            "allowed_traffic",
            "attribution_window_days",
            "attribution_model",
            "hold_days",
            "unique_click_window_hours",
            "min_click_to_conversion_seconds",
            "max_click_to_conversion_seconds",
            "slow_conversion_action",
            "max_sale_amount",
            "fallback_offer",
            "fallback_url",
            *MEASUREMENT_FIELDS,
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "terms": forms.Textarea(attrs={"rows": 4}),
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }
        labels = {
            "landing_url": "Landing URL",
            "preview_url": "Preview URL",
            "attribution_window_days": "Attribution window (days)",
            "hold_days": "Hold period (days)",
            "unique_click_window_hours": "Unique click window (hours)",
            "min_click_to_conversion_seconds": "Min click-to-conversion (s)",
            "max_click_to_conversion_seconds": "Max click-to-conversion (s)",
            "slow_conversion_action": "Slower conversions are",
            "max_sale_amount": "Max sale amount",
            "fallback_offer": "Fallback offer",
            "fallback_url": "Fallback URL",
            "view_through_enabled": "Count view-through conversions",
            "view_through_window_hours": "View window (hours)",
            "view_through_goal": "View-through goal (code)",
            "assist_enabled": "Pay assist commissions",
            "assist_payout": "Assist payout (publisher earns)",
            "assist_revenue": "Assist revenue (you pay)",
            "assist_daily_cap": "Assists per publisher per day",
        }
        help_texts = {
            "view_through_goal": "The code of one of the goals below, priced for view-through "
            "conversions (often lower); empty: the goal the postback reports.",
            "assist_daily_cap": "Empty: no cap.",
        }

    def __init__(self, *args: Any, advertiser_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Another advertiser's offer is never a choice: the fallback stays within the tenant.
        fallback: Any = self.fields["fallback_offer"]
        fallback.queryset = Offer.objects.filter(advertiser_id=advertiser_id).exclude(pk=self.instance.pk)

        # A post without them (an older form, a script) keeps the offer's settings.
        for name in ("view_through_window_hours", "assist_payout", "assist_revenue"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("view_through_window_hours", "assist_payout", "assist_revenue"):
            if name in cleaned and cleaned[name] is None:
                cleaned[name] = getattr(self.instance, name)
        # The goal code is checked against the goal forms by portal.services.offer_save.
        for field, message in offer_measurement_errors(cleaned).items():
            self.add_error(field, message)
        return cleaned


class GoalForm(forms.ModelForm[Goal]):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # The instance still holds the stored code here (construct_instance runs after clean).
        if self.instance.pk and "code" in self.changed_data and not data.get("DELETE"):
            try:
                goal_code_change_check(goal=self.instance, code=data.get("code"))
            except DomainError as exc:
                self.add_error("code", exc.message)
        return data


GoalFormSet: Any = inlineformset_factory(
    Offer,
    Goal,
    form=GoalForm,
    fields=["code", "name", "payout_type", "payout", "revenue", "is_default", "allow_multiple"],
    extra=2,
    can_delete=True,
    min_num=1,
    validate_min=True,
)
CapFormSet: Any = inlineformset_factory(
    Offer, Cap, fields=["metric", "period", "scope", "limit"], extra=1, can_delete=True
)
CreativeFormSet: Any = inlineformset_factory(
    Offer,
    Creative,
    fields=["name", "kind", "image_url", "body", "width", "height", "active"],
    extra=1,
    can_delete=True,
    widgets={"body": forms.Textarea(attrs={"rows": 2})},
)


class MarketplaceFilter(forms.Form):
    q = forms.CharField(label="Search", required=False)
    category = forms.ChoiceField(label="Category", required=False)
    country = forms.CharField(label="Country", required=False, max_length=2, help_text="e.g. US")
    payout_type = forms.ChoiceField(
        label="Payout type", required=False, choices=[("", "Any"), *Goal.PayoutType.choices]
    )

    def __init__(self, *args: Any, categories: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category: Any = self.fields["category"]
        category.choices = [("", "Any"), *((c, c.title()) for c in categories)]


class ApplyForm(forms.Form):
    note = forms.CharField(
        label="How will you promote this offer?",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


class ConfirmForm(forms.Form):
    """A destructive action's confirmation: a required box, so it works without JavaScript."""

    confirm = forms.BooleanField(
        label="I understand; do it",
        error_messages={"required": "Tick the box to confirm."},
    )
    note = forms.CharField(
        label="Note for them (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("rejected", "Reject")])
    note = forms.CharField(required=False, max_length=500)


class CustomPayoutForm(forms.ModelForm[CustomPayout]):
    """A publisher's own price on an offer (the staff console's offer form). The rules are the
    API's: the goal is one of this offer's, the unit is clear (custom_payout_unit) and the price
    obeys price_errors."""

    countries = CodeListField(upper=True, label="Countries", help_text="Empty: any country.")

    class Meta:
        model = CustomPayout
        fields = ["publisher", "goal", "countries", "min_sale_amount", "payout", "revenue"]
        labels = {"goal": "Goal (empty: every goal)", "min_sale_amount": "Min sale amount"}

    def __init__(
        self, *args: Any, offer: Offer, choices: dict[str, list[Any]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offer = offer
        goal: Any = self.fields["goal"]
        goal.queryset = offer.goals.all() if offer.pk else Goal.objects.none()
        publisher: Any = self.fields["publisher"]
        publisher.queryset = Publisher.objects.order_by("name")
        # The options a formset read once for all its rows (validation still checks the
        # queryset): without them each row's two selects read their tables again.
        for name, options in (choices or {}).items():
            self.fields[name].choices = options  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        goals = list(self.offer.goals.all()) if self.offer.pk else []
        try:
            unit = custom_payout_unit(goal=cleaned.get("goal"), goals=goals)
        except AmbiguousUnit as exc:
            self.add_error("goal", str(exc))
            return cleaned
        errors = price_errors(
            payout=cleaned.get("payout"), revenue=cleaned.get("revenue"), percent=unit == PERCENT
        )
        for name, message in errors.items():
            self.add_error(name, message)
        if (cleaned.get("min_sale_amount") or 0) < 0:
            self.add_error("min_sale_amount", "Must be zero or more.")
        return cleaned


class _CustomPayouts(forms.BaseInlineFormSet):  # type: ignore[type-arg]
    """Custom payout rows share one read of the publisher and goal options (two queries per
    page, not two per row and the blank row)."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "offer": self.instance, "choices": self._shared_choices}

    @cached_property
    def _shared_choices(self) -> dict[str, list[Any]]:
        probe = CustomPayoutForm(offer=self.instance)
        return {name: list(probe.fields[name].choices) for name in ("publisher", "goal")}  # type: ignore[attr-defined]


CustomPayoutFormSet: Any = inlineformset_factory(
    Offer, CustomPayout, form=CustomPayoutForm, formset=_CustomPayouts, extra=1, can_delete=True
)


class ReportingCurrencyForm(forms.Form):
    """An account's reporting currency: blank (the network's base) or one with stored rates
    (affiliates.reporting_currency; the API checks the same)."""

    reporting_currency = forms.CharField(label="Reporting currency", required=False, max_length=10)

    def __init__(self, *args: Any, network: str, choices: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reporting_currency"].widget = forms.Select(
            choices=[("", f"The network's base currency ({network})"), *((c, c) for c in choices)]
        )
        self.fields["reporting_currency"].help_text = (
            "Dashboards and reports total money in it, at the stored exchange rates; "
            "each total's breakdown by currency stays one click away."
        )

    def clean_reporting_currency(self) -> str:
        try:
            return reporting_currency_check(self.cleaned_data.get("reporting_currency") or "")
        except ReportingCurrencyRefused as exc:
            self.refused = exc
            raise forms.ValidationError(exc.message, code=exc.code) from exc
