"""The double-entry ledger. Entries are only ever added; balances are sums of entries.

Sign convention: debits positive, credits negative; every transaction's entries sum to zero
per currency. A commission moves money between *pending* accounts; approval moves it to the
*approved* ones, which are what invoices bill and payouts pay. A reversal posts the opposite
entries. The database keeps both rules (payouts.ledger_guard, installed by migration
payouts 0002_triggers): a transaction whose entries do not sum to zero cannot commit, and
transactions, entries and accounts refuse UPDATE, DELETE and TRUNCATE. Mistakes are corrected by
a reversing transaction (payouts.corrections).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from affiliates.core.money import CurrencyField, MoneyField


class Account(models.Model):
    class Kind(models.TextChoices):
        ADVERTISER_PENDING = "advertiser_pending", "Advertiser receivable (pending)"
        ADVERTISER_RECEIVABLE = "advertiser_receivable", "Advertiser receivable (approved)"
        PUBLISHER_PENDING = "publisher_pending", "Publisher payable (pending)"
        PUBLISHER_PAYABLE = "publisher_payable", "Publisher payable (approved)"
        NETWORK_PENDING_MARGIN = "network_pending_margin", "Network margin (pending)"
        NETWORK_MARGIN = "network_margin", "Network margin (approved)"
        NETWORK_CASH = "network_cash", "Network cash (payouts sent, invoices received)"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    advertiser = models.ForeignKey("affiliates.Advertiser", null=True, blank=True, on_delete=models.PROTECT)
    publisher = models.ForeignKey("affiliates.Publisher", null=True, blank=True, on_delete=models.PROTECT)
    currency = CurrencyField()

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            # One account per owner and currency, the network's (no owner) included. NULL owners
            # compare equal through COALESCE rather than NULLS NOT DISTINCT, which SQLite lacks:
            # this way both databases enforce it. Ids start at 1, so 0 never names a real owner.
            models.UniqueConstraint(
                "kind",
                Coalesce("advertiser", Value(0), output_field=models.BigIntegerField()),
                Coalesce("publisher", Value(0), output_field=models.BigIntegerField()),
                "currency",
                name="account_unique_owner_currency",
            ),
        ]

    def __str__(self) -> str:
        owner = self.advertiser_id or self.publisher_id or "network"
        return f"{self.kind}:{owner}:{self.currency}"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        COMMISSION = "commission"
        COMMISSION_INCREASE = "commission_increase", "Daily line increase"
        # A daily line shrunk because traffic in it was judged invalid after it was written.
        COMMISSION_DECREASE = "commission_decrease", "Daily line decrease (invalid traffic)"
        APPROVAL = "approval"
        REJECTION = "rejection"
        REVERSAL = "reversal"
        ADJUSTMENT = "adjustment"
        PAYOUT = "payout"
        PAYOUT_FAILED = "payout_failed"
        ADVERTISER_PAYMENT = "advertiser_payment", "Advertiser payment received"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Idempotency: "commission:<id>", "approval:<commission id>", "payout:<id>", ... unique.
    key = models.CharField(max_length=160, unique=True)
    commission = models.ForeignKey(
        "payouts.Commission", null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    # Indexed only where set (index "transaction_payout"): commission transactions, nearly all of
    # them, have no payout and would otherwise each add a NULL to the index.
    payout = models.ForeignKey(
        "payouts.Payout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    # An operator's correction (payouts.corrections): the transaction whose entries this one
    # mirrors. No foreign-key check and no plain index: nearly every transaction leaves it NULL,
    # and a reference check per reconciled row is a cost taken off entries for the same reason
    # (migration 0002_triggers); the target cannot go away (transactions refuse DELETE). The
    # partial unique index below serves lookups and makes "reversed at most once" a database rule.
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
        db_index=False,
        db_constraint=False,
        help_text="The transaction this one reverses; a transaction is reversed at most once.",
    )
    memo = models.CharField(max_length=255, blank=True)
    # Not indexed: nothing looks transactions up by time (entries carry their own created_at).
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["payout"], condition=Q(payout__isnull=False), name="transaction_payout"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="transaction_reversed_once"
            ),
        ]


class Entry(models.Model):
    # Both references are checked by the database, on PostgreSQL once per INSERT statement rather
    # than once per row (migration 0002_triggers): a foreign-key check per row was a third of the
    # cost of a reconciled conversion, which writes three entries. The set-based check is the same
    # guarantee because the parents never change: transactions and accounts refuse UPDATE and
    # DELETE (triggers), so an entry valid when written stays valid. SQLite keeps the plain
    # foreign keys.
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
        help_text="The ledger transaction it belongs to; a transaction's entries sum to zero per currency.",
    )
    # No single-column index: "entry_account_time" (account, created_at) serves every lookup by
    # account, and one index less is a measurable share of reconciliation's insert cost.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
        db_constraint=False,
        help_text="The ledger account debited (positive amount) or credited (negative).",
    )
    amount = MoneyField(help_text="Debit positive, credit negative.")
    currency = CurrencyField(help_text="ISO 4217 code of the amount.")
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When it was posted. Entries are never changed or deleted."
    )

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "entries"
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_nonzero")]
        indexes = [models.Index(fields=["account", "created_at"], name="entry_account_time")]
