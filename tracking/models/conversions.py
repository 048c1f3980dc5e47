"""Conversions and their status events.

A conversion is the advertiser's claim that a goal happened. It is stored before the postback
is answered, whatever the verdict: rejected ones are kept for audit and earn nothing.
Status changes are appended as ConversionEvent rows; the conversion's own ``status`` is the
latest state, the events are the history (a reversal is an event, never an overwrite of it).
Conversions that payouts' reconciliation has yet to see are the ids in UnreconciledConversion.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from affiliates.core.money import CurrencyField, MoneyField
from tracking.reasons import SYSTEM_REJECTIONS


class ConversionStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVERSED = "reversed"


class ConversionQuerySet(models.QuerySet["Conversion"]):
    def with_reconciled(self) -> ConversionQuerySet:
        """Annotate ``reconciled``: payouts has brought its commission in line with it (it is not
        waiting in the reconciliation queue)."""
        waiting = UnreconciledConversion.objects.filter(conversion_id=OuterRef("pk"))
        return self.annotate(reconciled=~Exists(waiting))


class Conversion(models.Model):
    class Source(models.TextChoices):
        POSTBACK = "postback"
        PIXEL = "pixel"
        COUPON = "coupon"
        API = "api"

    created_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="When it was recorded.")
    source = models.CharField(
        max_length=16,
        choices=Source.choices,
        default=Source.POSTBACK,
        help_text=(
            "How it arrived: postback (server to server), pixel (the visitor's browser), coupon (a code, no "
            "click) or api."
        ),
    )
    # The advertiser that posted it (known from its credentials even when the click is not),
    # so an advertiser also sees its own rejected, unattributable postbacks.
    # advertiser, offer and publisher have no database constraint (db_constraint=False; Django's
    # PROTECT still holds): the intake takes each from a row it has just read (the credentials'
    # advertiser, the click's offer and publisher), and none of the three is ever deleted
    # through the API. Each constraint was a check plus a KEY SHARE lock on the same few parent
    # rows per inserted conversion, paid by every postback. The goal keeps its constraint: the
    # API deletes goals, and only the database closes the race between that deletion's PROTECT
    # check and a postback inserting for the goal meanwhile.
    advertiser = models.ForeignKey(
        "affiliates.Advertiser",
        null=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="conversions",
        db_index=False,  # conversion_adv_txn_all leads with advertiser_id
        help_text="Advertiser that reported it, known from its credentials even when the click is not.",
    )
    # Null only for rejected conversions that could not be attributed (unknown click).
    offer = models.ForeignKey(
        "affiliates.Offer",
        null=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="conversions",
        db_index=False,  # conversion_offer_time and conversion_unique_txn lead with offer_id
        help_text="Offer converted on; null only for rejected conversions that could not be attributed.",
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher",
        null=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="conversions",
        db_index=False,  # conversion_pub_time leads with publisher_id
        help_text="Publisher credited; null when it could not be attributed.",
    )
    goal = models.ForeignKey(
        "affiliates.Goal",
        null=True,
        on_delete=models.PROTECT,
        related_name="conversions",
        help_text="Goal reached; null when it could not be attributed.",
    )
    # No DB constraint: in production a click may still be in the Redis stream when its
    # conversion arrives; attribution reads it from there. No index: no query finds
    # conversions by click (reports join the other way, through the click's primary key, and
    # DO_NOTHING makes deleting a click look for none).
    click = models.ForeignKey(
        "tracking.Click",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="conversions",
    )
    click_time = models.DateTimeField(
        null=True, blank=True, help_text="When the attributed click happened; null for coupon conversions."
    )
    txn_id = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text=(
            "The advertiser's transaction id. When given, unique per offer and goal: a repeat is refused, "
            "and status updates find the conversion by it."
        ),
    )
    # "<click id>:<goal id>" for a conversion without txn_id on a goal that converts once per
    # click; NULL otherwise. Unique (conversion_unique_dedupe), so the database, not a
    # read-then-write race, refuses a second. A constraint rather than unique=True: on PostgreSQL
    # the field option adds a second, LIKE-pattern index that no query uses and every insert pays.
    # NULL, not "", for "no key": the unique constraint must let any number of those through.
    dedupe_key = models.CharField(max_length=80, null=True, blank=True)  # noqa: DJ001
    coupon = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The coupon code that attributed it (source coupon); empty otherwise.",
    )
    status = models.CharField(
        max_length=16,
        choices=ConversionStatus.choices,
        default=ConversionStatus.PENDING,
        help_text="pending, approved, rejected or reversed; each change is also appended to its events.",
    )
    reason = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text=(
            "Why it was rejected or held, as a code (unknown_click, cap_reached, window_expired, "
            "advertiser_rejected...); empty when accepted without remark."
        ),
    )
    amount = MoneyField(null=True, blank=True, help_text="Sale amount as reported.")
    currency = CurrencyField(
        blank=True, default="", help_text="ISO 4217 code of amount; empty means the offer's currency."
    )
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 country of the visitor.")
    sub1 = models.CharField(max_length=255, blank=True, help_text="The publisher's sub id 1, from the click.")
    sub2 = models.CharField(max_length=255, blank=True, help_text="The publisher's sub id 2, from the click.")
    sub3 = models.CharField(max_length=255, blank=True, help_text="The publisher's sub id 3, from the click.")
    sub4 = models.CharField(max_length=255, blank=True, help_text="The publisher's sub id 4, from the click.")
    sub5 = models.CharField(max_length=255, blank=True, help_text="The publisher's sub id 5, from the click.")
    source_id = models.CharField(max_length=255, blank=True, help_text="The click's traffic source.")
    # Never the raw customer id (tracking/conversions/customers.py says why): its HMAC under the
    # advertiser's customer_key; NULL when none was sent. Indexed per advertiser
    # (conversion_adv_customer). Both columns are nullable so that SQLite adds them in place (a
    # rebuilt table would lose its triggers) and the partial index skips conversions without one.
    customer_hash = models.CharField(  # noqa: DJ001
        max_length=64,
        null=True,
        blank=True,
        help_text="The advertiser's customer id as a keyed hash (HMAC-SHA256); null when none was sent.",
    )
    customer_type = models.CharField(  # noqa: DJ001
        max_length=16,
        null=True,
        blank=True,
        choices=[("new", "new"), ("returning", "returning")],
        help_text=(
            "new or returning, as the advertiser reported it; null when not reported (the customer-value "
            "job then derives it: the customer's first conversion with the advertiser is new)."
        ),
    )
    fraud_flags = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Codes of the fraud rules that fired (bot_user_agent, duplicate_click, click_flood, "
            "country_mismatch...); see trace for the details."
        ),
    )
    held_for_review = models.BooleanField(
        default=False,
        help_text=(
            "Held by fraud rules: its commission is never approved automatically; the advertiser or staff "
            "decide."
        ),
    )
    # Why it was attributed, rejected or held: click chosen, model, rules fired, goal and price.
    trace = models.JSONField(default=dict, blank=True)

    objects = ConversionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "goal", "txn_id"], condition=~Q(txn_id=""), name="conversion_unique_txn"
            ),
            models.UniqueConstraint(fields=["dedupe_key"], name="conversion_unique_dedupe"),
            # A postback refused before any offer was known (unknown_click, unknown_coupon) is
            # recorded once per advertiser and txn_id: its retries are duplicates of it, however
            # often the advertiser sends them (issue 11).
            models.UniqueConstraint(
                fields=["advertiser", "txn_id"],
                condition=Q(offer__isnull=True) & ~Q(txn_id=""),
                name="conversion_unique_unattributed_txn",
            ),
        ]
        indexes = [
            models.Index(fields=["publisher", "created_at"], name="conversion_pub_time"),
            models.Index(fields=["offer", "created_at"], name="conversion_offer_time"),
            # Not partial: it is also the index by advertiser alone, so a postback's row enters one
            # index for both (two before: advertiser_id's own and a partial (advertiser, txn_id)).
            models.Index(fields=["advertiser", "txn_id"], name="conversion_adv_txn_all"),
            # Partial: postbacks without a customer id pay nothing for it.
            models.Index(
                fields=["advertiser", "customer_hash", "created_at"],
                name="conversion_adv_customer",
                condition=Q(customer_hash__isnull=False),
            ),
        ]

    @property
    def is_system_rejected(self) -> bool:
        """Refused by a business rule at recording (unknown click, cap...), not by the advertiser:
        such a conversion earns nothing whatever status updates arrive later."""
        return self.status == ConversionStatus.REJECTED and self.reason in SYSTEM_REJECTIONS


class UnreconciledConversion(models.Model):
    """A conversion payouts' reconciliation has yet to see: just recorded, or its status or review
    flag changed since its commission was made. The reconciliation's work queue.

    Written by database triggers on tracking_conversion (migration ``tracking/0002_triggers``,
    listed in tracking/triggers.py), so every writer queues its conversions: the
    postbacks' group-commit INSERT, the ORM, bulk loads, raw SQL. Reconciliation takes ids out in
    the same transaction that writes their commissions (payouts.reconcile), so a conversion is
    never updated to mark it done; that UPDATE rewrote every conversion row and all its indexes.

    No foreign-key constraint: the trigger copies the id from the row it was fired by, and a
    per-row check would cost every postback a lookup and a row lock on the conversion it just
    wrote. An id whose conversion is gone is simply dropped by the next reconciliation.
    """

    conversion = models.OneToOneField(
        Conversion, primary_key=True, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )

    class Meta:
        db_table = "tracking_conversion_unreconciled"


class ConversionEvent(models.Model):
    """An append-only status change: created, approved, rejected, reversed.

    No database constraint to the conversion on PostgreSQL (db_constraint=False; Django's
    CASCADE still deletes a conversion's events): the creation event is written by a trigger
    from the row just inserted (migration ``tracking/0002_triggers``), and a
    deferred per-row check of it cost every postback a lookup and a KEY SHARE row lock on the
    conversion it had just written. SQLite keeps the constraint: dropping it there rebuilds
    the table.
    """

    conversion = models.ForeignKey(
        Conversion, on_delete=models.CASCADE, db_constraint=False, related_name="events"
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When the status changed.")
    from_status = models.CharField(
        max_length=16,
        blank=True,
        help_text="Status before the change; empty for the event that recorded the conversion.",
    )
    to_status = models.CharField(
        max_length=16, choices=ConversionStatus.choices, help_text="Status after the change."
    )
    reason = models.CharField(
        max_length=255,
        blank=True,
        help_text="Why, as given by the advertiser, staff or the rule that decided.",
    )
    actor = models.CharField(max_length=64, blank=True, help_text="postback, advertiser:<id>, staff:<id>...")

    class Meta:
        ordering = ["created_at", "id"]


class CapCounter(models.Model):
    """How much of one cap one period has used: conversions, payout or revenue.

    The conversion's transaction increments it with a conditional UPDATE (``used + x <= limit``),
    so concurrent postbacks queue on the row lock and exactly the remaining room is granted.
    ``scope_key`` is "offer" for an offer-wide cap, "pub:<id>" for a per-publisher one.
    """

    cap = models.ForeignKey("affiliates.Cap", on_delete=models.CASCADE, related_name="counters")
    period_start = models.DateField(help_text="UTC day, Monday or first of month the period starts.")
    scope_key = models.CharField(max_length=32)
    used = MoneyField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cap", "period_start", "scope_key"], name="cap_counter_unique"),
            models.CheckConstraint(condition=Q(used__gte=0), name="cap_counter_used_gte_0"),
        ]


class UsedPostbackSignature(models.Model):
    """A signature already accepted: the same signed postback sent again is a replay.

    Written in the conversion's transaction, so a postback that failed to store (503) does not
    burn its signature. Rows older than the timestamp tolerance can be pruned: a replay that
    old fails the timestamp check anyway.
    """

    sig = models.CharField(max_length=64, primary_key=True)
    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE, related_name="+")
    used_at = models.DateTimeField(default=timezone.now, db_index=True)
    conversion_id = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The conversion it recorded or updated: a resend is answered as its duplicate.",
    )
