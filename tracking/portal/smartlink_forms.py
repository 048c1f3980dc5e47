"""Forms of the smart-link pages: the link's settings, one row per path, weights by hand."""

from __future__ import annotations

from typing import Any

from django import forms

from affiliates.core.db import MAX_INT, db_id
from affiliates.models import Offer, Publisher
from tracking.models import SmartLink
from tracking.smartlinks.services import PathSpec

DEVICES = [("desktop", "Desktop"), ("mobile", "Mobile"), ("tablet", "Tablet")]


def _codes(text: str) -> list[str]:
    return [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]


def _hours(text: str) -> list[int]:
    """ "8-18" or "8,9,10" -> UTC hours; "22-2" wraps past midnight."""
    hours: list[int] = []
    for part in _codes(text):
        first, _, last = part.partition("-")
        if db_id(first) is None or (last and db_id(last) is None):
            raise forms.ValidationError("Hours are like 8-18 or 8,9,10 (UTC).", code="bad_hours")
        a, b = int(first), int(last or first)
        if not (0 <= a <= 23 and 0 <= b <= 23):
            raise forms.ValidationError("Hours run from 0 to 23 (UTC).", code="bad_hours")
        hours += list(range(a, b + 1)) if a <= b else [*range(a, 24), *range(0, b + 1)]
    return sorted(set(hours))


class SmartLinkForm(forms.ModelForm[SmartLink]):
    publisher = forms.ModelChoiceField(queryset=Publisher.objects.none(), required=False)

    class Meta:
        model = SmartLink
        fields = ["name", "publisher", "mode", "kpi", "floor_share", "min_clicks", "lookback_days",
                  "run_every_hours", "shift_share", "sticky_hours", "fallback_url"]  # fmt: skip
        labels = {"kpi": "KPI", "fallback_url": "Fallback URL"}

    def __init__(self, *args: Any, publishers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if publishers is None:  # a publisher makes links for itself
            del self.fields["publisher"]
        else:
            field: Any = self.fields["publisher"]
            field.queryset, field.required = publishers, True


class PathRowForm(forms.Form):
    offer = forms.ModelChoiceField(
        queryset=Offer.objects.none(),
        required=False,
        empty_label="—",
        widget=forms.Select(attrs={"style": "min-width: 12em"}),
    )
    label = forms.CharField(required=False, max_length=120)
    weight = forms.IntegerField(min_value=0, max_value=MAX_INT, initial=100, required=False)
    countries = forms.CharField(required=False, help_text="e.g. US, CA (empty: any)")
    devices = forms.MultipleChoiceField(choices=DEVICES, required=False, widget=forms.CheckboxSelectMultiple)
    hours = forms.CharField(required=False, help_text="UTC, e.g. 8-18 (empty: all day)")
    daily_cap = forms.IntegerField(min_value=1, max_value=MAX_INT, required=False)
    catch_all = forms.BooleanField(required=False, label="Catch-all")

    def __init__(self, *args: Any, offers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["offer"]
        field.queryset = offers

    def clean_hours(self) -> list[int]:
        return _hours(self.cleaned_data.get("hours") or "")

    def spec(self) -> PathSpec | None:
        d = self.cleaned_data
        if not d.get("offer"):
            return None
        return PathSpec(
            offer=d["offer"],
            label=d.get("label") or "",
            weight=100 if d.get("weight") is None else d["weight"],
            countries=[c.upper() for c in _codes(d.get("countries") or "")],
            devices=list(d.get("devices") or []),
            hours=d.get("hours") or [],
            daily_cap=d.get("daily_cap"),
            is_catch_all=bool(d.get("catch_all")),
        )


PathRows = forms.formset_factory(PathRowForm, extra=5, max_num=10)
