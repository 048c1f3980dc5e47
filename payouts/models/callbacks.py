"""Callbacks (the contract's "publisher postbacks"): the URLs a publisher wants called, each call
we owe, and each try. In code they are callbacks, so they never share a word with the advertiser
postbacks that tracking receives; the tables keep the names they were created with.

- ``CallbackEndpoint``: a URL template, global to the publisher or narrowed to one offer or one
  goal. For a commission, the most specific active endpoint is the only one considered (as in
  Everflow): a per-offer URL *replaces* the global one for that offer, so an offer's events
  never end up split across two of the publisher's trackers. It fires only for the events it
  subscribes to.
- ``CallbackDelivery``: one call owed for (endpoint, commission, event). ``key`` is unique, so
  firing the same event twice owes nothing new. The URL is rendered when fired, so what is sent
  is the state at the event, however late the delivery succeeds.
- ``CallbackAttempt``: append-only log of every HTTP try, which the publisher can read.

Webhook subscriptions (``payouts.models.webhooks``) reuse the deliveries and attempts: a
delivery with ``subscription`` set is a signed JSON event for an integrator, not a postback.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

# Retries stop this long after the event was fired (contract section 5).
DELIVERY_WINDOW = timedelta(hours=24)


class CallbackEvent(models.TextChoices):
    CREATED = "created", "Commission created"
    APPROVED = "approved", "Commission approved"
    REVERSED = "reversed", "Commission reversed"
    TEST = "test", "Test fire"


class CallbackEndpoint(models.Model):
    class Method(models.TextChoices):
        GET = "GET"
        POST = "POST"

    publisher = models.ForeignKey(
        "affiliates.Publisher", on_delete=models.CASCADE, related_name="callback_endpoints"
    )
    offer = models.ForeignKey(
        "affiliates.Offer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    goal = models.ForeignKey(
        "affiliates.Goal", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Vetted by payouts.callbacks (services and admin form) with validate_callback_url, which the
    # models cannot import: the callbacks package depends on the models, not the other way round.
    url = models.CharField(max_length=2000)
    method = models.CharField(
        max_length=4,
        choices=Method.choices,
        default=Method.GET,
        help_text=(
            "GET: the URL with its macros filled in. POST: the same, plus every macro value "
            "form-encoded in the body."
        ),
    )
    on_created = models.BooleanField(default=True)
    on_approved = models.BooleanField(default=False)
    on_reversed = models.BooleanField(default=False)
    is_active = models.BooleanField(
        default=True,
        help_text="Inactive endpoints fire nothing, and their deliveries still owed are given up.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, help_text="When it was created.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When it was last changed.")

    class Meta:
        db_table = "payouts_postbackendpoint"
        ordering = ["publisher_id", "id"]
        constraints = [
            # A goal-level endpoint also names its offer, so lookups by offer stay simple.
            models.CheckConstraint(
                condition=Q(goal__isnull=True) | Q(offer__isnull=False), name="postback_goal_has_offer"
            ),
            models.UniqueConstraint(
                fields=["publisher"],
                condition=Q(offer__isnull=True, goal__isnull=True),
                name="postback_one_global_per_publisher",
                violation_error_code="duplicate_postback",
                violation_error_message="This publisher already has a global postback.",
            ),
            models.UniqueConstraint(
                fields=["publisher", "offer"],
                condition=Q(offer__isnull=False, goal__isnull=True),
                name="postback_one_per_offer",
                violation_error_code="duplicate_postback",
                violation_error_message="This publisher already has a postback for this offer.",
            ),
            models.UniqueConstraint(
                fields=["publisher", "goal"],
                condition=Q(goal__isnull=False),
                name="postback_one_per_goal",
                violation_error_code="duplicate_postback",
                violation_error_message="This publisher already has a postback for this goal.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} postback #{self.pk} of publisher {self.publisher_id}"

    @property
    def scope(self) -> str:
        if self.goal_id:
            return "goal"
        return "offer" if self.offer_id else "global"

    def fires_on(self, event: str) -> bool:
        return bool(getattr(self, f"on_{event}", False))

    @property
    def events(self) -> list[str]:
        return [e for e in ("created", "approved", "reversed") if self.fires_on(e)]


class CallbackDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending (queued or waiting to retry)"
        DELIVERED = "delivered"
        FAILED = "failed", "Failed (given up)"

    key = models.CharField(
        max_length=128, unique=True, help_text="<endpoint>:<commission>:<event>, or wh:<subscription>:..."
    )
    endpoint = models.ForeignKey(
        CallbackEndpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        help_text="The endpoint it is for; null once that endpoint was deleted.",
    )
    subscription = models.ForeignKey(
        "payouts.WebhookSubscription",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        help_text="The webhook subscription it is for; null for a publisher postback.",
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="callback_deliveries",
        help_text="Publisher whose postback it is; null for webhook deliveries.",
    )
    offer = models.ForeignKey(
        "affiliates.Offer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Offer of the commission.",
    )
    commission = models.ForeignKey(
        "payouts.Commission",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Commission whose event it reports.",
    )
    event = models.CharField(
        max_length=40,
        help_text=(
            "Postbacks: created, approved or reversed commission, or test (a test fire). Webhooks: "
            "the event and what happened, e.g. commission.approved, click.recorded, test."
        ),
    )
    method = models.CharField(
        max_length=4, default="GET", help_text="GET or POST, as the endpoint was when fired."
    )
    url = models.CharField(max_length=4000, help_text="Rendered when fired.")
    body = models.TextField(blank=True, help_text="Form-encoded macro values, for POST endpoints.")
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.PENDING,
        help_text="pending (queued or waiting to retry), delivered (a 2xx answer) or failed (given up).",
    )
    attempts_count = models.PositiveIntegerField(
        default=0, help_text="HTTP tries so far, automatic and manual."
    )
    # When the next try is due. A worker claims a delivery by pushing this forward (a lease), so
    # two workers, or a duplicate task message, never try it at the same time.
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next automatic try is due; null when none is."
    )
    give_up_at = models.DateTimeField(
        help_text="Automatic retries stop at this time, 24 hours after the event."
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When the event fired.")
    delivered_at = models.DateTimeField(
        null=True, blank=True, help_text="When a try got a 2xx answer; null until then."
    )
    given_up_at = models.DateTimeField(
        null=True, blank=True, help_text="When retries stopped without success; null otherwise."
    )
    last_status_code = models.PositiveIntegerField(
        null=True, blank=True, help_text="HTTP status of the last try; null when it got no answer."
    )
    last_error = models.CharField(
        max_length=255,
        blank=True,
        help_text="Why the last try failed (timeout, refused address, HTTP error...).",
    )

    class Meta:
        db_table = "payouts_postbackdelivery"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "callback deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="postback_delivery_due", condition=Q(status="pending")
            ),
            models.Index(fields=["publisher", "created_at"], name="postback_delivery_pub_time"),
        ]
        constraints = [
            models.CheckConstraint(
                name="delivery_is_postback_or_webhook",
                condition=Q(subscription__isnull=True, publisher__isnull=False)
                | Q(subscription__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Postback delivery {self.key}"


class CallbackAttempt(models.Model):
    class Trigger(models.TextChoices):
        AUTO = "auto", "Automatic"
        RESEND = "resend", "Manual re-send"
        TEST = "test", "Test fire"

    delivery = models.ForeignKey(CallbackDelivery, on_delete=models.CASCADE, related_name="attempts")
    created_at = models.DateTimeField(default=timezone.now)
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.AUTO)
    method = models.CharField(max_length=4)
    url = models.CharField(max_length=4000)
    ip = models.CharField(max_length=64, blank=True, help_text="The vetted address connected to.")
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=1024, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error = models.CharField(max_length=255, blank=True)
    ok = models.BooleanField(default=False)

    class Meta:
        db_table = "payouts_postbackattempt"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Attempt #{self.pk} of {self.delivery_id}"
