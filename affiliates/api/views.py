"""Affiliates API: thin views that validate, call one service and render.

Every viewset reads through ``roles.visible`` (another tenant's row is 404) and writes only
after ``roles.may_create`` / ``roles.may_manage`` (a visible row you may not change is 403).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates import roles, services
from affiliates.api import filters
from affiliates.api import serializers as s
from affiliates.api.schema import ErrorSerializer
from affiliates.models import Advertiser, Cap, Coupon, CustomPayout, Goal, Offer, OfferAccess, Publisher

NO_DELETE = ["get", "post", "put", "patch", "head", "options"]


class RoleScopedViewSet(viewsets.ModelViewSet[Any]):
    """Base for the affiliates resources: scoping, per-role serializers and write checks."""

    #: Read-only shapes for roles that must not see every field; None means the default one.
    advertiser_serializer_class: type[serializers.BaseSerializer[Any]] | None = None
    publisher_serializer_class: type[serializers.BaseSerializer[Any]] | None = None
    #: Extra actions that change the object and so need may_manage.
    manage_actions: frozenset[str] = frozenset()
    #: What a write here is, for the account-status rule (roles.account_check); None: any status.
    write_act: roles.Act | None = roles.Act.MANAGE_OFFERS

    @property
    def actor(self) -> roles.Actor:
        return roles.actor_for(self.request.user)

    @property
    def model(self) -> type[Model]:
        return self.queryset.model  # type: ignore[union-attr]

    def get_queryset(self) -> QuerySet[Any]:
        return roles.visible(super().get_queryset(), self.actor)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        actor = self.actor
        if actor.is_publisher and self.publisher_serializer_class is not None:
            return self.publisher_serializer_class
        if actor.is_advertiser and self.advertiser_serializer_class is not None:
            return self.advertiser_serializer_class
        return super().get_serializer_class()

    def get_object(self) -> Any:
        obj = super().get_object()
        writes = {"update", "partial_update", "destroy"} | self.manage_actions
        if self.action in writes:
            if not roles.may_manage(self.actor, obj):
                raise PermissionDenied("You can see this but not change it.")
            self.account_check()
        return obj

    def account_check(self) -> None:
        if self.write_act is not None:
            roles.account_check(self.actor, self.write_act)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not roles.may_create(self.actor, self.model):
            raise PermissionDenied("Your role cannot create these.")
        self.account_check()
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.instance_create(model=self.model, **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        services.instance_update(instance=serializer.instance, **serializer.validated_data)


# --- Advertisers ---------------------------------------------------------------------------

_token_out = inline_serializer(
    "PostbackTokenRotated",
    {
        "postback_token": serializers.CharField(help_text="The new token; shown only now."),
        "postback_token_hint": serializers.CharField(help_text="Its first characters."),
    },
)
_secret_out = inline_serializer(
    "HmacSecretRotated", {"hmac_secret": serializers.CharField(help_text="The new HMAC key.")}
)


class AdvertiserViewSet(RoleScopedViewSet):
    """Advertisers. Staff create them; an advertiser sees and edits itself (not its status)."""

    role_act = roles.Act.MANAGE_OFFERS  # staff: an account manager edits their advertiser

    queryset = Advertiser.objects.all()
    serializer_class = s.AdvertiserSerializer
    advertiser_serializer_class = s.AdvertiserSelfSerializer
    filterset_class = filters.AdvertiserFilter
    search_fields = ["name"]
    ordering_fields = ["id", "name", "created_at", "status"]
    http_method_names = NO_DELETE
    manage_actions = frozenset({"rotate_postback_token", "rotate_hmac_secret"})
    # A suspended advertiser may still fix its profile and rotate credentials: its postbacks
    # are refused anyway, and it must be able to stop a leaked token.
    write_act = None

    @extend_schema(responses={201: s.AdvertiserCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not roles.may_create(self.actor, Advertiser):
            raise PermissionDenied("Only the network creates advertisers.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        advertiser, token = services.advertiser_create(**serializer.validated_data)
        out = s.AdvertiserCreatedSerializer(advertiser, context={"postback_token": token})
        return Response(out.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: _token_out})
    @action(detail=True, methods=["post"])
    def rotate_postback_token(self, request: Request, pk: str | None = None) -> Response:
        """Issue a new postback token; the old one stops working at once."""
        advertiser = self.get_object()
        token = services.advertiser_rotate_credentials(advertiser=advertiser)
        return Response({"postback_token": token, "postback_token_hint": advertiser.postback_token_hint})

    @extend_schema(request=None, responses={200: _secret_out})
    @action(detail=True, methods=["post"])
    def rotate_hmac_secret(self, request: Request, pk: str | None = None) -> Response:
        """Issue a new HMAC secret for signed postbacks; signatures with the old one fail."""
        advertiser = self.get_object()
        return Response({"hmac_secret": services.advertiser_rotate_hmac_secret(advertiser=advertiser)})


# --- Publishers ----------------------------------------------------------------------------


class PublisherViewSet(RoleScopedViewSet):
    """Publishers. A publisher edits its own profile and payout details; staff decide status."""

    role_act = roles.Act.MANAGE_OFFERS  # staff: an account manager edits their publisher
    role_acts = dict.fromkeys(("approve", "reject", "suspend"), roles.Act.DECIDE_SIGNUPS)

    queryset = Publisher.objects.all()
    serializer_class = s.PublisherSerializer
    advertiser_serializer_class = s.PublisherPublicSerializer
    filterset_class = filters.PublisherFilter
    search_fields = ["name", "email", "website"]
    ordering_fields = ["id", "name", "created_at", "status"]
    http_method_names = NO_DELETE
    write_act = None  # a pending publisher completes its own profile; status is staff's

    def perform_create(self, serializer: Any) -> None:
        """Staff create publishers they have already vetted: active unless the request says
        ``"status": "pending"`` (contract section 7). Sign-ups in the portal start pending."""
        initial = self.request.data.get("status") or Publisher.Status.ACTIVE
        if initial not in (Publisher.Status.ACTIVE, Publisher.Status.PENDING):
            raise ValidationError({"status": ["Give active or pending."]}, code="bad_status")
        serializer.instance = services.publisher_create(
            **serializer.validated_data,
            status=initial,
            status_changed_by=self.request.user,
            status_changed_at=timezone.now(),
        )

    def _transition(self, request: Request, action_name: str) -> Response:
        if not self.actor.is_staff:
            raise PermissionDenied("Only the network decides a publisher's status.")
        publisher = services.publisher_transition(
            publisher=self.get_object(),
            action=action_name,
            by=request.user,  # type: ignore[arg-type]
        )
        return Response(s.PublisherSerializer(publisher, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: s.PublisherSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Activate a pending, rejected or suspended publisher."""
        return self._transition(request, "approve")

    @extend_schema(request=None, responses={200: s.PublisherSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Decline a pending publisher's sign-up."""
        return self._transition(request, "reject")

    @extend_schema(request=None, responses={200: s.PublisherSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str | None = None) -> Response:
        """Stop an active publisher from earning; its links go to the fallback."""
        return self._transition(request, "suspend")


# --- Offers and goals ----------------------------------------------------------------------


class PublisherPricingContextMixin:
    """Loads a publisher's custom payouts and accesses once per request, for its offer views."""

    actor: roles.Actor

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        if self.actor.is_publisher:
            customs: dict[int, list[CustomPayout]] = defaultdict(list)
            for custom in CustomPayout.objects.filter(publisher_id=self.actor.publisher_pk):
                customs[custom.offer_id].append(custom)
            context["custom_payouts"] = customs
            context["accesses"] = {
                a.offer_id: a for a in OfferAccess.objects.filter(publisher_id=self.actor.publisher_pk)
            }
        return context


class OfferViewSet(PublisherPricingContextMixin, RoleScopedViewSet):
    """Offers with their goals. Publishers see the marketplace: their price, no revenue.

    Offers are not deleted (links are in the wild): expire or pause them instead.
    """

    queryset = Offer.objects.select_related("advertiser").prefetch_related("goals")
    serializer_class = s.OfferSerializer
    publisher_serializer_class = s.PublisherOfferSerializer
    filterset_class = filters.OfferFilter
    search_fields = ["name", "description", "category", "advertiser__name"]
    ordering_fields = ["id", "name", "created_at", "updated_at", "status", "category"]
    http_method_names = NO_DELETE

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not roles.may_create(self.actor, Offer):
            raise PermissionDenied("Only the network and advertisers create offers.")
        self.account_check()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        offer = services.offer_create(advertiser=data.pop("advertiser"), goals=data.pop("goals"), **data)
        return Response(self.get_serializer(offer).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.offer_update(
            offer=serializer.instance, goals=data.pop("goals", None), **data
        )
        # The prefetched goals are stale after a goals change.
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class GoalViewSet(PublisherPricingContextMixin, RoleScopedViewSet):
    """Goals as their own resource; the same rules as goals nested in an offer."""

    queryset = Goal.objects.select_related("offer")
    serializer_class = s.GoalDetailSerializer
    publisher_serializer_class = s.PublisherGoalSerializer
    filterset_class = filters.GoalFilter
    search_fields = ["code", "name"]
    ordering_fields = ["id", "code", "payout", "offer"]

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.goal_create(offer=data.pop("offer"), **data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.goal_update(goal=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Goal) -> None:
        services.goal_delete(goal=instance)


# --- Custom payouts, caps, coupons ---------------------------------------------------------


class CustomPayoutViewSet(RoleScopedViewSet):
    """Publisher-specific prices. The publisher sees its own payout, never the revenue."""

    queryset = CustomPayout.objects.select_related("offer", "goal").prefetch_related("offer__goals")
    serializer_class = s.CustomPayoutSerializer
    publisher_serializer_class = s.PublisherCustomPayoutSerializer
    filterset_class = filters.CustomPayoutFilter
    ordering_fields = ["id", "created_at", "payout"]


class CapViewSet(RoleScopedViewSet):
    """Click, conversion, payout and revenue caps per day, week or month."""

    queryset = Cap.objects.select_related("offer")
    serializer_class = s.CapSerializer
    filterset_class = filters.CapFilter
    ordering_fields = ["id", "metric", "period", "limit"]


class CouponViewSet(RoleScopedViewSet):
    """Coupon codes that attribute conversions to a publisher without a click."""

    queryset = Coupon.objects.select_related("offer")
    serializer_class = s.CouponSerializer
    filterset_class = filters.CouponFilter
    search_fields = ["code"]
    ordering_fields = ["id", "code", "created_at"]


# --- Offer access and links ----------------------------------------------------------------


class AccessViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[OfferAccess],
):
    """Applications to offers. A publisher applies (public offers approve at once); staff or
    the offer's advertiser approve or reject, or add a publisher directly (approved)."""

    role_act = roles.Act.DECIDE_ACCESS

    queryset = OfferAccess.objects.select_related("offer")
    serializer_class = s.OfferAccessSerializer
    filterset_class = filters.OfferAccessFilter
    search_fields = ["note", "offer__name", "publisher__name"]
    ordering_fields = ["id", "created_at", "decided_at", "status"]

    @property
    def actor(self) -> roles.Actor:
        return roles.actor_for(self.request.user)

    def get_queryset(self) -> QuerySet[OfferAccess]:
        return roles.visible(super().get_queryset(), self.actor)

    def get_serializer_class(self) -> Any:
        if self.action == "create" and self.actor.is_publisher:
            return s.AccessApplySerializer
        if self.action in ("approve", "reject"):
            return s.StatusChangeSerializer
        return s.OfferAccessSerializer

    @extend_schema(
        request=s.OfferAccessSerializer,
        responses={201: s.OfferAccessSerializer},
        description="Publishers send {offer, note}; staff and advertisers {offer, publisher}.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = self.actor
        if not roles.may_create(actor, OfferAccess):
            raise PermissionDenied("Your role cannot apply to offers.")
        roles.account_check(
            actor, roles.Act.APPLY_TO_OFFERS if actor.is_publisher else roles.Act.DECIDE_ACCESS
        )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not actor.is_publisher:
            roles.approval_check(actor, data["publisher"])
        if actor.is_publisher:
            publisher = Publisher.objects.get(pk=actor.publisher_pk)
            access = services.access_apply(
                offer=data["offer"], publisher=publisher, note=data.get("note", "")
            )
        else:
            access = services.access_decide(
                offer=data["offer"],
                publisher=data["publisher"],
                status=OfferAccess.Status.APPROVED,
                by=request.user,  # type: ignore[arg-type]
                note=data.get("note", ""),
            )
        out = s.OfferAccessSerializer(access, context=self.get_serializer_context())
        return Response(out.data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, decision: str) -> Response:
        access = self.get_object()
        if not roles.may_manage(self.actor, access):
            raise PermissionDenied("Only the network or the offer's advertiser decides.")
        roles.account_check(self.actor, roles.Act.DECIDE_ACCESS)
        if decision == OfferAccess.Status.APPROVED:
            roles.approval_check(self.actor, access.publisher)
        body = s.StatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        access = services.access_decide(
            offer=access.offer,
            publisher=access.publisher,
            status=decision,
            by=request.user,  # type: ignore[arg-type]
            note=body.validated_data.get("note", ""),
        )
        return Response(s.OfferAccessSerializer(access, context=self.get_serializer_context()).data)

    @extend_schema(request=s.StatusChangeSerializer, responses={200: s.OfferAccessSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve the application; the publisher's tracking link starts working."""
        return self._decide(request, OfferAccess.Status.APPROVED)

    @extend_schema(request=s.StatusChangeSerializer, responses={200: s.OfferAccessSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject the application (or revoke an approval); clicks go to the fallback."""
        return self._decide(request, OfferAccess.Status.REJECTED)

    @extend_schema(
        request=s.StatusChangeSerializer,
        responses={200: s.OfferAccessSerializer, 409: ErrorSerializer},
        description="Remove the publisher from an offer it runs; 409 not_approved when it does not.",
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Remove an approved publisher: its links stop earning; it is told; the audit log has it."""
        access = self.get_object()
        if not roles.may_manage(self.actor, access):
            raise PermissionDenied("Only the network or the offer's advertiser decides.")
        roles.account_check(self.actor, roles.Act.DECIDE_ACCESS)
        body = s.StatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        access = services.access_revoke(
            access=access,
            by=request.user,  # type: ignore[arg-type]
            note=body.validated_data.get("note", ""),
        )
        return Response(s.OfferAccessSerializer(access, context=self.get_serializer_context()).data)


class LinkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[OfferAccess]):
    """Tracking links: the approved accesses. POST approves the publisher and returns the link."""

    role_act = roles.Act.DECIDE_ACCESS

    queryset = OfferAccess.objects.filter(status=OfferAccess.Status.APPROVED)
    serializer_class = s.OfferAccessSerializer
    filterset_class = filters.OfferAccessFilter
    ordering_fields = ["id", "created_at", "decided_at"]

    @property
    def actor(self) -> roles.Actor:
        return roles.actor_for(self.request.user)

    def get_queryset(self) -> QuerySet[OfferAccess]:
        return roles.visible(super().get_queryset(), self.actor)

    @extend_schema(request=s.LinkCreateSerializer, responses={201: s.OfferAccessSerializer})
    def create(self, request: Request) -> Response:
        if not (self.actor.is_staff or self.actor.is_advertiser):
            raise PermissionDenied("Only the network or the advertiser can approve; apply via /accesses/.")
        roles.account_check(self.actor, roles.Act.DECIDE_ACCESS)
        serializer = s.LinkCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        roles.approval_check(self.actor, serializer.validated_data["publisher"])
        access = services.access_decide(
            offer=serializer.validated_data["offer"],
            publisher=serializer.validated_data["publisher"],
            status=OfferAccess.Status.APPROVED,
            by=request.user,  # type: ignore[arg-type]
        )
        return Response(s.OfferAccessSerializer(access).data, status=status.HTTP_201_CREATED)
