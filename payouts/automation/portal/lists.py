"""The automation rule list on the one list helper (affiliates.portal.tables): search, filters,
sortable columns, pagination and the CSV of the same rows, for advertisers (the rules on their
offers) and staff (every rule; account managers their advertisers')."""

from __future__ import annotations

from dataclasses import replace

from django.utils import timezone

from affiliates.models import Advertiser, Offer
from affiliates.portal.tables import Column, Filter, ListSpec, model_choices
from payouts.automation.models import Action, Rule, Scope


def _watches(rule: Rule) -> str:
    parts = [rule.get_scope_display(), rule.offer.name]
    if rule.creative is not None:
        parts.append(rule.creative.name)
    if rule.variant is not None:
        parts.append(f"variant {rule.variant.label} ({rule.variant.test.name})")
    if rule.publisher is not None:
        parts.append(rule.publisher.name)
    if rule.sub1:
        parts.append(f"sub1 {rule.sub1}")
    if rule.source:
        parts.append(f"source {rule.source}")
    return " · ".join(parts)


def _when(rule: Rule) -> str:
    condition = f"{rule.get_metric_display()} {rule.get_comparison_display()} {rule.threshold.normalize()}"
    volume = f"after {rule.min_clicks} clicks"
    if rule.min_conversions:
        volume += f" and {rule.min_conversions} conversions"
    return f"{condition}; last {rule.window_hours} h, {volume}"


def _checked(rule: Rule) -> str:
    if rule.last_checked_at is None:
        return ""
    at = timezone.localtime(rule.last_checked_at).strftime("%Y-%m-%d %H:%M")
    return f"{at}: {rule.last_result}" if rule.last_result else at


RULES = ListSpec(
    columns=(
        Column("name", "Rule", "name", value="name"),
        Column("advertiser", "Advertiser", "advertiser__name", value="advertiser.name"),
        Column("watches", "Watches", "scope", value=_watches),
        Column("when", "When", "metric", value=_when),
        Column("action", "Then", "action", value="get_action_display"),
        Column("checked", "Last check", "last_checked_at", value=_checked),
        Column("active", "Status", "is_active", value=lambda r: "active" if r.is_active else "paused"),
    ),
    default_sort="name",
    search=("name", "offer__name", "publisher__name", "sub1", "source"),
    search_label="Rule, offer, publisher, sub1 or source",
    filters=(
        Filter("active", "Status", "is_active", [("True", "Active"), ("False", "Paused")]),
        Filter("scope", "Watches", "scope", Scope.choices),
        Filter("action", "Then", "action", Action.choices),
        Filter("advertiser", "Advertiser", "advertiser_id", model_choices(Advertiser.objects.all())),
        Filter("offer", "Offer", "offer_id", model_choices(Offer.objects.all())),
    ),
    page_size=25,
)

#: An advertiser's own list: the same without the advertiser column and filter.
OWN_RULES = replace(
    RULES,
    columns=tuple(c for c in RULES.columns if c.key != "advertiser"),
    filters=tuple(f for f in RULES.filters if f.key != "advertiser"),
)
