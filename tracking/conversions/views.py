"""HTTP for conversions: /postback (contract section 3) and /p/{offer_id}.gif (section 4).

Plain function views with no session, CSRF or auth work: advertisers' servers and browsers
call them, credentials travel in the parameters. The answers are never cached.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tracking.conversions.intake import pixel_receive, postback_receive
from tracking.conversions.outcome import PostbackError
from tracking.conversions.params import json_params, params_merge
from tracking.gif import GIF
from tracking.visitor import client_ip


def _postback_params(request: HttpRequest) -> dict[str, str]:
    pairs = list(request.GET.lists())
    if request.method == "POST":
        if request.content_type == "application/json":
            pairs += [(key, [value]) for key, value in json_params(request.body).items()]
        else:
            pairs += list(request.POST.lists())
    return params_merge(pairs)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def postback(request: HttpRequest) -> HttpResponse:
    try:
        raw = _postback_params(request)
    except PostbackError as refused:
        outcome = refused.outcome()
    else:
        outcome = postback_receive(raw, ip=client_ip(request.META))
    response = JsonResponse(outcome.body(), status=outcome.http_status)
    response["Cache-Control"] = "no-store"
    return response


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
