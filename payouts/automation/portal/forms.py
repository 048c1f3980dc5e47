"""The rule form: the API's fields, with choices narrowed to what the actor may use."""

from __future__ import annotations

from typing import Any

from django import forms

from affiliates.models import Creative, Offer, Publisher
from affiliates.roles import Actor, visible
from payouts.automation.models import Metric, Rule
from payouts.automation.services import EDITABLE, STAFF_ONLY_METRICS
from tracking.models import AbVariant
from tracking.models.smartlinks import SmartPath

FIELDS = list(EDITABLE)  # what a rule's owner may set: the same as the API's


class RuleForm(forms.ModelForm[Rule]):
    class Meta:
        model = Rule
        fields = FIELDS
        help_texts = {
            "creative": "Clicks do not carry a creative yet: its numbers are its offer's, narrowed by "
            "publisher "
            "and sub1 when you give them. Pausing it hides it from publishers.",
            "variant": "A variant of an A/B test on the offer: measured from its daily numbers, over "
            "all its traffic (leave publisher and sub1 empty). Pausing it sends the test's clicks to "
            "its other variants.",
            "smart_path": "A path of a smart link to the offer: measured from its daily numbers, over "
            "all its traffic (leave publisher and sub1 empty). Pausing it sends its share to the link's "
            "other paths.",
            "source": "A traffic source on the offer (the clicks' source parameter, exactly): measured "
            "hourly, for the whole offer or one publisher (leave sub1 empty). Pausing blocks it on the "
            "offer's negative list, so it needs the whole offer (no publisher); resuming unblocks it.",
            "weight": "Change a weight: the path's or variant's new relative weight.",
        }

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offers = visible(Offer.objects.all(), actor).order_by("name")
        fields: Any = self.fields
        fields["offer"].queryset = offers
        fields["publisher"].queryset = visible(Publisher.objects.all(), actor).order_by("name")
        fields["creative"].queryset = Creative.objects.filter(offer__in=offers).select_related("offer")
        fields["creative"].label_from_instance = lambda c: f"{c.name} ({c.offer.name})"
        fields["variant"].queryset = AbVariant.objects.filter(test__offer__in=offers).select_related(
            "test__offer"
        )
        fields["variant"].label_from_instance = lambda v: f"{v.label} ({v.test.name}, {v.test.offer.name})"
        fields["smart_path"].queryset = SmartPath.objects.filter(offer__in=offers).select_related(
            "smart_link", "offer"
        )
        fields["smart_path"].label_from_instance = lambda p: f"{p} of {p.smart_link.name} ({p.offer.name})"
        if actor.is_advertiser:
            fields["metric"].choices = [(k, v) for k, v in Metric.choices if k not in STAFF_ONLY_METRICS]
