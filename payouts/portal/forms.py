"""The reports page's form: the same query as ``GET /api/v1/reports/``."""

from __future__ import annotations

from typing import Any

from django import forms

from affiliates.models import Offer

GROUPS = [
    ("day", "Day"),
    ("hour", "Hour"),
    ("offer", "Offer"),
    ("publisher", "Publisher"),
    ("goal", "Goal"),
    ("country", "Country"),
    ("device", "Device"),
    ("sub1", "Sub 1"),
    ("sub2", "Sub 2"),
    ("sub3", "Sub 3"),
    ("sub4", "Sub 4"),
    ("sub5", "Sub 5"),
]


class ReportForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.MultipleChoiceField(
        label="Group by", choices=GROUPS, initial=["day"], widget=forms.SelectMultiple(attrs={"size": 6})
    )
    offer = forms.ModelChoiceField(
        label="Offer", required=False, queryset=Offer.objects.none(), empty_label="Any"
    )
    country = forms.CharField(label="Country", required=False, max_length=2)
    device = forms.ChoiceField(
        label="Device",
        required=False,
        choices=[
            ("", "Any"),
            ("desktop", "Desktop"),
            ("mobile", "Mobile"),
            ("tablet", "Tablet"),
            ("other", "Other"),
        ],
    )
    sub1 = forms.CharField(label="Sub 1", required=False, max_length=255)
    tz = forms.CharField(
        label="Time zone", initial="UTC", max_length=64, help_text="IANA name, e.g. Europe/Paris"
    )

    def __init__(self, *args: Any, offers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer: Any = self.fields["offer"]
        offer.queryset = offers

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end is before the start.")
        if data.get("tz"):
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(data["tz"])
            except (ZoneInfoNotFoundError, ValueError):
                self.add_error("tz", "Unknown time zone.")
        return data
