"""Documents the network issues: advertiser invoices and credit notes, publisher statements, and
the advertiser payments recorded against them.

A document is written once, when it is issued, and never changes: its lines, totals, dates,
FX rates, the issuer's and the customer's details are copied onto it (``issuer``, ``customer``,
``fx_rates``...), so a renamed offer, a new address or a later rate leaves it as it was sent.
The rows refuse changes twice: the model layer (``FrozenQuerySet``, ``save``) and, for a psql
shell or another service, a database trigger (payouts/documents_guard.py, migration
0002_triggers).

Numbers are gap-free per issuer and series (INV, CN, ST): ``DocumentCounter`` holds the last
number given, and issuing locks its row, so the number is taken and the document written in
one database transaction; a failed issue rolls both back and leaves no hole.

``DocumentItem`` says which commission a document carries, once per role: a commission is
billed at most once, credited at most once, stated at most once (unique constraints), so
revenue approved after an invoice can only go on the next one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from affiliates.core.errors import Conflict
from affiliates.core.money import CurrencyField, MoneyField


class DocumentFrozen(Conflict):
    code = "document_frozen"


class FrozenQuerySet(models.QuerySet[Any]):
    """Issued documents are never updated or deleted through the ORM."""

    def update(self, **kwargs: Any) -> int:
        raise DocumentFrozen(f"{self.model.__name__} rows never change once written.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise DocumentFrozen(f"{self.model.__name__} rows are never deleted.")


class WrittenOnce(models.Model):
    objects = FrozenQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise DocumentFrozen(f"{type(self).__name__} {self.pk} was issued and cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise DocumentFrozen(f"{type(self).__name__} {self.pk} was issued and cannot be deleted.")


class DocumentCounter(models.Model):
    """The last number given in a series of an issuer. Changed only under ``select_for_update``."""

    issuer = models.CharField(max_length=64, help_text="The issuer's tax id.")
    series = models.CharField(max_length=8, help_text="INV, CN or ST.")
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "series"], name="document_counter_unique")]

    def __str__(self) -> str:
        return f"{self.issuer} {self.series} #{self.last_number}"


class Document(WrittenOnce):
    class Kind(models.TextChoices):
        INVOICE = "invoice"
        CREDIT_NOTE = "credit_note", "Credit note"
        STATEMENT = "statement"

    class VatTreatment(models.TextChoices):
        REVERSE_CHARGE = "reverse_charge", "EU reverse charge"
        DOMESTIC = "domestic", "Domestic supply"
        OUTSIDE_SCOPE = "outside_scope", "Outside the scope of EU VAT"
        UNKNOWN = "unknown", "Customer VAT status unknown"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    issuer_key = models.CharField(max_length=64, help_text="The issuer's tax id; numbers are per issuer.")
    series = models.CharField(max_length=8, help_text="INV (invoices), CN (credit notes), ST (statements).")
    number = models.PositiveIntegerField(help_text="Gap-free within the issuer's series.")
    advertiser = models.ForeignKey(
        "affiliates.Advertiser", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    period = models.DateField(help_text="First day of the month it covers.")
    issued_at = models.DateTimeField(default=timezone.now)
    issue_date = models.DateField()
    due_date = models.DateField(null=True, blank=True, help_text="Invoices: issue date plus payment terms.")
    payment_terms_days = models.PositiveIntegerField(default=0)
    issuer = models.JSONField(help_text="Legal name, address, country, tax id and bank details at issue.")
    customer = models.JSONField(help_text="Name, address, country and tax id of the customer at issue.")
    totals = models.JSONField(help_text='Per currency, e.g. {"USD": "120.00"}; negative on credit notes.')
    fx_rates = models.JSONField(
        default=list,
        help_text=(
            "Rates used to express the totals in the customer's currency: in force at the period end, "
            "or, on a credit note, the rates of the invoices it credits; each says why (basis)."
        ),
    )
    converted_total = models.JSONField(
        default=dict,
        help_text='The totals in the customer\'s currency: {"currency", "amount"}; {} without a rate.',
    )
    vat_treatment = models.CharField(max_length=16, choices=VatTreatment.choices)
    vat_note = models.CharField(max_length=255, blank=True)
    vat_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Domestic supplies: the VAT rate charged, in percent; null when no VAT is charged.",
    )
    vat_totals = models.JSONField(
        default=dict,
        blank=True,
        help_text='Domestic supplies, per currency: {"USD": {"net", "vat", "gross"}}; {} without VAT.',
    )
    payout_details = models.JSONField(
        default=dict, help_text="Statements: the publisher's payout method and details."
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer_key", "series", "number"], name="document_number_unique_per_issuer"
            ),
            models.UniqueConstraint(
                fields=["kind", "advertiser", "period"],
                condition=Q(advertiser__isnull=False),
                name="document_once_per_advertiser_period",
            ),
            models.UniqueConstraint(
                fields=["kind", "publisher", "period"],
                condition=Q(publisher__isnull=False),
                name="document_once_per_publisher_period",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["invoice", "credit_note"], advertiser__isnull=False, publisher__isnull=True)
                    | Q(kind="statement", publisher__isnull=False, advertiser__isnull=True)
                ),
                name="document_has_its_party",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="document_number_gte_1"),
        ]

    def __str__(self) -> str:
        return self.number_text

    @property
    def number_text(self) -> str:
        return f"{self.series}-{self.number:06d}"


class DocumentLine(WrittenOnce):
    """A printed line: the document's items summed per offer, goal and currency."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=255)
    offer_id_ref = models.PositiveBigIntegerField(null=True, blank=True, help_text="Offer id, for reference.")
    goal = models.CharField(max_length=64, blank=True)
    commissions = models.PositiveIntegerField(help_text="How many commissions it sums.")
    quantity = models.IntegerField(
        help_text="Conversions, clicks or impressions; on a correction, how many it adds or takes "
        "back (negative where a line shrank or was reversed)."
    )
    currency = CurrencyField()
    amount = MoneyField(help_text="Negative on credit notes and for reversals on statements.")

    class Meta:
        ordering = ["document_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="document_line_position_unique")
        ]


class DocumentItem(WrittenOnce):
    """One commission on one document, in one role; billed, credited, stated and reversed at most
    once per commission, a change at most once per document."""

    class Role(models.TextChoices):
        BILLED = "billed", "Billed on an invoice"
        CREDITED = "credited", "Credited on a credit note"
        STATED = "stated", "Earned on a statement"
        STATED_REVERSAL = "stated_reversal", "Reversed on a statement"
        # A carried commission whose amount changed since (a CPC/CPM line recounted, a CPS
        # amount adjusted): the difference, on the next invoice (more) or credit note (less),
        # or the next statement. Once per commission and document; several over time.
        BILLED_CHANGE = "billed_change", "Changed after invoicing"
        STATED_CHANGE = "stated_change", "Changed after a statement"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="items")
    commission = models.ForeignKey("payouts.Commission", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=Role.choices)
    amount = MoneyField(help_text="As carried by the document (signed).")
    quantity = models.IntegerField(
        default=0,
        help_text="Conversions, clicks or impressions carried (signed, like the amount): the "
        "next correction of a daily line shows how many it changed by.",
    )
    currency = CurrencyField()
    original = models.ForeignKey(
        Document,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Credits and reversals: the document that carried it first.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["commission", "role"],
                condition=Q(role__in=["billed", "credited", "stated", "stated_reversal"]),
                name="document_item_once_per_role",
            ),
            models.UniqueConstraint(
                fields=["commission", "role", "document"], name="document_item_once_per_document"
            ),
        ]
        indexes = [models.Index(fields=["document"], name="document_item_document")]


class AdvertiserPayment(WrittenOnce):
    """Money received from an advertiser. Recording it posts cash in and the receivable out."""

    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.PROTECT, related_name="payments")
    currency = CurrencyField()
    amount = MoneyField()
    received_on = models.DateField()
    reference = models.CharField(max_length=128, help_text="Bank reference; unique per advertiser.")
    document = models.ForeignKey(
        Document,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        help_text="The invoice it pays, when the advertiser said.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["advertiser", "reference"], name="advertiser_payment_reference_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="advertiser_payment_amount_gt_0"),
        ]
