"""A firing's alert: an in-app notification and an e-mail to the people behind the offer."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse

from affiliates.notifications import Kind
from affiliates.notify import notify
from payouts.automation.models import Firing, Rule
from payouts.automation.selectors import scope_label


def recipients(rule: Rule) -> list[Any]:
    """The advertiser's active users, and whoever created the rule (staff included)."""
    users = list(get_user_model().objects.filter(advertisers=rule.advertiser_id, is_active=True))
    if rule.created_by is not None and rule.created_by.is_active:
        users.append(rule.created_by)
    return list({user.pk: user for user in users}.values())


def alert_send(*, firing: Firing) -> int:
    """Notify in-app and by e-mail; the number of people told."""
    rule = firing.rule
    people = recipients(rule)
    title = f"Rule “{rule.name}” fired: {firing.detail}"
    body = (
        f"{rule.get_metric_display()} was {firing.metric_value} ({rule.get_comparison_display()} "
        f"{rule.threshold}) for {scope_label(rule)}, in the hours {firing.window_start:%Y-%m-%d %H:%M} to "
        f"{firing.window_end:%Y-%m-%d %H:%M} UTC, over {firing.values.get('gross_clicks')} clicks and "
        f"{firing.values.get('conversions')} conversions.\n"
        f"Action: {firing.get_action_display()}: {firing.detail}."
    )
    link = reverse("automation_portal:rule", args=[rule.pk])
    # E-mail and in-app, as each person chose; e-mails go out from the worker after commit.
    return notify(kind=Kind.RULE_FIRED, recipients=people, title=title, body=body, link=link)
