"""Advertisers, publishers, offers, goals, custom payouts, caps, coupons and offer access.

Database constraints carry the invariants that money depends on (non-negative prices,
percentages within 0-100, one default goal, one link per offer x publisher), so no code path
can write a row that breaks them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from affiliates import validators as v
from affiliates.core.audit import AuditEntry as AuditEntry  # the audit log (every app logs to it)
from affiliates.core.money import CurrencyField, MoneyField, validate_currency
from affiliates.credentials import ApiKey  # noqa: F401  (imported here so Django registers it)
from affiliates.team_models import (  # noqa: F401  (registered here; the members' tables)
    AccountAssignment,
    AdvertiserMember,
    PublisherMember,
    StaffMember,
    TeamInvite,
)
from affiliates.tracking_domains import tracking_base_url

ZERO = Decimal("0")
HUNDRED = Decimal("100")


def new_link_token() -> str:
    # 16 random bytes, URL-safe: opaque and not derivable from ids (contract section 1).
    return secrets.token_urlsafe(16)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DocumentParty(models.Model):
    """Who documents are addressed to (payouts.documents), advertiser or publisher alike: printed
    on invoices and statements; the country and tax id decide the VAT treatment (reverse charge
    within the EU)."""

    legal_name = models.CharField(
        max_length=200, blank=True, help_text="Registered company name on documents; empty: the name."
    )
    address = models.TextField(
        blank=True, help_text="Postal address printed on documents, one line per line."
    )
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[v.validate_country],
        help_text="ISO 3166 alpha-2 country of registration; decides VAT treatment.",
    )
    tax_id = models.CharField(
        max_length=32,
        blank=True,
        validators=[v.validate_tax_id],
        help_text="VAT or tax id (EU VAT ids are checked, e.g. DE136695976).",
    )

    class Meta:
        abstract = True


class Advertiser(DocumentParty):
    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"
        SUSPENDED = "suspended"

    name = models.CharField(max_length=200, help_text="Company or brand name.")
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.ACTIVE,
        help_text="Paused or suspended advertisers' postbacks are refused.",
    )
    currency = CurrencyField(default="USD", help_text="Default currency of new offers (ISO 4217).")
    reporting_currency = models.CharField(
        max_length=3,
        blank=True,
        default="",
        validators=[validate_currency],
        help_text="Currency dashboards and reports total in (ISO 4217); blank: the network's base currency.",
    )
    # Only a digest of the postback token is kept: it is shown once, at creation or rotation.
    postback_token_digest = models.CharField(max_length=64, unique=True, editable=False)
    postback_token_hint = models.CharField(
        max_length=8, editable=False, help_text="First characters of the postback token, to recognise it."
    )
    # The HMAC secret must stay readable to verify signatures, so it is stored as is.
    hmac_secret = models.CharField(
        max_length=64, default=new_secret, editable=False, help_text="Key for HMAC-signed postbacks."
    )
    ip_allowlist = models.JSONField(
        default=list,
        blank=True,
        validators=[v.validate_cidr_list],
        help_text="IP addresses or CIDR ranges allowed to post conversions; empty allows any.",
    )
    # The key of the HMAC that customer ids are stored as (tracking/conversions/customers.py).
    # Never shown and never rotated: a new key would make every known customer look new.
    customer_key = models.CharField(max_length=64, default=new_secret, editable=False)
    value_horizon_days = models.PositiveSmallIntegerField(
        choices=[(0, "First order"), (90, "90 days"), (180, "180 days")],
        default=0,
        help_text=(
            "What the effect score counts as a conversion's value: 0 the first order only, or 90 / 180 days "
            "of the customer's orders (from the customer-value reports)."
        ),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        through=AdvertiserMember,
        related_name="advertisers",
        help_text="Users who act for this advertiser, each with a team role.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, help_text="When it was created.")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def document_name(self) -> str:
        return self.legal_name or self.name

    def rotate_postback_token(self) -> str:
        """Set a fresh postback token and return it; the caller shows it once."""
        token = secrets.token_urlsafe(24)
        self.postback_token_digest = token_digest(token)
        self.postback_token_hint = token[:6]
        return token

    def rotate_hmac_secret(self) -> str:
        self.hmac_secret = new_secret()
        return self.hmac_secret


class Publisher(DocumentParty):
    class Status(models.TextChoices):
        PENDING = "pending"
        ACTIVE = "active"
        SUSPENDED = "suspended"
        REJECTED = "rejected"

    class PayoutMethod(models.TextChoices):
        WIRE = "wire", "Bank wire"
        PAYPAL = "paypal", "PayPal"
        ACH = "ach", "ACH"
        SEPA = "sepa", "SEPA transfer"
        CRYPTO = "crypto", "Crypto"
        CHECK = "check", "Check"

    name = models.CharField(max_length=200, help_text="Company or trading name.")
    email = models.EmailField(help_text="Contact address for account and payment notices.")
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.PENDING,
        help_text="Only active publishers earn; changed by the network's approve/reject/suspend actions.",
    )
    website = models.URLField(blank=True, help_text="Main site or traffic source.")
    payout_method = models.CharField(
        max_length=16,
        choices=PayoutMethod.choices,
        default=PayoutMethod.PAYPAL,
        help_text="How the network pays this publisher.",
    )
    payout_details = models.JSONField(
        default=dict, blank=True, help_text="Method-specific details: account, IBAN, PayPal email, wallet."
    )
    payout_currency = CurrencyField(default="USD", help_text="Currency payouts are made in (ISO 4217).")
    reporting_currency = models.CharField(
        max_length=3,
        blank=True,
        default="",
        validators=[validate_currency],
        help_text="Currency dashboards and reports total in (ISO 4217); blank: the network's base currency.",
    )
    minimum_payout = MoneyField(
        default=Decimal("50"), help_text="Balance below which a payout run carries the amount forward."
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        through=PublisherMember,
        related_name="publishers",
        help_text="Users who act for this publisher, each with a team role.",
    )
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who last changed the status.",
    )
    status_changed_at = models.DateTimeField(null=True, blank=True, help_text="When the status last changed.")
    created_at = models.DateTimeField(default=timezone.now, editable=False, help_text="When it signed up.")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(minimum_payout__gte=0), name="publisher_min_payout_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def document_name(self) -> str:
        return self.legal_name or self.name

    @property
    def has_payout_details(self) -> bool:
        """Something to pay to: a payout run holds the publisher's money until there is."""
        return any(str(value).strip() for value in (self.payout_details or {}).values())


class Offer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"
        EXPIRED = "expired"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public (instant access)"
        APPROVAL = "approval", "Requires approval"
        PRIVATE = "private", "Private (invite only)"

    class Attribution(models.TextChoices):
        LAST_CLICK = "last_click"
        FIRST_CLICK = "first_click"

    class SlowConversion(models.TextChoices):
        REJECT = "reject", "Rejected"
        HOLD = "hold", "Held for review"

    advertiser = models.ForeignKey(
        Advertiser, on_delete=models.PROTECT, related_name="offers", help_text="Who runs and pays for it."
    )
    name = models.CharField(max_length=200, help_text="Shown to publishers.")
    description = models.TextField(blank=True, help_text="Terms, allowed traffic, creatives.")
    category = models.CharField(max_length=64, blank=True, db_index=True, help_text="Vertical, e.g. retail.")
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.ACTIVE,
        help_text="Clicks on a paused or expired offer go to its fallback.",
    )
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Live from (UTC); empty: at once.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Live until (UTC); empty: no end.")
    visibility = models.CharField(
        max_length=16,
        choices=Visibility.choices,
        default=Visibility.APPROVAL,
        help_text="public: instant access; approval: publishers apply; private: invitation only.",
    )
    landing_url = models.CharField(
        max_length=2000,
        validators=[v.validate_landing_url],
        help_text="http(s) URL; macros {click_id} {offer_id} {publisher_id} {sub1}..{sub5} {source}.",
    )
    preview_url = models.CharField(
        max_length=2000,
        blank=True,
        validators=[v.validate_plain_url],
        help_text="A page publishers may look at without creating a click.",
    )
    deep_links_allowed = models.BooleanField(
        default=False, help_text="Honour a click's url= parameter when its host is an allowed domain."
    )
    allowed_domains = models.JSONField(
        default=list,
        blank=True,
        validators=[v.validate_domain_list],
        help_text="Hosts deep links may go to; a leading '*.' allows subdomains.",
    )
    fallback_offer = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Offer that takes clicks this offer cannot (paused, capped, geo...).",
    )
    fallback_url = models.CharField(
        max_length=2000,
        blank=True,
        validators=[v.validate_plain_url],
        help_text="URL for clicks this offer cannot take, when there is no fallback offer.",
    )
    currency = CurrencyField(default="USD", help_text="Currency of prices and reports (ISO 4217).")
    attribution_window_days = models.PositiveIntegerField(
        default=30, help_text="Days after a click during which a conversion is attributed to it."
    )
    attribution_model = models.CharField(
        max_length=16,
        choices=Attribution.choices,
        default=Attribution.LAST_CLICK,
        help_text="Which of a visitor's clicks wins the conversion.",
    )
    hold_days = models.PositiveIntegerField(
        default=0, help_text="Days a conversion stays pending before it can be paid (refund period)."
    )
    unique_click_window_hours = models.PositiveIntegerField(
        default=24, help_text="A repeat click from the same visitor within this window is not unique."
    )
    min_click_to_conversion_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Faster conversions are flagged as suspicious."
    )
    max_click_to_conversion_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Slower conversions are rejected (or held for review: see slow_conversion_action).",
    )
    slow_conversion_action = models.CharField(
        max_length=8,
        choices=SlowConversion.choices,
        default=SlowConversion.REJECT,
        help_text=(
            "What happens to a conversion slower than max_click_to_conversion_seconds: reject "
            "(rejected, reason click_to_conversion_too_slow) or hold (pending, held for review)."
        ),
    )
    max_sale_amount = MoneyField(
        null=True,
        blank=True,
        help_text=(
            "Largest sale amount a postback may report, in the offer's currency; a larger one is "
            "refused with 400 amount_over_max. Empty: the network's CONVERSION_MAX_SALE_AMOUNT."
        ),
    )
    target_countries = models.JSONField(
        default=list,
        blank=True,
        validators=[v.validate_country_list],
        help_text="ISO 3166 alpha-2 codes accepted; empty accepts every country.",
    )
    target_devices = models.JSONField(
        default=list,
        blank=True,
        validators=[v.validate_device_list],
        help_text="desktop, mobile, tablet, other; empty accepts every device.",
    )
    target_os = models.JSONField(
        default=list,
        blank=True,
        validators=[v.validate_os_list],
        help_text="windows, macos, linux, android, ios, chromeos, other; empty accepts all.",
    )
    allowed_traffic = models.JSONField(
        default=list,
        blank=True,
        validators=[v.validate_traffic_list],
        help_text=(
            "Traffic sources publishers may use (content, coupon, cashback, email, search, "
            "brand_bidding, social, display, native, push, pop, incentivized, sms); empty: not stated."
        ),
    )
    terms = models.TextField(
        blank=True,
        help_text="Rules publishers accept when running the offer: forbidden methods, brand use, payout.",
    )
    # Measurement beyond last click (issue 15). Payouts stay on attribution_model; these add
    # view-through conversions and optional assist commissions (payouts/journeys/).
    view_through_enabled = models.BooleanField(
        default=False,
        help_text=(
            "Attribute a conversion with no click to the visitor's latest impression within "
            "view_through_window_hours (labelled view-through); impressions also join journeys."
        ),
    )
    view_through_window_hours = models.PositiveIntegerField(
        default=24, help_text="How long after an impression a click-less conversion is view-through."
    )
    view_through_goal = models.SlugField(
        max_length=64,
        blank=True,
        help_text="Code of the goal whose price view-through conversions get; empty: the reported goal.",
    )
    assist_enabled = models.BooleanField(
        default=False,
        help_text="Publishers who touched a conversion but did not close it earn assist_payout each.",
    )
    assist_payout = MoneyField(default=0, help_text="What each assisting publisher earns per conversion.")
    assist_revenue = MoneyField(default=0, help_text="What the advertiser pays per assist.")
    assist_daily_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most assists one publisher earns on this offer per UTC day; empty: no cap.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, help_text="When it was created.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When it was last changed.")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="offer_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(max_click_to_conversion_seconds__isnull=True)
                | Q(min_click_to_conversion_seconds__isnull=True)
                | Q(max_click_to_conversion_seconds__gte=models.F("min_click_to_conversion_seconds")),
                name="offer_ctc_max_gte_min",
            ),
            models.CheckConstraint(
                condition=Q(max_sale_amount__isnull=True) | Q(max_sale_amount__gt=0),
                name="offer_max_sale_amount_gt_0",
            ),
            models.CheckConstraint(
                condition=Q(assist_payout__gte=0) & Q(assist_revenue__gte=0),
                name="offer_assist_amounts_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_live(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return (
            self.status == self.Status.ACTIVE
            and (self.starts_at is None or self.starts_at <= at)
            and (self.ends_at is None or at < self.ends_at)
        )


class Goal(models.Model):
    class PayoutType(models.TextChoices):
        CPC = "cpc", "CPC (per click)"
        CPM = "cpm", "CPM (per 1000 impressions)"
        CPL = "cpl", "CPL (per lead)"
        CPA = "cpa", "CPA (per action)"
        CPS = "cps", "CPS (% of sale)"
        CPI = "cpi", "CPI (per install)"

    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, related_name="goals", help_text="The offer this goal belongs to."
    )
    code = models.SlugField(max_length=64, help_text="Sent as goal= in postbacks; unique per offer.")
    name = models.CharField(max_length=200, help_text="Shown in reports.")
    payout_type = models.CharField(
        max_length=8, choices=PayoutType.choices, help_text="cpc, cpm, cpl, cpa, cps (percent) or cpi."
    )
    payout = MoneyField(help_text="Publisher earns: an amount per action (per 1000 for CPM), or % for CPS.")
    revenue = MoneyField(help_text="Advertiser pays: an amount per action (per 1000 for CPM), or % for CPS.")
    is_default = models.BooleanField(
        default=False, help_text="Used when a postback names no goal; exactly one per offer."
    )
    allow_multiple = models.BooleanField(
        default=False, help_text="One click may convert more than once on this goal."
    )

    class Meta:
        ordering = ["offer_id", "-is_default", "id"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "code"], name="goal_unique_code_per_offer"),
            models.UniqueConstraint(
                fields=["offer"], condition=Q(is_default=True), name="goal_one_default_per_offer"
            ),
            models.CheckConstraint(condition=Q(payout__gte=0) & Q(revenue__gte=0), name="goal_amounts_gte_0"),
            models.CheckConstraint(
                condition=~Q(payout_type="cps") | (Q(payout__lte=100) & Q(revenue__lte=100)),
                name="goal_cps_percent_lte_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id}:{self.code}"

    @property
    def is_percentage(self) -> bool:
        return self.payout_type == self.PayoutType.CPS


class CustomPayout(models.Model):
    """A publisher-specific price for an offer (every goal) or one goal, optionally per country."""

    publisher = models.ForeignKey(
        Publisher, on_delete=models.CASCADE, related_name="custom_payouts", help_text="Who gets this price."
    )
    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, related_name="custom_payouts", help_text="The offer it applies to."
    )
    goal = models.ForeignKey(
        Goal,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="One goal of the offer; empty applies to every goal.",
    )
    countries = models.JSONField(
        default=list,
        blank=True,
        validators=[v.validate_country_list],
        help_text="Only for conversions from these ISO alpha-2 countries; empty: any country.",
    )
    min_sale_amount = MoneyField(
        null=True,
        blank=True,
        help_text=(
            "Only for conversions whose sale amount (in the offer's currency) is at least this; "
            "empty: any amount. The highest threshold met wins, so tiers are one row each."
        ),
    )
    payout = MoneyField(
        help_text="Publisher earns: an amount per action for per-action goals, a percentage for CPS goals."
    )
    revenue = MoneyField(
        null=True,
        blank=True,
        help_text="Advertiser pays, in the same unit as payout; empty keeps the goal's revenue.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, help_text="When it was created.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(payout__gte=0) & (Q(revenue__isnull=True) | Q(revenue__gte=0)),
                name="custom_payout_amounts_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(min_sale_amount__isnull=True) | Q(min_sale_amount__gte=0),
                name="custom_payout_min_sale_gte_0",
            ),
        ]

    def __str__(self) -> str:
        goal = f" goal {self.goal_id}" if self.goal_id else ""
        return f"Custom payout {self.payout} for publisher {self.publisher_id} on offer {self.offer_id}{goal}"


class Cap(models.Model):
    """A limit on clicks, conversions, payout or revenue in a calendar day, week or month (UTC)."""

    class Metric(models.TextChoices):
        CLICKS = "clicks"
        CONVERSIONS = "conversions"
        PAYOUT = "payout"
        REVENUE = "revenue"

    class Period(models.TextChoices):
        DAY = "day"
        WEEK = "week"
        MONTH = "month"

    class Scope(models.TextChoices):
        OFFER = "offer", "Whole offer"
        EACH_PUBLISHER = "each_publisher", "Each publisher"

    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, related_name="caps", help_text="The offer this cap limits."
    )
    metric = models.CharField(
        max_length=16,
        choices=Metric.choices,
        help_text="What is counted: clicks, conversions, payout, revenue.",
    )
    period = models.CharField(
        max_length=8, choices=Period.choices, help_text="Calendar day, ISO week or month, in UTC."
    )
    scope = models.CharField(
        max_length=16,
        choices=Scope.choices,
        default=Scope.OFFER,
        help_text="offer: one total for everyone; each_publisher: the limit applies to each publisher.",
    )
    publisher = models.ForeignKey(
        Publisher,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Set to cap one publisher only (overrides an each-publisher cap).",
    )
    limit = MoneyField(help_text="A count (clicks, conversions) or an amount in the offer's currency.")

    class Meta:
        ordering = ["offer_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(limit__gte=0), name="cap_limit_gte_0"),
            # Two partial indexes instead of NULLS NOT DISTINCT, which SQLite lacks: one rule per
            # (offer, metric, period, scope) for everyone, and one per publisher.
            models.UniqueConstraint(
                fields=["offer", "metric", "period", "scope"],
                condition=Q(publisher__isnull=True),
                name="cap_unique_rule",
            ),
            models.UniqueConstraint(
                fields=["offer", "metric", "period", "scope", "publisher"],
                condition=Q(publisher__isnull=False),
                name="cap_unique_publisher_rule",
            ),
        ]

    def __str__(self) -> str:
        who = f" for publisher {self.publisher_id}" if self.publisher_id else f" ({self.scope})"
        return f"Offer {self.offer_id} cap: {self.limit} {self.metric} per {self.period}{who}"


class Coupon(models.Model):
    """A code assigned to a publisher that attributes conversions without a click."""

    code = models.CharField(
        max_length=64, unique=True, help_text="The code shoppers enter; sent as coupon= in postbacks."
    )
    publisher = models.ForeignKey(
        Publisher, on_delete=models.CASCADE, related_name="coupons", help_text="Who gets the credit."
    )
    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, related_name="coupons", help_text="The offer it is valid for."
    )
    active = models.BooleanField(default=True, help_text="Inactive codes no longer attribute conversions.")
    created_at = models.DateTimeField(default=timezone.now, editable=False, help_text="When it was created.")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class OfferAccess(models.Model):
    """A publisher's application to an offer and, once approved, its tracking link token."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, related_name="accesses", help_text="The offer applied for."
    )
    publisher = models.ForeignKey(
        Publisher, on_delete=models.CASCADE, related_name="accesses", help_text="The publisher applying."
    )
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.PENDING,
        help_text="Only approved access lets clicks through to the offer.",
    )
    token = models.CharField(
        max_length=64,
        unique=True,
        default=new_link_token,
        editable=False,
        help_text="Opaque tracking-link token: /c/{token}.",
    )
    note = models.TextField(blank=True, help_text="The publisher's traffic description, or the reason.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who approved or rejected it (empty for instant access to a public offer).",
    )
    decided_at = models.DateTimeField(null=True, blank=True, help_text="When it was approved or rejected.")
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, help_text="When it was applied for."
    )

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "offer accesses"
        constraints = [
            models.UniqueConstraint(fields=["offer", "publisher"], name="access_one_per_offer_publisher"),
        ]

    def __str__(self) -> str:
        return f"{self.publisher_id}@{self.offer_id}"

    def tracking_url(self) -> str:
        """On the publisher's or advertiser's verified tracking domain, else SITE_URL."""
        base = tracking_base_url(publisher_id=self.publisher_id, advertiser_id=self.offer.advertiser_id)
        return f"{base}/c/{self.token}"


class Creative(models.Model):
    """Ad material an advertiser provides for an offer: a banner, a text link, HTML or an email."""

    class Kind(models.TextChoices):
        BANNER = "banner", "Banner image"
        TEXT = "text", "Text link"
        HTML = "html", "HTML snippet"
        EMAIL = "email", "Email copy"

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="creatives")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    image_url = models.CharField(max_length=2000, blank=True, validators=[v.validate_plain_url])
    body = models.TextField(blank=True, help_text="Text, HTML or email body; {tracking_link} is replaced.")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["offer_id", "kind", "name", "id"]
        constraints = [
            # A banner without an image, or any other kind without a body, shows nothing.
            models.CheckConstraint(
                condition=(Q(kind="banner") & ~Q(image_url="")) | (~Q(kind="banner") & ~Q(body="")),
                name="creative_has_content",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}" if self.width and self.height else ""

    def render_for(self, tracking_url: str) -> str:
        """The snippet a publisher pastes: the body with the link filled in, or an <a><img> tag."""
        from django.utils.html import escape

        if self.kind == self.Kind.BANNER:
            size = f' width="{self.width}" height="{self.height}"' if self.size else ""
            return (
                f'<a href="{escape(tracking_url)}"><img src="{escape(self.image_url)}"{size} '
                f'alt="{escape(self.name)}"></a>'
            )
        return self.body.replace("{tracking_link}", tracking_url)


# Exchange rates. A sale in another currency is converted at the rate in force at the
# conversion's time: the latest row with valid_from <= that time. They live here, at the bottom,
# because tracking converts sale amounts at intake and payouts converts balances at payout time.


class FxRate(models.Model):
    base = CurrencyField(help_text="1 unit of this currency...")
    quote = CurrencyField(help_text="...is worth `rate` of this one.")
    rate = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        help_text="Units of quote one unit of base is worth; positive, up to 10 decimal places.",
    )
    valid_from = models.DateTimeField(
        default=timezone.now,
        help_text=(
            "In force from this time until the pair's next rate: an amount is converted at the rate in force"
            " at its conversion's time."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, help_text="When it was entered.")

    class Meta:
        # The table keeps the name it was created with in payouts: the model moved down so that
        # tracking can convert sale amounts without importing payouts (no rows moved).
        db_table = "payouts_fxrate"
        ordering = ["base", "quote", "-valid_from"]
        verbose_name = "FX rate"
        constraints = [
            models.UniqueConstraint(fields=["base", "quote", "valid_from"], name="fx_unique_pair_time"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="fx_rate_gt_0"),
            models.CheckConstraint(condition=~Q(base=models.F("quote")), name="fx_distinct_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.base}/{self.quote} {self.rate} from {self.valid_from:%Y-%m-%d}"


class NetworkTerms(models.Model):
    """The network's own terms, one row (pk 1), set by staff in the admin or the API.

    ``minimum_payout`` is the floor under every publisher's own minimum: a publisher may ask for
    a higher threshold, never a lower one (checked when they save it, and again by the payout
    run, which uses the higher of the two)."""

    minimum_payout = MoneyField(
        default=Decimal("0"), help_text="The lowest minimum payout a publisher may choose."
    )
    minimum_payout_currency = CurrencyField(
        default="USD", help_text="Currency of the floor; converted at the rate in force to compare."
    )
    updated_at = models.DateTimeField(default=timezone.now, help_text="When staff last changed it.")

    class Meta:
        verbose_name = "network terms"
        verbose_name_plural = "network terms"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="network_terms_singleton"),
            models.CheckConstraint(condition=Q(minimum_payout__gte=0), name="network_terms_floor_gte_0"),
        ]

    def __str__(self) -> str:
        return f"Network terms (floor {self.minimum_payout} {self.minimum_payout_currency})"


# Registered with this app from its own module (general, extended by later work).
from affiliates.notifications import Notification as Notification  # noqa: E402
from affiliates.notifications import NotificationEmail as NotificationEmail  # noqa: E402
from affiliates.notifications import NotificationPreference as NotificationPreference  # noqa: E402
from affiliates.notifications import NotifiedEvent as NotifiedEvent  # noqa: E402
from affiliates.offer_targets import OfferTarget as OfferTarget  # noqa: E402
from affiliates.staff_notes import StaffNote as StaffNote  # noqa: E402
from affiliates.tracking_domains import TrackingDomain as TrackingDomain  # noqa: E402
