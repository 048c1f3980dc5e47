"""Document pages: a publisher's statements, an advertiser's invoices, credit notes and payments,
and staff's page to issue documents and record payments. Downloads are scoped like the API:
another tenant's document is a 404."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates.core.errors import DomainError
from affiliates.core.money import validate_currency
from affiliates.models import Advertiser, Publisher
from affiliates.portal.access import (
    PortalRequest,
    account_may,
    advertiser_only,
    portal_view,
    publisher_only,
    staff_only,
)
from affiliates.roles import Act, Role, scope, visible
from payouts.advertiser_payments import advertiser_balances, advertiser_payment_record
from payouts.api.payout_runs import attachment
from payouts.documents import Issued, invoice_issue, statement_issue
from payouts.exports.documents import document_csv, document_file_name, document_pdf
from payouts.models import AdvertiserPayment, Document

_MONTH = {"input_formats": ["%Y-%m"], "widget": forms.DateInput(attrs={"type": "month"}, format="%Y-%m")}


def _documents(request: PortalRequest) -> Any:
    qs = Document.objects.select_related("advertiser", "publisher").order_by("-period", "-issued_at")
    return scope(qs, request.actor, advertiser_path="advertiser_id", publisher_path="publisher_id")


@portal_view(Role.STAFF, Role.ADVERTISER, Role.PUBLISHER)
def document_file(request: PortalRequest, document_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "pdf"):
        raise Http404("Documents come as csv or pdf.")
    doc = get_object_or_404(_documents(request), pk=document_id)
    if fmt == "pdf":
        return attachment(document_pdf(doc), "application/pdf", document_file_name(doc, "pdf"))
    return attachment(document_csv(doc), "text/csv; charset=utf-8", document_file_name(doc, "csv"))


@publisher_only
def pub_statements(request: PortalRequest) -> HttpResponse:
    return render(request, "payouts/portal/pub_statements.html", {"documents": _documents(request)})


@advertiser_only
def adv_invoices(request: PortalRequest) -> HttpResponse:
    advertiser_id = request.actor.advertiser_id or 0
    payments = AdvertiserPayment.objects.filter(advertiser_id=advertiser_id).select_related("document")
    context = {
        "documents": _documents(request),
        "payments": payments,
        "balance": advertiser_balances(advertiser_id=advertiser_id),
    }
    return render(request, "payouts/portal/adv_invoices.html", context)


class IssueForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("invoice", "Advertiser invoice"), ("statement", "Publisher statement")]
    )
    advertiser = forms.ModelChoiceField(Advertiser.objects.all(), required=False)
    publisher = forms.ModelChoiceField(Publisher.objects.all(), required=False)
    period = forms.DateField(label="Month", **_MONTH)  # type: ignore[arg-type]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        party = "advertiser" if data.get("kind") == "invoice" else "publisher"
        if not data.get(party):
            self.add_error(party, f"Choose the {party}.")
        return data


class PaymentForm(forms.Form):
    advertiser = forms.ModelChoiceField(Advertiser.objects.all())
    currency = forms.CharField(max_length=3, validators=[validate_currency])
    amount = forms.DecimalField(max_digits=20, decimal_places=6, min_value=0)
    received_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(max_length=128)
    invoice = forms.ModelChoiceField(Document.objects.filter(kind=Document.Kind.INVOICE), required=False)


@staff_only
def staff_documents(request: PortalRequest) -> HttpResponse:
    context = {
        "documents": _documents(request)[:200],
        # Prefixed: both forms have an advertiser field, and ids (labels) must stay unique.
        "issue_form": IssueForm(initial={"period": _last_month()}, prefix="issue"),
        "payment_form": PaymentForm(initial={"received_on": timezone.now().date()}, prefix="pay"),
        "payments": scope(
            AdvertiserPayment.objects.select_related("advertiser", "document"),
            request.actor,
            advertiser_path="advertiser_id",
            publisher_path=None,
        )[:50],
    }
    for form in (context["issue_form"], context["payment_form"]):  # their pickers: visible accounts
        for name, model in (("advertiser", Advertiser), ("publisher", Publisher)):
            if name in form.fields:
                form.fields[name].queryset = visible(model.objects.all(), request.actor)
    return render(request, "payouts/portal/staff_documents.html", context)


@require_POST
@staff_only
@account_may(Act.MANAGE_PAYOUTS)
def staff_issue(request: PortalRequest) -> HttpResponse:
    form = IssueForm(request.POST, prefix="issue")
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("payouts_portal:staff-documents")
    data = form.cleaned_data
    try:
        if data["kind"] == "invoice":
            issued = invoice_issue(advertiser=data["advertiser"], period=data["period"], user=request.user)
        else:
            issued = statement_issue(publisher=data["publisher"], period=data["period"], user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _issued_text(issued))
    return redirect("payouts_portal:staff-documents")


@require_POST
@staff_only
@account_may(Act.MANAGE_PAYOUTS)
def staff_payment(request: PortalRequest) -> HttpResponse:
    form = PaymentForm(request.POST, prefix="pay")
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("payouts_portal:staff-documents")
    data = form.cleaned_data
    try:
        payment, created = advertiser_payment_record(
            advertiser=data["advertiser"],
            currency=data["currency"].upper(),
            amount=data["amount"],
            reference=data["reference"],
            received_on=data["received_on"],
            document=data["invoice"],
            user=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        verb = "Recorded" if created else "Already recorded:"
        messages.success(request, f"{verb} {payment.amount:.2f} {payment.currency} ref {payment.reference}.")
    return redirect("payouts_portal:staff-documents")


def _issued_text(issued: Issued) -> str:
    docs = [d.number_text for d in (issued.main, issued.credit_note) if d]
    return f"{'Issued' if issued.created else 'Already issued'}: {', '.join(docs)}."


def _last_month() -> date:
    today = timezone.now().date().replace(day=1)
    return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
