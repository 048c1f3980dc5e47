"""Forms for the conversion pages."""

from __future__ import annotations

from typing import Any

from django import forms

from affiliates.models import Offer, OfferAccess, Publisher
from tracking.models.conversions import ConversionStatus


class ConversionFilter(forms.Form):
    q = forms.CharField(label="Search", required=False, help_text="Conversion id, txn id or sub1")
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any"), *ConversionStatus.choices]
    )
    offer = forms.ModelChoiceField(
        label="Offer", required=False, queryset=Offer.objects.none(), empty_label="Any"
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, offers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer: Any = self.fields["offer"]
        offer.queryset = offers

    def params(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        data["offer"] = data["offer"].pk if data.get("offer") else None
        return data


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("approved", "Approve"),
            ("rejected", "Reject"),
            ("reversed", "Reverse"),
            ("release", "Release from review"),
        ]
    )
    reason = forms.CharField(required=False, max_length=255)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids: Any = self.fields["ids"]
        # Any integer is accepted here; the view narrows ids to the actor's own conversions.
        ids.choices = [(v, v) for v in self.data.getlist("ids")] if hasattr(self.data, "getlist") else []


class AdjustmentUploadForm(forms.Form):
    file = forms.FileField(
        label="Adjustments CSV",
        help_text="Columns: txn_id or conversion_id, status (approved/rejected/reversed), reason.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError("The file is over 5 MB; split it.", code="too_large")
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError("Upload a .csv file.", code="bad_type")
        return upload


class TestConversionForm(forms.Form):
    offer = forms.ModelChoiceField(queryset=Offer.objects.none(), label="Offer")
    goal = forms.CharField(
        label="Goal code", max_length=64, help_text="Empty: the offer's default goal.", required=False
    )
    publisher = forms.ModelChoiceField(queryset=Publisher.objects.none(), label="Publisher")
    amount = forms.DecimalField(
        label="Sale amount", required=False, min_value=0, max_digits=14, decimal_places=2
    )

    def __init__(self, *args: Any, advertiser_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer: Any = self.fields["offer"]
        offer.queryset = Offer.objects.filter(advertiser_id=advertiser_id)
        publisher: Any = self.fields["publisher"]
        publisher.queryset = Publisher.objects.filter(
            accesses__offer__advertiser_id=advertiser_id, accesses__status=OfferAccess.Status.APPROVED
        ).distinct()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        offer, code = data.get("offer"), data.get("goal")
        if offer is not None:
            goals = offer.goals.all()
            goal = goals.filter(code=code).first() if code else goals.filter(is_default=True).first()
            if goal is None:
                self.add_error("goal", f"{offer.name} has no goal {code!r}.")
            else:
                data["goal"] = goal.code
                if goal.payout_type == "cps" and data.get("amount") is None:
                    self.add_error("amount", "A CPS goal needs the sale amount.")
        return data
