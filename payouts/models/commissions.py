"""Commissions: what the advertiser owes (revenue) and the publisher earns (payout) for one
source event: a conversion, or a day of CPC clicks / CPM impressions for offer x publisher x goal.

Why daily lines for CPC and CPM rather than a row per click: at 100M clicks a row each would
multiply the largest table by two and the ledger by three, for money that is only ever
reported and paid per day. The daily line is updated as the day fills, and each increase is
posted to the ledger as a new transaction, so the ledger stays append-only.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from affiliates.core.money import CurrencyField, MoneyField


class CommissionStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVERSED = "reversed"


class Commission(models.Model):
    class Kind(models.TextChoices):
        CONVERSION = "conversion"
        CPC = "cpc", "CPC daily line"
        CPM = "cpm", "CPM daily line"
        # A publisher who touched a conversion but did not close it (payouts/journeys/assists.py).
        ASSIST = "assist", "Assist on a conversion"

    # The idempotency key: "conversion:<id>", "cpc:<offer>:<publisher>:<goal>:<YYYY-MM-DD>", or
    # "assist:<conversion>:<publisher>" (one assist per assisting publisher per conversion).
    source_key = models.CharField(
        max_length=128,
        unique=True,
        help_text=(
            "Idempotency key of what is paid: conversion:<id>, or "
            "<cpc|cpm>:<offer>:<publisher>:<goal>:<YYYY-MM-DD> for a daily line."
        ),
    )
    kind = models.CharField(
        max_length=16,
        choices=Kind.choices,
        help_text=(
            "conversion: one conversion. cpc / cpm: one UTC day of clicks or impressions for offer x "
            "publisher x goal, increased as the day fills."
        ),
    )
    conversion = models.OneToOneField(
        "tracking.Conversion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commission",
        help_text="The conversion paid for; null for CPC and CPM daily lines.",
    )
    # advertiser / offer / publisher are served by the (x, day) indexes below; no single-column
    # ones, since every index is paid for on each of the bulk inserts reconciliation does.
    # No database constraint on these four (db_constraint=False; Django's PROTECT still holds):
    # each was a deferred check per inserted commission, 4 of the 12 a reconciled conversion
    # cost. They are copies of rows the database has already checked: offer, publisher and goal
    # come from the conversion (its own foreign keys) or, for daily lines, from the goal and the
    # tracking link; the advertiser from the offer. The commission's entries go to accounts whose
    # foreign keys name the same advertiser and publisher. The ledger's own links keep theirs:
    # commission -> conversion, transaction -> commission, entry -> transaction and -> account.
    advertiser = models.ForeignKey(
        "affiliates.Advertiser",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        help_text="Advertiser who owes the revenue. Hidden from publishers.",
    )
    offer = models.ForeignKey(
        "affiliates.Offer",
        on_delete=models.PROTECT,
        related_name="commissions",
        db_index=False,
        db_constraint=False,
        help_text="Offer the commission was earned on.",
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher",
        on_delete=models.PROTECT,
        related_name="commissions",
        db_index=False,
        db_constraint=False,
        help_text="Publisher who earns the payout.",
    )
    # Indexed: deleting a goal (the API allows it) must find its commissions for PROTECT.
    goal = models.ForeignKey(
        "affiliates.Goal",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        help_text="Goal whose price applied.",
    )
    day = models.DateField(help_text="UTC day of the event, for reports and payout periods.")
    quantity = models.PositiveIntegerField(default=1, help_text="1, or the clicks/impressions of the day.")
    status = models.CharField(
        max_length=16,
        choices=CommissionStatus.choices,
        default=CommissionStatus.PENDING,
        help_text=(
            "pending during the hold, approved (payable), rejected (earns nothing) or reversed (undone "
            "later, e.g. a refund). A conversion's commission moves with the conversion."
        ),
    )
    currency = CurrencyField(help_text="The offer's currency; revenue and payout are in it.")
    revenue = MoneyField(
        help_text=(
            "What the advertiser owes the network, in currency, rounded half up to the currency's minor "
            "unit. Hidden from publishers."
        )
    )
    payout = MoneyField(
        help_text=(
            "What the publisher earns, in currency, rounded half up to the currency's minor unit. Hidden "
            "from advertisers."
        )
    )
    sale_amount = MoneyField(null=True, blank=True, help_text="CPS base, converted to the offer currency.")
    original_amount = MoneyField(
        null=True,
        blank=True,
        help_text="The sale amount as reported, in original_currency; null without one.",
    )
    original_currency = CurrencyField(
        blank=True, default="", help_text="ISO 4217 code of original_amount; empty without a sale amount."
    )
    fx_rate = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        null=True,
        blank=True,
        help_text=(
            "Units of currency per unit of original_currency, the rate in force at the conversion's time; "
            "null when no conversion was needed."
        ),
    )
    price_source = models.CharField(max_length=64, blank=True, help_text="goal:<id> or custom_payout:<id>")
    hold_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=(
            "When a pending commission is approved automatically (the conversion's time plus the offer's "
            "hold days), unless held for review."
        ),
    )
    held_for_review = models.BooleanField(
        default=False,
        help_text="Flagged by fraud rules: never approved automatically; the advertiser or staff decide.",
    )
    status_reason = models.CharField(
        max_length=255,
        blank=True,
        help_text="Why the status last changed, as given with approve, reject or reverse.",
    )
    # Nullable so that SQLite could add it in place: a rebuilt table loses its triggers.
    status_by = models.CharField(  # noqa: DJ001
        max_length=64,
        null=True,
        blank=True,
        help_text="Who last changed the status: staff:<id>, advertiser:<id>, hold, reconcile.",
    )
    # How many ledger transactions this commission has; the next one's key is
    # "commission:<id>:r<revision + 1>", so a change is posted at most once even if two
    # workers computed it (the unique Transaction.key decides).
    revision = models.PositiveIntegerField(default=1)
    approved_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was approved; null until then."
    )
    reversed_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was reversed; null unless reversed."
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When it was created.")
    updated_at = models.DateTimeField(
        default=timezone.now, help_text="When its status or amounts last changed."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revenue__gte=0) & Q(payout__gte=0), name="commission_amounts_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(kind="conversion", conversion__isnull=False) | ~Q(kind="conversion"),
                name="commission_conversion_has_source",
            ),
        ]
        indexes = [
            models.Index(fields=["publisher", "day"], name="commission_pub_day"),
            models.Index(fields=["advertiser", "day"], name="commission_adv_day"),
            models.Index(fields=["offer", "day"], name="commission_offer_day"),
            models.Index(fields=["status", "hold_until"], name="commission_status_hold"),
        ]

    def __str__(self) -> str:
        return self.source_key

    @property
    def is_open(self) -> bool:
        """Pending or approved: the ledger holds an outstanding position for it."""
        return self.status in (CommissionStatus.PENDING, CommissionStatus.APPROVED)


def commission_txn_key(commission_id: int, revision: int) -> str:
    """The ledger transaction key of a commission's ``revision``-th posting (1 = creation)."""
    return f"commission:{commission_id}:r{revision}"


class CommissionShare(models.Model):
    """The part of a CPC/CPM daily line earned by one combination of its valid traffic's visitor
    attributes (country, device, sub1-sub5, source), so reports grouped by sub1 (or country,
    device, sub2-sub5, and the source rollup) put CPC and CPM earnings on their values instead
    of a "(none)" row. Shares written before source was added carry source "".

    Why a table and not a line per sub1: the ledger keeps one line per offer x publisher x goal x
    day (a publisher's sub1 can be unique per click); this table is for reports only and is
    rewritten with its line (payouts.traffic_shares). A line's shares always sum exactly to its
    revenue and payout: each is the line's rounded amount split by the exact earnings of its
    clicks (count x price per country), to MONEY_PLACES, largest remainder first.
    """

    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="shares")
    country = models.CharField(max_length=2, blank=True)
    device = models.CharField(max_length=16, blank=True)
    sub1 = models.CharField(max_length=255, blank=True)
    sub2 = models.CharField(max_length=255, blank=True)
    sub3 = models.CharField(max_length=255, blank=True)
    sub4 = models.CharField(max_length=255, blank=True)
    sub5 = models.CharField(max_length=255, blank=True)
    # A database default, so share writers that name only the older columns still insert.
    source = models.CharField(
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The traffic source (automation rules read it).",
    )
    quantity = models.PositiveIntegerField(help_text="Valid clicks or impressions with these attributes.")
    revenue = MoneyField(help_text="This share of the line's revenue.")
    payout = MoneyField(help_text="This share of the line's payout.")
