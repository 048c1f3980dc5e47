"""The holdout test form: the API's fields, offers and publishers narrowed to the actor's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from affiliates.models import Offer, Publisher
from affiliates.roles import Actor, may_manage, visible
from tracking.models.holdouts import HoldoutTest


class HoldoutForm(forms.ModelForm[HoldoutTest]):
    ends_at = forms.DateTimeField(
        help_text="UTC, e.g. 2026-12-31 00:00. The test stops then at the latest.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    class Meta:
        model = HoldoutTest
        fields = [
            "offer", "name", "publishers", "holdout_share", "ends_at", "control", "control_url", "stopping",
            "minimum_lift",
        ]  # fmt: skip
        widgets = {"control": forms.RadioSelect, "publishers": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        offers = [o.pk for o in visible(Offer.objects.all(), actor) if may_manage(actor, o)]
        fields["offer"].queryset = Offer.objects.filter(pk__in=offers).order_by("name")
        fields["publishers"].queryset = (
            visible(Publisher.objects.all(), actor)
            .filter(accesses__offer__in=offers)
            .distinct()
            .order_by("name")
        )
        fields["publishers"].required = False
        fields["holdout_share"].initial = Decimal("0.10")
        fields["minimum_lift"].initial = Decimal("0.10")
        fields["ends_at"].initial = (timezone.now() + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M")
