"""/api/v1/tracking-domains/: custom tracking domains (affiliates.tracking_domains).

An advertiser's or publisher's members add their account's domains, read each one's
verification token, verify and remove them; staff those of the accounts they see, and the
network's own (admins). Scopes and rules: affiliates.tracking_domains_access. Lives in payouts
because verifying fetches the owner's host through the SSRF-safe client (payouts.tracking_domains).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.api.base import AccountStanding
from affiliates.api.schema import ErrorSerializer
from affiliates.core.db import MAX_ID
from affiliates.roles import Act, actor_for
from affiliates.tracking_domains import WELL_KNOWN_PATH, TrackingDomain
from affiliates.tracking_domains_access import (
    tracking_domain_add,
    tracking_domain_remove,
    tracking_domains_for,
)
from payouts.tracking_domains import tracking_domain_check_now


class TrackingDomainSerializer(serializers.ModelSerializer[TrackingDomain]):
    owner = serializers.SerializerMethodField(help_text="advertiser, publisher or network.")
    status = serializers.SerializerMethodField(help_text="verified (links use it) or pending.")
    well_known_url = serializers.SerializerMethodField(help_text="Where the host must answer the token.")

    class Meta:
        model = TrackingDomain
        fields = [
            "id",
            "host",
            "owner",
            "advertiser",
            "publisher",
            "token",
            "well_known_url",
            "status",
            "verified_at",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Unique identifier."},
            "host": {"help_text": "The host name, lower case, no scheme or port."},
            "advertiser": {"help_text": "The advertiser it serves (null: a publisher's or the network's)."},
            "publisher": {"help_text": "The publisher it serves (null: an advertiser's or the network's)."},
            "token": {"help_text": f"What the host must answer at {WELL_KNOWN_PATH}."},
            "verified_at": {"help_text": "When the host first answered its token; null: not yet."},
            "created_at": {"help_text": "When it was added."},
        }

    def get_owner(self, row: TrackingDomain) -> str:
        return "publisher" if row.publisher_id else "advertiser" if row.advertiser_id else "network"

    def get_status(self, row: TrackingDomain) -> str:
        return "verified" if row.verified_at else "pending"

    def get_well_known_url(self, row: TrackingDomain) -> str:
        return f"http://{row.host}{WELL_KNOWN_PATH}"


class TrackingDomainInput(serializers.Serializer[Any]):
    host = serializers.CharField(max_length=253, help_text="e.g. trk.example.com (no scheme, no port).")
    advertiser = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_ID,
        help_text="Staff: the advertiser it serves.",
    )
    publisher = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_ID,
        help_text="Staff: the publisher it serves.",
    )


ERROR = ErrorSerializer
REFUSED = OpenApiResponse(
    ERROR, description="role_not_allowed, or account_<status>: the role or account may not manage domains."
)
MISSING = OpenApiResponse(ERROR, description="not_found: not one of your domains (or accounts).")


@extend_schema(tags=["tracking-domains"])
class TrackingDomainViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[TrackingDomain],
):
    """Custom tracking domains: links are served on a verified domain of their publisher, else
    of their advertiser, else the network's."""

    role_act = Act.MANAGE_DOMAINS
    account_act = Act.MANAGE_DOMAINS
    permission_classes = [IsAuthenticated, AccountStanding]
    serializer_class = TrackingDomainSerializer
    search_fields = ["host"]
    ordering_fields = ["host", "created_at", "verified_at"]

    def get_queryset(self) -> Any:
        return tracking_domains_for(actor=actor_for(self.request.user)).order_by("host")

    @extend_schema(
        request=TrackingDomainInput,
        responses={
            201: TrackingDomainSerializer,
            400: OpenApiResponse(
                ERROR,
                description="bad_host, site_host, host_taken, two_owners, too_many_domains or invalid.",
            ),
            403: REFUSED,
            404: MISSING,
        },
    )
    def create(self, request: Request) -> Response:
        data = TrackingDomainInput(data=request.data)
        data.is_valid(raise_exception=True)
        domain = tracking_domain_add(
            actor=actor_for(request.user),
            host=data.validated_data["host"],
            advertiser_id=data.validated_data["advertiser"],
            publisher_id=data.validated_data["publisher"],
        )
        return Response(TrackingDomainSerializer(domain).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: TrackingDomainSerializer,
            400: OpenApiResponse(ERROR, description="domain_unverified: the host does not answer its token."),
            403: REFUSED,
            404: MISSING,
        },
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        """Fetch the host's well-known token now; verified domains serve links at once."""
        domain = tracking_domain_check_now(domain=self.get_object())
        return Response(TrackingDomainSerializer(domain).data)

    @extend_schema(responses={204: None, 403: REFUSED, 404: MISSING})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        tracking_domain_remove(domain=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
