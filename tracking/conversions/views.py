"""The conversion pixel, /p/{offer_id}.gif (contract section 4), as a Django view.

``/postback`` (section 3) is not a view: the edge answers it on its event loop (route.py). The
pixel stays here, in Django's thread pool behind the edge: a browser loads it once per
conversion page, it reads cookies and always answers the same GIF, and its work is all blocking
database reads, so the loop would only hand it to a thread anyway. No session, CSRF or auth
work; the answer is never cached.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from tracking.conversions.intake import pixel_receive
from tracking.conversions.outcome import PostbackError
from tracking.conversions.params import params_merge
from tracking.gif import GIF
from tracking.visitor import client_ip


@require_http_methods(["GET"])
def pixel(request: HttpRequest, offer_id: int) -> HttpResponse:
    try:
        raw = params_merge(request.GET.lists())
    except PostbackError:
        raw = None
    if raw is not None:
        pixel_receive(
            offer_id,
            raw,
            ip=client_ip(request.META),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            cookies=request.COOKIES,
        )
    response = HttpResponse(GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0"
    return response
