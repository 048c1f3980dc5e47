"""Automation rules: watch one slice of traffic in the report rollups and act on it.

A rule names a scope (what is measured and acted on), a metric compared with a threshold over
a rolling window of hours, a minimum volume, an action, a cooldown and a check frequency.
Each firing is stored with the window and the numbers seen; the unique constraint on (rule,
target, window start) makes a window fire at most once however often it is checked. Firings
that changed something keep the state before and after, so they can be undone.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from affiliates.models import Advertiser, Cap, Creative, Offer, Publisher
from affiliates.validators import validate_plain_url


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Scope(models.TextChoices):
    # A new kind adds a value here, a nullable foreign key below and a branch in
    # automation.targets (and, if it has its own rollup, in automation.selectors).
    OFFER = "offer", "An offer"
    PUBLISHER = "publisher", "A publisher on an offer"
    CREATIVE = "creative", "A creative of an offer"
    VARIANT = "variant", "An A/B test variant (landing page or creative) of an offer"
    SUB_ID = "sub_id", "A sub id (sub1) on an offer"
    SMART_PATH = "smart_path", "A smart link's path to the offer"
    SOURCE = "source", "A traffic source on an offer"


class Metric(models.TextChoices):
    CPA = "cpa", "CPA (cost per conversion)"
    CVR = "cvr", "CVR (% of clicks converting)"
    CPC = "cpc", "CPC (cost per click)"
    EPC = "epc", "EPC (publisher earnings per click)"
    ROAS = "roas", "ROAS (sale amount / cost)"
    MARGIN = "margin", "Margin (revenue - payout)"
    CLICKS = "clicks", "Clicks"
    CONVERSIONS = "conversions", "Conversions"
    FRAUD_SHARE = "fraud_share", "Fraud share (% of traffic flagged)"


class Comparison(models.TextChoices):
    GT = "gt", "is above"
    GTE = "gte", "is at least"
    LT = "lt", "is below"
    LTE = "lte", "is at most"


class Action(models.TextChoices):
    PAUSE = "pause", "Pause it"
    RESUME = "resume", "Resume it"
    SET_CAP = "set_cap", "Change a cap"
    SET_WEIGHT = "set_weight", "Change a weight (a smart link's path or an A/B variant)"
    ALERT = "alert", "Alert only (e-mail and in-app)"
    WEBHOOK = "webhook", "Call a webhook"


class Rule(models.Model):
    name = models.CharField(max_length=200, help_text="What the rule is for, shown in lists and alerts.")
    advertiser = models.ForeignKey(
        Advertiser,
        on_delete=models.CASCADE,
        related_name="automation_rules",
        help_text="Whose offer it watches (set from the offer).",
    )
    scope = models.CharField(max_length=16, choices=Scope.choices, help_text="What is measured and acted on.")
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="automation_rules")
    publisher = models.ForeignKey(
        Publisher,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Scope publisher: required for it, narrows creative, sub id and source scopes.",
    )
    creative = models.ForeignKey(
        Creative, null=True, blank=True, on_delete=models.CASCADE, related_name="automation_rules"
    )
    variant = models.ForeignKey(
        "tracking.AbVariant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="automation_rules",
        help_text="Scope variant: a variant of an A/B test on the offer.",
    )
    smart_path = models.ForeignKey(
        "tracking.SmartPath",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="automation_rules",
        help_text="Scope smart_path: a path of a smart link that sends traffic to the offer.",
    )
    sub1 = models.CharField(
        max_length=255, blank=True, help_text="Scope sub_id (and optionally creative): the sub1 value."
    )
    source = models.CharField(
        max_length=255,
        blank=True,
        help_text="Scope source: the click's traffic source (the source parameter), exactly as sent.",
    )
    metric = models.CharField(max_length=16, choices=Metric.choices)
    comparison = models.CharField(max_length=4, choices=Comparison.choices)
    threshold = models.DecimalField(
        max_digits=20,
        decimal_places=6,
        help_text=(
            "In the offer's currency for CPA, CPC, EPC and margin; a percentage for CVR and fraud share."
        ),
    )
    window_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1)],
        help_text="The rolling window: this many UTC hours up to and including the current one.",
    )
    min_clicks = models.PositiveIntegerField(default=0, help_text="Clicks in the window before it may fire.")
    min_conversions = models.PositiveIntegerField(
        default=0, help_text="Conversions in the window before it may fire."
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    cap_metric = models.CharField(max_length=16, choices=Cap.Metric.choices, blank=True)
    cap_period = models.CharField(max_length=8, choices=Cap.Period.choices, blank=True)
    cap_limit = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True, help_text="set_cap: the new limit."
    )
    weight = models.PositiveIntegerField(
        null=True, blank=True, help_text="set_weight: the path's or variant's new relative weight."
    )
    webhook_url = models.CharField(max_length=2000, blank=True, validators=[validate_plain_url])
    webhook_secret = models.CharField(
        max_length=64, default=new_webhook_secret, help_text="Signs webhook bodies (X-Affnet-Signature)."
    )
    notify = models.BooleanField(
        default=True, help_text="Also alert the advertiser's users by e-mail and in-app when it fires."
    )
    cooldown_minutes = models.PositiveIntegerField(
        default=60, help_text="After a firing, the rule stays quiet this long."
    )
    check_every_minutes = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1)], help_text="How often it is checked."
    )
    is_active = models.BooleanField(default=True)
    next_check_at = models.DateTimeField(default=timezone.now, help_text="When it is next due.")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=255, blank=True, help_text="What the last check found.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["next_check_at"], name="rule_due", condition=Q(is_active=True))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope="publisher") | Q(publisher__isnull=False), name="rule_publisher_scope"
            ),
            models.CheckConstraint(
                condition=~Q(scope="creative") | Q(creative__isnull=False), name="rule_creative_scope"
            ),
            models.CheckConstraint(
                condition=~Q(scope="variant") | Q(variant__isnull=False), name="rule_variant_scope"
            ),
            models.CheckConstraint(condition=~Q(scope="sub_id") | ~Q(sub1=""), name="rule_sub_id_scope"),
            models.CheckConstraint(condition=~Q(scope="source") | ~Q(source=""), name="rule_source_scope"),
            models.CheckConstraint(
                condition=~Q(scope="smart_path") | Q(smart_path__isnull=False), name="rule_smart_path_scope"
            ),
            models.CheckConstraint(
                condition=~Q(action="set_weight")
                | (Q(weight__isnull=False) & Q(scope__in=["smart_path", "variant"])),
                name="rule_set_weight",
            ),
            models.CheckConstraint(
                condition=~Q(action="set_cap") | Q(cap_limit__gte=Decimal(0)), name="rule_cap_limit"
            ),
            models.CheckConstraint(
                condition=~Q(action="webhook") | ~Q(webhook_url=""), name="rule_webhook_url"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Firing(models.Model):
    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings")
    target = models.CharField(max_length=64, help_text="What was acted on: <kind>:<id>.")
    window_start = models.DateTimeField(help_text="First UTC hour of the window.")
    window_end = models.DateTimeField(help_text="End of the window (exclusive).")
    metric_value = models.DecimalField(max_digits=24, decimal_places=6)
    values = models.JSONField(default=dict, help_text="Every metric of the window, as decimal strings.")
    action = models.CharField(max_length=12, choices=Action.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.DONE)
    detail = models.CharField(max_length=255, blank=True, help_text="What the action did, in words.")
    before = models.JSONField(default=dict, help_text="The state it changed, as it was (for undo).")
    after = models.JSONField(default=dict, help_text="The state it set.")
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undo_detail = models.CharField(max_length=255, blank=True, help_text="What undoing restored.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Idempotency: checking a window twice (two beat ticks, a retried task) fires once.
            models.UniqueConstraint(fields=["rule", "target", "window_start"], name="firing_once_per_window"),
        ]
        indexes = [models.Index(fields=["rule", "created_at"], name="firing_rule_time")]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.target}@{self.window_start:%Y-%m-%dT%H}"

    @property
    def undoable(self) -> bool:
        return self.undone_at is None and self.outcome == self.Outcome.DONE and bool(self.before)


class WebhookDelivery(models.Model):
    """A firing's webhook call: JSON, signed, retried with the publisher postbacks' backoff."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    firing = models.OneToOneField(Firing, on_delete=models.CASCADE, related_name="webhook")
    url = models.CharField(max_length=2000)
    body = models.TextField()
    signature = models.CharField(
        max_length=64, help_text="Hex HMAC-SHA256 of the body with the rule's secret."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], name="rule_webhook_due", condition=Q(status="pending"))
        ]
