"""The smart link page's "optimise now" button: the optimiser weighs paths by what they earned
(payouts.smartlinks), so the button lives here; the smart link pages are tracking.portal's."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from affiliates.core.errors import DomainError
from affiliates.portal.access import PortalRequest, portal_view, staff_act
from affiliates.roles import Act, Role
from payouts.smartlinks.services import smart_link_optimise
from tracking.smartlinks import services


@require_POST
@portal_view(Role.PUBLISHER, Role.ADVERTISER, Role.STAFF)
@staff_act(Act.MANAGE_SMART_LINKS)
def smart_link_optimise_now(request: PortalRequest, smart_id: int) -> HttpResponseBase:
    smart = get_object_or_404(services.smart_links_visible(actor=request.actor), pk=smart_id)
    try:
        services.smart_link_edit_check(actor=request.actor, smart=smart)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        run = smart_link_optimise(smart_link_id=smart.pk, force=True)
        if run is not None:
            messages.success(request, f"Optimiser ran: {run.get_outcome_display()}. {run.note}")
    return redirect("tracking_portal:smart-link", smart.pk)
