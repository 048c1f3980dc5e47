"""/api/v1/smart-links/: smart links with their paths, per-path numbers and optimisation runs.

Scopes (tracking.smartlinks.services.smart_links_visible): a publisher creates and sees its own
smart links, over offers it is approved on; an advertiser those it made, over its own offers,
for a publisher it can see; staff all. A publisher's view has no revenue (its numbers are its
payout). Lives in payouts because ``optimise`` runs the optimiser (payouts.smartlinks).
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.core.db import MAX_INT, db_id
from affiliates.models import Offer, Publisher
from affiliates.roles import Act, actor_for
from payouts.smartlinks.services import smart_link_optimise
from tracking.models import SmartLink, SmartPath, SmartRun
from tracking.smartlinks import services
from tracking.smartlinks.selectors import path_stats

SETTINGS = (
    "name", "mode", "kpi", "floor_share", "min_clicks", "lookback_days", "run_every_hours",
    "shift_share", "sticky_hours", "fallback_url",
)  # fmt: skip


class PathInput(serializers.Serializer[Any]):
    offer = serializers.PrimaryKeyRelatedField(
        queryset=Offer.objects.all(), help_text="The offer it sends to."
    )
    weight = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, default=100, help_text="Relative share of the traffic."
    )
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        max_length=120, required=False, default="", allow_blank=True, help_text="A name for the path."
    )
    landing_url = serializers.URLField(
        max_length=2048,  # the column's: a longer URL was PostgreSQL's "value too long", a 500
        required=False,
        default="",
        allow_blank=True,
        help_text="One of the offer's landing pages; blank: its own.",
    )
    is_catch_all = serializers.BooleanField(
        default=False, help_text="Takes what no other path accepts (one)."
    )
    status = serializers.ChoiceField(
        choices=SmartPath.Status.choices,
        default=SmartPath.Status.ACTIVE,
        help_text="A paused path is skipped.",
    )
    countries = serializers.ListField(
        child=serializers.CharField(min_length=2, max_length=2),
        default=list,
        help_text="ISO 3166; empty: any.",
    )
    devices = serializers.ListField(
        child=serializers.ChoiceField(["desktop", "mobile", "tablet"]), default=list, help_text="Empty: any."
    )
    os = serializers.ListField(
        child=serializers.CharField(max_length=32), default=list, help_text="OS names (android, ios, ...)."
    )
    hours = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=23),
        default=list,
        help_text="UTC hours; empty: all.",
    )
    daily_cap = serializers.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        required=False,
        allow_null=True,
        default=None,
        help_text="Clicks a UTC day; null: none.",
    )


class PathUpdateInput(PathInput):
    """A path's targeting, status, cap or landing page (its offer is fixed: add a new path)."""

    offer = None  # type: ignore[assignment]
    weight = None  # type: ignore[assignment]  # weights: POST weights/
    is_catch_all = None  # type: ignore[assignment]  # the catch-all stays the catch-all


class SmartLinkInput(serializers.ModelSerializer[SmartLink]):
    publisher = serializers.PrimaryKeyRelatedField(
        queryset=Publisher.objects.all(), required=False, help_text="Publishers: omitted, themselves."
    )
    paths = PathInput(many=True, help_text="The paths; exactly one with is_catch_all.")

    class Meta:
        model = SmartLink
        fields = ("publisher", "paths", *SETTINGS)


class SettingsInput(serializers.ModelSerializer[SmartLink]):
    class Meta:
        model = SmartLink
        fields = SETTINGS
        extra_kwargs = {name: {"required": False} for name in SETTINGS}


class WeightsInput(serializers.Serializer[Any]):
    weights = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_INT), help_text="path id -> weight"
    )


def _out(kind: type[serializers.Field[Any, Any, Any, Any]], text: str, **kwargs: Any) -> Any:
    return kind(help_text=text, **kwargs)


class PathOutput(serializers.Serializer[Any]):
    id = _out(serializers.IntegerField, "The path's id.")
    offer = _out(serializers.IntegerField, "The offer it sends to.")
    offer_name = _out(serializers.CharField, "The offer's name.")
    label = _out(serializers.CharField, "The path's name.")
    landing_url = _out(serializers.CharField, "Its landing page; blank: the offer's own.")
    is_catch_all = _out(serializers.BooleanField, "Takes what no other path accepts.")
    status = _out(serializers.CharField, "active or paused.")
    weight = _out(serializers.IntegerField, "Relative share of the traffic.")
    share = _out(
        serializers.FloatField, "Share of the live paths' weight (0 for the catch-all and paused paths)."
    )
    countries = _out(serializers.ListField, "ISO 3166 countries; empty: any.", child=serializers.CharField())
    devices = _out(serializers.ListField, "Devices; empty: any.", child=serializers.CharField())
    os = _out(serializers.ListField, "Operating systems; empty: any.", child=serializers.CharField())
    hours = _out(serializers.ListField, "UTC hours; empty: all day.", child=serializers.IntegerField())
    daily_cap = _out(serializers.IntegerField, "Clicks a UTC day; null: none.", allow_null=True)
    clicks = _out(serializers.IntegerField, "Clicks sent to it in the optimiser's window (rollups).")
    conversions = _out(serializers.IntegerField, "Earning conversions on those clicks.")
    cvr = _out(serializers.FloatField, "conversions / clicks.")
    currency = _out(serializers.CharField, "The offer's currency (revenue and payout).")
    payout = _out(serializers.DecimalField, "Publisher payout.", max_digits=18, decimal_places=6)
    revenue = _out(
        serializers.DecimalField,
        "Revenue (not shown to publishers).",
        max_digits=18,
        decimal_places=6,
        required=False,
    )


class RunOutput(serializers.ModelSerializer[SmartRun]):
    class Meta:
        model = SmartRun
        fields = (
            "id",
            "ran_at",
            "mode",
            "kpi",
            "outcome",
            "inputs",
            "weights_before",
            "weights_after",
            "note",
        )
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}


class SmartLinkOutput(serializers.ModelSerializer[SmartLink]):
    url = serializers.CharField(
        source="tracking_url",
        read_only=True,
        help_text="On its tracking domain (else SITE_URL): .../c/{token}.",
    )
    paths = serializers.SerializerMethodField(
        help_text="The paths with their numbers in the optimiser's window."
    )
    runs = serializers.SerializerMethodField(help_text="The last 20 optimisation runs, newest first.")

    class Meta:
        model = SmartLink
        fields = (
            *("id", "token", "url", "publisher", "advertiser", "learning_since", "last_run_at"),
            *("paths", "runs", *SETTINGS),
        )
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}

    @extend_schema_field(PathOutput(many=True))
    def get_paths(self, smart: SmartLink) -> list[dict[str, Any]]:
        publisher = actor_for(self.context["request"].user).is_publisher
        out = []
        for s in path_stats(smart=smart):
            p = s.path
            row = {
                "id": p.pk, "offer": p.offer_id, "offer_name": p.offer.name, "label": p.label,
                "landing_url": p.landing_url, "is_catch_all": p.is_catch_all, "status": p.status,
                "weight": p.weight, "share": round(s.share, 4), "countries": p.countries,
                "devices": p.devices, "os": p.os, "hours": p.hours, "daily_cap": p.daily_cap,
                "clicks": s.clicks, "conversions": s.conversions, "cvr": round(s.cvr, 6),
                "currency": s.currency, "payout": s.payout,
            }  # fmt: skip
            if not publisher:
                row["revenue"] = s.revenue
            out.append(row)
        return PathOutput(out, many=True).data  # type: ignore[return-value]

    @extend_schema_field(RunOutput(many=True))
    def get_runs(self, smart: SmartLink) -> list[dict[str, Any]]:
        return RunOutput(smart.runs.all()[:20], many=True).data  # type: ignore[return-value]


def _specs(paths: list[dict[str, Any]]) -> list[services.PathSpec]:
    return [services.PathSpec(**p) for p in paths]


class SmartLinkViewSet(viewsets.ModelViewSet[SmartLink]):
    """Smart links: one tracking link routing each visitor to one of several offers."""

    role_act = Act.MANAGE_SMART_LINKS

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    serializer_class = SmartLinkOutput
    filterset_fields = ["publisher", "mode"]
    search_fields = ["name"]
    ordering_fields = ["created_at", "name"]

    def get_queryset(self) -> Any:
        return services.smart_links_visible(actor=actor_for(self.request.user))

    def _out(self, smart: SmartLink, code: int = status.HTTP_200_OK) -> Response:
        smart = self.get_queryset().get(pk=smart.pk)
        return Response(SmartLinkOutput(smart, context={"request": self.request}).data, status=code)

    @extend_schema(request=SmartLinkInput, responses={201: SmartLinkOutput})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = actor_for(request.user)
        data = SmartLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        paths = values.pop("paths")
        publisher = values.pop("publisher", None)
        if publisher is None:
            if not actor.is_publisher:
                raise serializers.ValidationError({"publisher": ["Required."]}, code="required")
            publisher = Publisher.objects.get(pk=actor.publisher_pk)
        smart = services.smart_link_create(
            actor=actor, publisher=publisher, name=values.pop("name"), paths=_specs(paths), **values
        )
        return self._out(smart, status.HTTP_201_CREATED)

    @extend_schema(request=SettingsInput, responses=SmartLinkOutput)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = SettingsInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        smart = services.smart_link_update(
            actor=actor_for(request.user), smart=self.get_object(), **data.validated_data
        )
        return self._out(smart)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Smart links are in the wild: pause their paths instead (409 ``in_use``)."""
        self.get_object()
        return Response(
            {"code": "in_use", "message": "A smart link is never deleted; pause its paths."},
            status=status.HTTP_409_CONFLICT,
        )

    @extend_schema(request=WeightsInput, responses=RunOutput)
    @action(detail=True, methods=["post"])
    def weights(self, request: Request, pk: str | None = None) -> Response:
        """Set weights by hand (stored as a ``manual`` run)."""
        data = WeightsInput(data=request.data)
        data.is_valid(raise_exception=True)
        weights: dict[int, int] = {}
        for key, weight in data.validated_data["weights"].items():
            path_id = db_id(key)  # "²" is a digit to str, not to int()
            if path_id is None:
                message = f"{key!r} is not a path id."
                raise serializers.ValidationError({"weights": [message]}, code="bad_path_id")
            weights[path_id] = weight
        run = services.smart_weights_set(
            actor=actor_for(request.user), smart=self.get_object(), weights=weights
        )
        return Response(RunOutput(run).data)

    @extend_schema(request=PathInput, responses={201: SmartLinkOutput})
    @action(detail=True, methods=["post"])
    def paths(self, request: Request, pk: str | None = None) -> Response:
        """Add a path (learning starts again)."""
        data = PathInput(data=request.data)
        data.is_valid(raise_exception=True)
        smart = self.get_object()
        services.smart_path_add(
            actor=actor_for(request.user), smart=smart, spec=services.PathSpec(**data.validated_data)
        )
        return self._out(smart, status.HTTP_201_CREATED)

    @extend_schema(methods=["patch"], request=PathUpdateInput, responses=SmartLinkOutput)
    @extend_schema(methods=["delete"], request=None, responses={204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"paths/(?P<path_id>[0-9]{1,18})")
    def path(self, request: Request, pk: str | None = None, path_id: str | None = None) -> Response:
        """Change a path's targeting, status, cap or landing page; or remove it (learning starts again)."""
        smart = self.get_object()
        path = get_object_or_404(SmartPath, smart_link=smart, pk=path_id)
        actor = actor_for(request.user)
        if request.method == "DELETE":
            services.smart_path_remove(actor=actor, path=path)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = PathUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.smart_path_update(actor=actor, path=path, **data.validated_data)
        return self._out(smart)

    @extend_schema(request=None, responses={200: RunOutput, 409: None})
    @action(detail=True, methods=["post"])
    def optimise(self, request: Request, pk: str | None = None) -> Response:
        """Run the optimiser now, whatever the schedule (staff and the link's owner)."""
        smart = self.get_object()
        services.smart_link_edit_check(actor=actor_for(request.user), smart=smart)
        run = smart_link_optimise(smart_link_id=smart.pk, force=True)
        if run is None:
            return Response(
                {"code": "manual_mode", "message": "This link's weights are manual: set a mode to optimise."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(RunOutput(run).data)
