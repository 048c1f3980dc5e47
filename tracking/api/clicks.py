"""POST /api/v1/clicks/: the redirect-less click API (issue 16), Everflow's "direct linking".

A publisher's server records a click for a visitor it serves itself and gets the click id and
destination as JSON. The view only authenticates (the API's token keys, with their lockout),
validates and resolves the link; the click is the edge's own click path
(tracking/clickpath/server_clicks.py), so it is checked, capped, recorded and made durable
exactly as a ``/c/{token}`` click is.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from affiliates.api.base import AccountStanding
from affiliates.api.schema import ErrorSerializer
from affiliates.roles import Act, actor_for
from tracking.clickpath import server_clicks
from tracking.clickpath.rules import SUB_MAX
from tracking.models.clicks import ClickReason

log = logging.getLogger(__name__)

SUB = "Your sub id, as on /c/ (at most 255 characters)."
REFUSALS = [r.value for r in ClickReason if r not in (ClickReason.OK, ClickReason.UNAVAILABLE)]


class ClickInput(serializers.Serializer[Any]):
    offer = serializers.IntegerField(
        required=False, min_value=1, max_value=10**18 - 1, help_text="The offer (your link to it is used)."
    )
    link = serializers.RegexField(
        r"^[A-Za-z0-9_-]{8,64}$", required=False, help_text="Or: your link's or smart link's token."
    )
    ip = serializers.IPAddressField(help_text="The visitor's IP address (geo, targeting, fraud checks).")
    user_agent = serializers.CharField(
        max_length=512, allow_blank=True, help_text="The visitor's User-Agent."
    )
    referrer = serializers.CharField(
        max_length=1024,
        required=False,
        allow_blank=True,
        default="",
        help_text="The page the visitor came from.",
    )
    sub1 = serializers.CharField(
        max_length=SUB_MAX, required=False, allow_blank=True, default="", help_text=SUB
    )
    sub2 = serializers.CharField(
        max_length=SUB_MAX, required=False, allow_blank=True, default="", help_text=SUB
    )
    sub3 = serializers.CharField(
        max_length=SUB_MAX, required=False, allow_blank=True, default="", help_text=SUB
    )
    sub4 = serializers.CharField(
        max_length=SUB_MAX, required=False, allow_blank=True, default="", help_text=SUB
    )
    sub5 = serializers.CharField(
        max_length=SUB_MAX, required=False, allow_blank=True, default="", help_text=SUB
    )
    # Contract 1's name; DRF's Field has a ``source`` attribute of its own, which mypy sees.
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=SUB_MAX, required=False, allow_blank=True, default="", help_text="The traffic source id."
    )
    url = serializers.CharField(
        max_length=2048,
        required=False,
        allow_blank=True,
        default="",
        help_text="A deep link (contract 1's `url`).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("offer" in attrs) == ("link" in attrs):
            raise serializers.ValidationError("Give exactly one of offer and link.", code="offer_or_link")
        return attrs


class ClickOutput(serializers.Serializer[Any]):
    click_id = serializers.CharField(help_text="Pass it to the advertiser as the click id (`{click_id}`).")
    destination_url = serializers.CharField(help_text="Send the visitor here (macros already filled in).")
    offer_id = serializers.IntegerField(help_text="The offer clicked.")
    publisher_id = serializers.IntegerField(help_text="The publisher credited.")
    fraud_flags = serializers.ListField(
        child=serializers.CharField(), help_text="`bot_user_agent`, `datacenter_ip`: recorded, earns no CPC."
    )
    country = serializers.CharField(help_text="The visitor's country (ISO 3166-1 alpha-2; blank: unknown).")
    device = serializers.CharField(help_text="desktop, mobile, tablet, ...")
    os = serializers.CharField(help_text="The visitor's operating system.")


class ClickRefused(serializers.Serializer[Any]):
    code = serializers.ChoiceField(choices=REFUSALS, help_text="The reason the redirect path records.")
    message = serializers.CharField(help_text="A sentence for people.")
    click_id = serializers.CharField(help_text="The click is recorded with the reason.")
    destination_url = serializers.CharField(
        help_text="The fallback the redirect would have sent the visitor to."
    )
    fallback_offer_id = serializers.IntegerField(
        allow_null=True, help_text="The fallback offer, if one took it."
    )
    offer_id = serializers.IntegerField(help_text="The offer clicked.")
    publisher_id = serializers.IntegerField(help_text="The publisher.")
    fraud_flags = serializers.ListField(child=serializers.CharField(), help_text="As on a 201.")


class ClickThrottle(SimpleRateThrottle):
    """CLICK_API_RATE per API user. The counter lives in the cache (Redis): when that is down
    the click is let through, since the click path itself survives Redis being down."""

    scope = "clicks"

    def get_rate(self) -> str:
        return str(settings.CLICK_API_RATE)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache backend's own errors (redis-py's), whatever they are
            log.warning("click API throttle skipped: %s", exc)
            return True


_UNAVAILABLE = {"code": "storage_unavailable", "message": "The click could not be recorded; retry shortly."}


class ClickView(APIView):
    permission_classes = [IsAuthenticated, AccountStanding]
    account_act = Act.APPLY_TO_OFFERS
    role_act = Act.MANAGE_NETWORK
    throttle_classes = [ClickThrottle]

    @extend_schema(
        operation_id="clicks_create",
        request=ClickInput,
        responses={
            201: ClickOutput,
            422: OpenApiResponse(ClickRefused, description="Recorded, refused: `code` is the reason."),
            503: OpenApiResponse(
                ErrorSerializer, description="No store could record it (`storage_unavailable`)."
            ),
        },
        description=(
            "Record a click server-side (no redirect): the same checks, caps and durability as "
            "`GET /c/{token}`. Publishers (their own links) and staff (any link)."
        ),
    )
    def post(self, request: Request) -> Response:
        actor = actor_for(request.user)
        if actor.is_advertiser:
            raise exceptions.PermissionDenied("Clicks are recorded by publishers.", code="publishers_only")
        data = ClickInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        token = server_clicks.link_token_for(
            offer_id=v.get("offer"),
            link=v.get("link"),
            publisher_id=None if actor.is_staff else actor.publisher_id,
        )
        if token is None:
            raise exceptions.NotFound("You have no link for this offer (apply first).", code="no_link")
        params = {name: v[name] for name in server_clicks.PARAMS}
        environ = server_clicks.server_environ(
            ip=v["ip"], user_agent=v["user_agent"], referrer=v["referrer"], params=params
        )
        answer = server_clicks.server_click_record(token=token, environ=environ)
        if answer.status in (201, 422):
            return Response(json.loads(answer.body), status=answer.status)
        if answer.status == 404:
            raise exceptions.NotFound("This link is gone.", code="no_link")
        # 302: the link could not be read (database down, nothing cached) and the click was
        # spooled for the default fallback; 503: no store took it. Neither has a click id to give.
        return Response(_UNAVAILABLE, status=503, headers={"Retry-After": "5"})
