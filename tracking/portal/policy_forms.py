"""Forms of the traffic policy page: the scope picker shared by caps and uploads, the CSV
upload, a frequency cap and a naming template."""

from __future__ import annotations

from typing import Any

from django import forms

from affiliates.core.db import MAX_INT
from affiliates.models import Advertiser, Offer
from affiliates.roles import Actor, visible
from tracking.models.policy import FrequencyCap, ListEntry, NamingTemplate


def scope_choices(actor: Actor) -> list[tuple[str, str]]:
    """``network`` (staff), ``advertiser:<id>`` and ``offer:<id>``, as the actor may write them."""
    out: list[tuple[str, str]] = (
        [("network", "The whole network")] if actor.is_staff and not actor.is_account_manager else []
    )
    for adv in visible(Advertiser.objects.all(), actor).order_by("name"):
        out.append((f"advertiser:{adv.pk}", f"Advertiser: {adv.name} (all its offers)"))
    for offer in visible(Offer.objects.all(), actor).order_by("name"):
        out.append((f"offer:{offer.pk}", f"Offer: {offer.name}"))
    return out


def scope_objects(value: str) -> tuple[Advertiser | None, Offer | None]:
    kind, _, pk = value.partition(":")
    if kind == "advertiser":
        return Advertiser.objects.get(pk=int(pk)), None
    if kind == "offer":
        return None, Offer.objects.get(pk=int(pk))
    return None, None


class ScopedForm(forms.Form):
    scope = forms.ChoiceField(label="Applies to")
    form_prefix = ""

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        # Two of these share the page: a prefix each keeps their field ids apart.
        kwargs.setdefault("prefix", self.form_prefix or None)
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = scope_choices(actor)  # type: ignore[attr-defined]


class UploadForm(ScopedForm):
    form_prefix = "upload"
    mode = forms.ChoiceField(choices=ListEntry.Mode.choices, initial=ListEntry.Mode.BLOCK, label="List")
    file = forms.FileField(label="CSV file", help_text="A header row, then kind,value[,mode][,note] rows.")
    replace = forms.BooleanField(required=False, label="Replace the list (remove entries the file lacks)")


class CapForm(ScopedForm):
    form_prefix = "cap"
    window_days = forms.TypedChoiceField(choices=FrequencyCap.Window.choices, coerce=int, label="Window")
    limit = forms.IntegerField(min_value=1, max_value=MAX_INT, label="Clicks per visitor")


class TemplateForm(forms.ModelForm[NamingTemplate]):
    class Meta:
        model = NamingTemplate
        fields = ("name", "field", "pattern")
