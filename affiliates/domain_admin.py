"""Staff manage tracking domains in the admin (affiliates/tracking_domains.py): add a host for an
advertiser, a publisher or the network, read the token the host must answer, verify."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from affiliates.core.errors import DomainError
from affiliates.tracking_domains import (
    WELL_KNOWN_PATH,
    TrackingDomain,
    tracking_domain_check,
    tracking_domain_create,
    tracking_domain_verify,
)


class TrackingDomainForm(forms.ModelForm[TrackingDomain]):
    class Meta:
        model = TrackingDomain
        fields = ["host", "advertiser", "publisher"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and data.get("host"):
            # The service's checks (host shape, one owner, not SITE_URL's host), as form errors.
            try:
                data["host"] = tracking_domain_check(
                    host=data["host"],
                    advertiser_id=getattr(data.get("advertiser"), "pk", None),
                    publisher_id=getattr(data.get("publisher"), "pk", None),
                )
            except DomainError as refused:
                raise forms.ValidationError(refused.message, code=refused.code) from refused
        return data


@admin.register(TrackingDomain)
class TrackingDomainAdmin(admin.ModelAdmin[TrackingDomain]):
    form = TrackingDomainForm
    list_display = ["host", "owner", "verified_at", "created_at"]
    list_filter = [("verified_at", admin.EmptyFieldListFilter)]
    search_fields = ["host", "advertiser__name", "publisher__name"]
    readonly_fields = ["token", "well_known", "verified_at", "created_at"]
    actions = ["verify"]

    @admin.display(description="The host must answer")
    def well_known(self, obj: TrackingDomain) -> str:
        return f"http://{obj.host}{WELL_KNOWN_PATH} -> {obj.token}" if obj.pk else "-"

    def save_model(self, request: HttpRequest, obj: TrackingDomain, form: Any, change: bool) -> None:
        if change:  # the host is fixed once created (its token and verification are the host's)
            super().save_model(request, obj, form, change)
            return
        made = tracking_domain_create(
            host=obj.host, advertiser_id=obj.advertiser_id, publisher_id=obj.publisher_id
        )
        obj.pk, obj.token, obj.created_at = made.pk, made.token, made.created_at

    def get_readonly_fields(self, request: HttpRequest, obj: TrackingDomain | None = None) -> Any:
        return [*self.readonly_fields, "host"] if obj is not None else self.readonly_fields

    @admin.action(description="Verify the selected domains (fetch their well-known token)")
    def verify(self, request: HttpRequest, queryset: QuerySet[TrackingDomain]) -> None:
        for domain in queryset:
            try:
                tracking_domain_verify(domain=domain)
                self.message_user(request, f"{domain.host}: verified.", messages.SUCCESS)
            except DomainError as refused:
                self.message_user(request, f"{domain.host}: {refused.message}", messages.ERROR)
