"""Custom tracking domains in the portals (affiliates.tracking_domains): an advertiser's or
publisher's page to add a domain, read the token its host must answer, verify and remove it;
staff's console list of every domain they may see, with the same actions and an add form for
any account's (or the network's) domain. Rules and scopes: affiliates.tracking_domains_access;
verifying goes through payouts.tracking_domains (the SSRF-safe fetch), hence payouts.portal."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from affiliates.core.errors import DomainError
from affiliates.models import Advertiser, Publisher
from affiliates.portal.access import PortalRequest, account_may, portal_view, staff_only
from affiliates.portal.confirm import confirm_page, confirmed
from affiliates.portal.tables import Column, Filter, ListSpec, model_choices, table_render
from affiliates.roles import Act, Role, visible
from affiliates.tracking_domains import WELL_KNOWN_PATH, TrackingDomain
from affiliates.tracking_domains_access import (
    tracking_domain_add,
    tracking_domain_remove,
    tracking_domains_for,
)
from payouts.tracking_domains import tracking_domain_check_now

members = portal_view(Role.ADVERTISER, Role.PUBLISHER)
every_role = portal_view(Role.ADVERTISER, Role.PUBLISHER, Role.STAFF)


class DomainForm(forms.Form):
    host = forms.CharField(
        label="Host", max_length=253, help_text="A sub-domain of yours, such as trk.example.com."
    )


class StaffDomainForm(DomainForm):
    advertiser = forms.ModelChoiceField(
        label="Advertiser", queryset=Advertiser.objects.none(), required=False, empty_label="—"
    )
    publisher = forms.ModelChoiceField(
        label="Publisher", queryset=Publisher.objects.none(), required=False, empty_label="—"
    )


def _owner(row: TrackingDomain) -> str:
    if row.publisher_id:
        return f"{row.publisher.name} (publisher)" if row.publisher else "publisher"
    if row.advertiser_id:
        return f"{row.advertiser.name} (advertiser)" if row.advertiser else "advertiser"
    return "Network default"


DOMAINS = ListSpec(
    columns=(
        Column("host", "Host", "host", value="host"),
        Column("owner", "Serves", None, value=_owner),
        Column("status", "Status", "verified_at", value=lambda r: "verified" if r.verified_at else "pending"),
        Column("created", "Added", "created_at", value="created_at"),
        Column("actions", "Actions"),
    ),
    default_sort="host",
    search=("host", "advertiser__name", "publisher__name"),
    search_label="Host or account",
    filters=(
        Filter("advertiser", "Advertiser", "advertiser_id", model_choices(Advertiser.objects.all())),
        Filter("publisher", "Publisher", "publisher_id", model_choices(Publisher.objects.all())),
    ),
)


def _cname_target() -> str:
    return urlsplit(str(settings.SITE_URL)).hostname or ""


def _back(request: PortalRequest) -> str:
    """Where an action returns: the page it was posted from (the staff list keeps its
    filters), else the viewer's domains page."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return wanted
    name = "staff-tracking-domains" if request.actor.is_staff else "tracking-domains"
    return reverse(f"payouts_portal:{name}")


@require_http_methods(["GET", "POST"])
@members
@account_may(Act.MANAGE_DOMAINS)
def domains_page(request: PortalRequest) -> HttpResponseBase:
    form = DomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain = tracking_domain_add(actor=request.actor, host=form.cleaned_data["host"])
        except DomainError as refused:
            form.add_error("host", refused.message)
        else:
            messages.success(request, f"{domain.host} added: point it at this network, then verify it.")
            return redirect("payouts_portal:tracking-domains")
    context = {
        "form": form,
        "domains": tracking_domains_for(actor=request.actor).order_by("host"),
        "well_known": WELL_KNOWN_PATH,
        "cname": _cname_target(),
    }
    return render(
        request, "payouts/portal/tracking_domains.html", context, status=400 if form.errors else 200
    )


@require_POST
@every_role
@account_may(Act.MANAGE_DOMAINS)
def domain_verify(request: PortalRequest, pk: int) -> HttpResponseBase:
    domain = get_object_or_404(tracking_domains_for(actor=request.actor), pk=pk)
    try:
        tracking_domain_check_now(domain=domain)
    except DomainError as refused:
        messages.error(request, f"{domain.host} is not verified: {refused.message}")
    else:
        messages.success(request, f"{domain.host} is verified: new tracking links use it.")
    return redirect(_back(request))


@require_http_methods(["GET", "POST"])
@every_role
@account_may(Act.MANAGE_DOMAINS)
def domain_remove(request: PortalRequest, pk: int) -> HttpResponseBase:
    domain = get_object_or_404(tracking_domains_for(actor=request.actor), pk=pk)
    back = _back(request)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Remove {domain.host}",
            effects=[
                f"Tracking links stop being built on {domain.host}; new links use the next domain "
                "(another verified one of the account, the network's, or the default).",
                f"Links already placed on {domain.host} stop working once its DNS no longer points here; "
                "the network stops answering for it within seconds.",
                "Adding it again later gives it a new token to verify.",
            ],
            action=request.path,
            button="Remove domain",
            cancel=back,
            fields={"next": back},
        )
    tracking_domain_remove(domain=domain)
    messages.success(request, f"{domain.host} removed.")
    return redirect(back)


@require_http_methods(["GET", "POST"])
@staff_only
@account_may(Act.MANAGE_DOMAINS)
def staff_domains(request: PortalRequest) -> HttpResponseBase:
    form = StaffDomainForm(request.POST or None)
    form.fields["advertiser"].queryset = visible(Advertiser.objects.order_by("name"), request.actor)  # type: ignore[attr-defined]
    form.fields["publisher"].queryset = visible(Publisher.objects.order_by("name"), request.actor)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            domain = tracking_domain_add(
                actor=request.actor,
                host=data["host"],
                advertiser_id=data["advertiser"].pk if data["advertiser"] else None,
                publisher_id=data["publisher"].pk if data["publisher"] else None,
            )
        except DomainError as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request, f"{domain.host} added for {_owner(domain)}; verify it once it points here."
            )
        return redirect("payouts_portal:staff-tracking-domains")
    return table_render(
        request,
        tracking_domains_for(actor=request.actor),
        DOMAINS,
        label="Tracking domains",
        sub="Hosts that serve tracking links for one advertiser, one publisher or the whole network. "
        f"A host is verified when it answers its token at {WELL_KNOWN_PATH}.",
        rows="payouts/portal/console/rows_tracking_domains.html",
        form=form,
        before="payouts/portal/console/_tracking_domain_add.html",
        empty="No tracking domains yet: links are served on the default domain.",
    )
