"""/api/v1/frequency-caps/, /api/v1/list-entries/ (with upload/) and /api/v1/naming-templates/
(with report/): issue 14's traffic policy.

Staff manage every scope (the network's included); an advertiser its own account and offers,
and sees only those; publishers see no lists or caps (403) but may read the naming templates
and split their own sub ids by them. Another advertiser's row does not exist (404).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.api.base import AccountStanding, IsStaff
from affiliates.core.db import MAX_INT
from affiliates.models import Advertiser, Offer
from affiliates.roles import Act, actor_for, visible
from tracking.models.policy import FrequencyCap, ListEntry, NamingTemplate
from tracking.policy import selectors, services
from tracking.policy.naming import template_parts


class IsAdvertiserOrStaff(BasePermission):
    message = "Only advertisers and network staff manage negative lists and frequency caps."

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = actor_for(request.user)
        return actor.is_staff or actor.is_advertiser


class ScopeInput(serializers.Serializer[Any]):
    advertiser = serializers.PrimaryKeyRelatedField(
        queryset=Advertiser.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Staff: empty for the whole network. Advertisers: omitted, themselves.",
    )
    offer = serializers.PrimaryKeyRelatedField(
        queryset=Offer.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="This offer only.",
    )


def _scope(request: Request, data: dict[str, Any]) -> services.Scope:
    actor = actor_for(request.user)
    offer = data.get("offer")
    if offer is not None and not visible(Offer.objects.filter(pk=offer.pk), actor).exists():
        raise ValidationError({"offer": ["Invalid pk - object does not exist."]}, code="does_not_exist")
    return services.scope_resolve(actor=actor, advertiser=data.get("advertiser"), offer=offer)


COMMON = {
    "id": {"help_text": "The row's id."},
    "created_at": {"help_text": "When it was made (UTC)."},
    "updated_at": {"help_text": "When it was last changed (UTC)."},
}


class ScopedOutput(serializers.ModelSerializer[Any]):
    scope = serializers.CharField(read_only=True, help_text="network, advertiser or offer.")


class FrequencyCapSerializer(ScopedOutput):
    class Meta:
        model = FrequencyCap
        fields = ("id", "scope", "advertiser", "offer", "window_days", "limit", "created_at", "updated_at")
        read_only_fields = ("advertiser", "offer")
        extra_kwargs = COMMON


class FrequencyCapInput(ScopeInput):
    window_days = serializers.ChoiceField(choices=FrequencyCap.Window.choices, help_text="1, 7 or 14.")
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, help_text="Clicks one visitor may be sent in the window."
    )


class _PolicyViewSet(viewsets.GenericViewSet[Any]):
    permission_classes = [IsAuthenticated, IsAdvertiserOrStaff, AccountStanding]
    account_act = Act.MANAGE_OFFERS
    ordering_fields = ["id", "created_at"]


class FrequencyCapViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, _PolicyViewSet
):
    """Frequency caps across offers: at most ``limit`` clicks of one visitor to the scope's
    offers in a rolling 1, 7 or 14 days; over it, the fallback with reason frequency_cap."""

    serializer_class = FrequencyCapSerializer
    filterset_fields = ["advertiser", "offer", "window_days"]

    def get_queryset(self) -> Any:
        return selectors.frequency_caps_visible(actor=actor_for(self.request.user))

    @extend_schema(request=FrequencyCapInput, responses={201: FrequencyCapSerializer})
    def create(self, request: Request) -> Response:
        """Set the scope's cap for a window (creates it, or changes its limit)."""
        data = FrequencyCapInput(data=request.data)
        data.is_valid(raise_exception=True)
        scope = _scope(request, data.validated_data)
        cap = services.frequency_cap_set(
            scope=scope,
            window_days=int(data.validated_data["window_days"]),
            limit=data.validated_data["limit"],
        )
        return Response(FrequencyCapSerializer(cap).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: FrequencyCap) -> None:
        services.frequency_cap_delete(cap=instance)


class ListEntrySerializer(ScopedOutput):
    class Meta:
        model = ListEntry
        fields = ("id", "scope", "advertiser", "offer", "mode", "kind", "value", "note", "created_at")
        read_only_fields = ("advertiser", "offer")
        extra_kwargs = {
            **COMMON,
            "mode": {"help_text": "block: matching clicks are refused; allow: only matching clicks pass."},
            "kind": {"help_text": "What the value is compared with."},
        }


class ListEntryInput(ScopeInput):
    mode = serializers.ChoiceField(
        choices=ListEntry.Mode.choices, default=ListEntry.Mode.BLOCK, help_text="block (default) or allow."
    )
    kind = serializers.ChoiceField(
        choices=ListEntry.Kind.choices, help_text="What the value is compared with."
    )
    value = serializers.CharField(max_length=255, help_text="Normalised on save (CIDR, lower-case domain).")
    note = serializers.CharField(
        max_length=255, required=False, default="", allow_blank=True, help_text="Why it is on the list."
    )


class UploadInput(ScopeInput):
    file = serializers.FileField(help_text="CSV with a header row: kind,value[,mode][,note].")
    mode = serializers.ChoiceField(
        choices=ListEntry.Mode.choices, default=ListEntry.Mode.BLOCK, help_text="For rows without a mode."
    )
    replace = serializers.BooleanField(
        default=False, help_text="Remove the scope's entries (of the modes in the file) that the file lacks."
    )


class UploadOutput(serializers.Serializer[Any]):
    rows = serializers.IntegerField(help_text="Distinct rows in the file.")
    added = serializers.IntegerField(help_text="Entries that were not on the lists yet.")
    removed = serializers.IntegerField(help_text="Entries removed (replace=true).")


class ListEntryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, _PolicyViewSet
):
    """Block lists and allow lists of publishers, sub ids, sources, referrer domains, IP ranges
    and networks (AS names), per offer, advertiser or the network. A click a list refuses is
    recorded with reason blocked and sent to the fallback, within seconds of the change."""

    serializer_class = ListEntrySerializer
    role_act = Act.REVIEW_FRAUD  # staff: blocklists are the fraud analysts' (roles.STAFF_MAY)
    filterset_fields = ["advertiser", "offer", "mode", "kind"]
    search_fields = ["value", "note"]

    def get_queryset(self) -> Any:
        return selectors.list_entries_visible(actor=actor_for(self.request.user))

    @extend_schema(request=ListEntryInput, responses={201: ListEntrySerializer})
    def create(self, request: Request) -> Response:
        data = ListEntryInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        entry = services.list_entry_add(
            actor=actor_for(request.user),
            scope=_scope(request, v),
            mode=v["mode"],
            kind=v["kind"],
            value=v["value"],
            note=v["note"],
        )
        return Response(ListEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ListEntry) -> None:
        services.list_entry_delete(entry=instance)

    @extend_schema(
        summary="Upload a CSV of list entries",
        request={"multipart/form-data": UploadInput},
        responses={200: UploadOutput},
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def upload(self, request: Request) -> Response:
        """All rows or none: a file with any bad row answers 400 ``bad_csv`` with
        ``fields.rows``, a list of ``{row, errors}`` (row 1 is the header), and writes nothing."""
        data = UploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            text = v["file"].read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError({"file": ["The file is not UTF-8 text."]}, code="bad_encoding") from exc
        try:
            result = services.list_entries_upload(
                actor=actor_for(request.user),
                scope=_scope(request, v),
                text=text,
                default_mode=v["mode"],
                replace=v["replace"],
            )
        except services.BadUpload as exc:
            body = {"code": exc.code, "message": exc.message, "fields": {"rows": exc.rows}}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(UploadOutput(result).data)


class NamingTemplateSerializer(serializers.ModelSerializer[NamingTemplate]):
    parts = serializers.SerializerMethodField(help_text="The template's part names, in order.")

    class Meta:
        model = NamingTemplate
        fields = ("id", "name", "field", "pattern", "parts", "created_at", "updated_at")
        extra_kwargs = {**COMMON, "name": {"help_text": "The template's name."}}

    def get_parts(self, obj: NamingTemplate) -> list[str]:
        return template_parts(obj.pattern)


class NamingReportRow(serializers.Serializer[Any]):
    parts = serializers.DictField(child=serializers.CharField(), help_text="part -> value; (unmatched)")
    currency = serializers.CharField(help_text="Of the money columns (sub1 only).")
    clicks = serializers.IntegerField(help_text="Clicks (gross) whose value has these parts.")
    conversions = serializers.IntegerField(allow_null=True, help_text="sub1 only (from the rollups).")
    revenue = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, help_text="Staff, advertisers."
    )
    payout = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, help_text="Publisher payout (sub1 only)."
    )


class NamingTemplateViewSet(viewsets.ModelViewSet[NamingTemplate]):
    """The network's naming templates for sub ids and sources (staff write; every role reads),
    and a report that splits a field's values by its template's parts."""

    serializer_class = NamingTemplateSerializer
    queryset = NamingTemplate.objects.all()
    ordering_fields = ["field", "id"]

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("list", "retrieve", "report"):
            return [IsAuthenticated()]
        return [IsAuthenticated(), IsStaff()]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.naming_template_save(template=None, **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        data = {"name": serializer.instance.name, "field": serializer.instance.field}
        data |= {"pattern": serializer.instance.pattern, **serializer.validated_data}
        serializer.instance = services.naming_template_save(template=serializer.instance, **data)

    @extend_schema(
        summary="Split a field's values by the template's parts",
        parameters=[
            OpenApiParameter("group_by", str, description="Comma-separated part names.", required=True),
            OpenApiParameter("date_from", str, description="UTC day, YYYY-MM-DD (default: 7 days ago)."),
            OpenApiParameter("date_to", str, description="UTC day, YYYY-MM-DD (default: today)."),
        ],
        responses={200: NamingReportRow(many=True)},
    )
    # Every group, not a page; the templates' list filters do not apply (make fuzz: the schema
    # documented a page while the answer was the list).
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def report(self, request: Request, pk: str | None = None) -> Response:
        dates = DateRange(data=request.query_params)
        dates.is_valid(raise_exception=True)
        today = timezone.now().date()
        end = dates.validated_data.get("date_to") or today
        start = dates.validated_data.get("date_from") or end - timedelta(days=6)
        if start > end:
            raise ValidationError({"date_from": ["After date_to."]}, code="bad_range")
        rows = selectors.naming_report(
            actor=actor_for(request.user),
            template=self.get_object(),
            group_by=[p.strip() for p in dates.validated_data["group_by"].split(",") if p.strip()],
            start=start,
            end=end,
        )
        return Response(NamingReportRow(rows, many=True).data)


class DateRange(serializers.Serializer[Any]):
    group_by = serializers.CharField()
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
