"""The staff console's money lists (payouts.portal.console_lists declares what each shows).
Each page is ``staff_only``, its one authorisation point."""

from __future__ import annotations

from django.http import HttpResponseBase
from django.urls import reverse

from affiliates.portal.access import PortalRequest, staff_only
from affiliates.portal.tables import table_render
from payouts.portal import console_lists as lists

ROWS = "payouts/portal/console/rows_{}.html"


@staff_only
def commissions(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.commissions_for(request.actor),
        lists.COMMISSIONS,
        label="Commissions",
        sub="What each conversion (or CPC/CPM day) earns and costs; a conversion's trace shows how.",
        rows=ROWS.format("commissions"),
    )


@staff_only
def documents(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.documents_for(request.actor),
        lists.DOCUMENTS,
        label="Invoices & statements",
        sub="Every issued invoice, credit note and statement.",
        rows=ROWS.format("documents"),
        links=[{"url": reverse("payouts_portal:staff-documents"), "label": "Issue or record a payment"}],
    )


@staff_only
def payments(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.payments_for(request.actor),
        lists.PAYMENTS,
        label="Advertiser payments",
        sub="Money received from advertisers; each settles their receivable in the ledger.",
        rows=ROWS.format("payments"),
        links=[{"url": reverse("payouts_portal:staff-documents"), "label": "Record a payment"}],
    )


@staff_only
def payouts(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.payouts_for(request.actor),
        lists.PAYOUTS,
        label="Payouts",
        sub="Every publisher payout of every run.",
        rows=ROWS.format("payouts"),
        links=[{"url": reverse("payouts_portal:staff-runs"), "label": "Payout runs"}],
    )
