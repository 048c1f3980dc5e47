"""The new-test form: the API's fields, with up to three variants on one page."""

from __future__ import annotations

from typing import Any

from django import forms

from affiliates.models import Creative, Offer
from affiliates.roles import Actor, visible
from payouts.experiments.abtests import SETTINGS, VariantSpec
from tracking.models import AbTest

ROWS = 3


class AbTestForm(forms.ModelForm[AbTest]):
    preset = forms.BooleanField(
        required=False,
        initial=True,
        label="Weekly preset",
        help_text="2-3 variants a week: a look a day for 7 days (Bonferroni across them), "
        "the winner kept for a month.",
    )

    class Meta:
        model = AbTest
        fields = ["offer", *SETTINGS]

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offers = visible(Offer.objects.all(), actor).order_by("name")
        fields: Any = self.fields
        fields["offer"].queryset = offers
        creatives = Creative.objects.filter(offer__in=offers).select_related("offer")
        for i in range(1, ROWS + 1):
            fields[f"label_{i}"] = forms.CharField(label=f"Variant {i} label", required=i <= 2, max_length=80)
            fields[f"url_{i}"] = forms.URLField(
                label=f"Variant {i} landing URL", required=False, max_length=2048, assume_scheme="https"
            )
            fields[f"creative_{i}"] = forms.ModelChoiceField(
                creatives, label=f"Variant {i} creative", required=False
            )

    def variants(self) -> list[VariantSpec]:
        data = self.cleaned_data
        return [
            VariantSpec(
                label=data[f"label_{i}"], landing_url=data[f"url_{i}"] or "", creative=data[f"creative_{i}"]
            )
            for i in range(1, ROWS + 1)
            if data.get(f"label_{i}")
        ]
