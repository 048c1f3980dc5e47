"""Issued documents and advertiser payments over the API.

- ``GET /api/v1/documents/`` (``?kind=&period=&advertiser=&publisher=``), ``GET .../{id}/``,
  ``GET .../{id}/pdf/`` and ``.../{id}/csv/``: staff see every document, an advertiser its
  invoices and credit notes, a publisher its statements; another tenant's is a 404.
- ``POST /api/v1/documents/issue-invoice/`` ``{"advertiser", "period"}`` and
  ``POST /api/v1/documents/issue-statement/`` ``{"publisher", "period"}``: staff only. 201 when
  issued now, 200 with what was issued before; asking again never issues a second one.
- ``GET/POST /api/v1/advertiser-payments/``: staff record a payment; an advertiser lists its own.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.api.base import IsStaff, TenantScopedMixin
from affiliates.core.db import MAX_ID
from affiliates.models import Advertiser, Publisher
from affiliates.roles import Act
from payouts.advertiser_payments import advertiser_balances, advertiser_payment_record
from payouts.api.payout_runs import attachment
from payouts.documents import Issued, invoice_issue, statement_issue
from payouts.exports.documents import document_csv, document_data, document_file_name, document_pdf
from payouts.models import AdvertiserPayment, Document
from payouts.periods import period_parse


class DocumentLineSerializer(serializers.Serializer[Any]):
    position = serializers.IntegerField(help_text="Order on the document.")
    description = serializers.CharField(help_text="What the line bills.")
    offer_id = serializers.IntegerField(allow_null=True, help_text="The offer it is about, or null.")
    goal = serializers.CharField(help_text="The goal's code.")
    commissions = serializers.IntegerField(help_text="How many commissions it sums.")
    quantity = serializers.IntegerField(help_text="Actions, clicks or impressions.")
    currency = serializers.CharField(help_text="ISO 4217 code of the amount.")
    amount = serializers.CharField(help_text="Decimal string in the currency's minor unit.")


class DocumentSerializer(serializers.Serializer[Document]):
    """An issued document, frozen at issue (payouts.exports.documents.document_data builds it;
    the fields here document its shape for the schema)."""

    id = serializers.IntegerField(help_text="The document's id.")
    kind = serializers.CharField(help_text="invoice, credit_note or statement")
    number = serializers.CharField(help_text="Its gap-free number, e.g. INV-2026-000012.")
    advertiser = serializers.IntegerField(
        allow_null=True, help_text="The advertiser (invoices, credit notes), or null."
    )
    publisher = serializers.IntegerField(allow_null=True, help_text="The publisher (statements), or null.")
    period = serializers.CharField(help_text="YYYY-MM")
    issued_at = serializers.DateTimeField(help_text="When it was issued (UTC).")
    issue_date = serializers.DateField(help_text="Its issue date.")
    due_date = serializers.DateField(allow_null=True, help_text="When payment is due, or null.")
    payment_terms_days = serializers.IntegerField(allow_null=True, help_text="Days from issue to due date.")
    issuer = serializers.DictField(help_text="The network's legal details at issue.")
    customer = serializers.DictField(help_text="The customer's legal details at issue.")
    lines = DocumentLineSerializer(many=True, help_text="Its lines, frozen at issue.")
    totals = serializers.JSONField(help_text="Totals per currency.")
    fx_rates = serializers.JSONField(
        help_text="The FX rates used, per currency pair, each with its basis (period end, invoice credited)."
    )
    converted_total = serializers.JSONField(
        allow_null=True, help_text="The total in the customer's currency, or null."
    )
    vat_treatment = serializers.CharField(help_text="How VAT applies (e.g. reverse_charge).")
    vat_note = serializers.CharField(allow_blank=True, help_text="The VAT line printed on it.")
    vat_rate = serializers.CharField(
        allow_null=True, help_text="Domestic supplies: the VAT rate charged, in percent; null otherwise."
    )
    vat_totals = serializers.JSONField(
        help_text='Domestic supplies, per currency: {"net", "vat", "gross"}; {} without VAT.'
    )
    payout_details = serializers.JSONField(
        allow_null=True, help_text="The publisher's payout details (statements), or null."
    )
    credits = serializers.ListField(
        child=serializers.CharField(), help_text="Numbers of the documents it takes amounts back from."
    )

    def to_representation(self, instance: Document) -> dict[str, Any]:
        return document_data(instance)


class IssueInvoiceInput(serializers.Serializer[Any]):
    advertiser = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The advertiser to invoice."
    )
    period = serializers.CharField(help_text="YYYY-MM")


class IssueStatementInput(serializers.Serializer[Any]):
    publisher = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The publisher to issue a statement to."
    )
    period = serializers.CharField(help_text="YYYY-MM")


class IssuedSerializer(serializers.Serializer[Any]):
    invoice = serializers.DictField(
        allow_null=True, required=False, help_text="The invoice issued (or found already issued), or null."
    )
    credit_note = serializers.DictField(
        allow_null=True, required=False, help_text="The credit note issued with it, or null."
    )
    statement = serializers.DictField(
        allow_null=True, required=False, help_text="The statement issued (or found already issued), or null."
    )


class DocumentViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Document]
):
    queryset = Document.objects.prefetch_related("lines")
    serializer_class = DocumentSerializer
    advertiser_path = "advertiser_id"
    publisher_path = "publisher_id"
    role_act = Act.MANAGE_PAYOUTS
    filterset_fields = ["kind", "advertiser", "publisher"]

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("issue_invoice", "issue_statement"):
            return [IsStaff()]
        return super().get_permissions()  # type: ignore[return-value]

    def get_queryset(self) -> Any:
        qs = super().get_queryset()
        raw = self.request.query_params.get("period")
        return qs.filter(period=period_parse(raw)) if raw else qs

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The document.")})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        doc = self.get_object()
        return attachment(document_pdf(doc), "application/pdf", document_file_name(doc, "pdf"))

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="The document's lines.")})
    @action(detail=True, methods=["get"])
    def csv(self, request: Request, pk: str | None = None) -> HttpResponse:
        doc = self.get_object()
        return attachment(document_csv(doc), "text/csv; charset=utf-8", document_file_name(doc, "csv"))

    @extend_schema(request=IssueInvoiceInput, responses={200: IssuedSerializer, 201: IssuedSerializer})
    @action(detail=False, methods=["post"], url_path="issue-invoice")
    def issue_invoice(self, request: Request) -> Response:
        data = IssueInvoiceInput(data=request.data)
        data.is_valid(raise_exception=True)
        advertiser = get_object_or_404(Advertiser, pk=data.validated_data["advertiser"])
        period = period_parse(data.validated_data["period"])
        issued = invoice_issue(advertiser=advertiser, period=period, user=request.user)
        return _issued_response(issued, main_key="invoice")

    @extend_schema(request=IssueStatementInput, responses={200: IssuedSerializer, 201: IssuedSerializer})
    @action(detail=False, methods=["post"], url_path="issue-statement")
    def issue_statement(self, request: Request) -> Response:
        data = IssueStatementInput(data=request.data)
        data.is_valid(raise_exception=True)
        publisher = get_object_or_404(Publisher, pk=data.validated_data["publisher"])
        period = period_parse(data.validated_data["period"])
        issued = statement_issue(publisher=publisher, period=period, user=request.user)
        return _issued_response(issued, main_key="statement")


def _issued_response(issued: Issued, *, main_key: str) -> Response:
    body: dict[str, Any] = {main_key: document_data(issued.main) if issued.main else None}
    if main_key == "invoice":
        body["credit_note"] = document_data(issued.credit_note) if issued.credit_note else None
    return Response(body, status=status.HTTP_201_CREATED if issued.created else status.HTTP_200_OK)


class AdvertiserPaymentSerializer(serializers.ModelSerializer[AdvertiserPayment]):
    invoice = serializers.PrimaryKeyRelatedField(
        source="document",
        queryset=Document.objects.filter(kind=Document.Kind.INVOICE),
        required=False,
        allow_null=True,
        help_text="The invoice it settles, if the advertiser named one.",
    )
    balance = serializers.SerializerMethodField(help_text="What the advertiser owes after it, per currency.")

    class Meta:
        model = AdvertiserPayment
        fields = [
            "id",
            "advertiser",
            "currency",
            "amount",
            "received_on",
            "reference",
            "invoice",
            "created_at",
            "balance",
        ]
        read_only_fields = ["id", "created_at", "balance"]
        # Uniqueness of (advertiser, reference) is the service's idempotency rule, not a 400.
        validators: list[Any] = []
        extra_kwargs = {
            "id": {"help_text": "The payment's id."},
            "advertiser": {"help_text": "The advertiser who paid."},
            "currency": {"help_text": "ISO 4217 code of the amount."},
            "amount": {"help_text": "What was received, in currency."},
            "received_on": {"help_text": "The day the money arrived."},
            "created_at": {"help_text": "When it was recorded."},
        }

    def get_balance(self, obj: AdvertiserPayment) -> dict[str, str]:
        return {
            cur: str(total) for cur, total in advertiser_balances(advertiser_id=obj.advertiser_id).items()
        }


class AdvertiserPaymentViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[AdvertiserPayment],
):
    queryset = AdvertiserPayment.objects.all()
    serializer_class = AdvertiserPaymentSerializer
    advertiser_path = "advertiser_id"
    role_act = Act.MANAGE_PAYOUTS
    filterset_fields = ["advertiser", "currency", "document"]

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "create":
            return [IsStaff()]
        return super().get_permissions()  # type: ignore[return-value]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a payment received; the same reference again returns it (200), changing nothing."""
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment, created = advertiser_payment_record(
            advertiser=data.validated_data["advertiser"],
            currency=data.validated_data["currency"],
            amount=data.validated_data["amount"],
            reference=data.validated_data["reference"],
            received_on=data.validated_data["received_on"],
            document=data.validated_data.get("document"),
            user=request.user,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(payment).data, status=code)
