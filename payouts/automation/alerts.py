"""A firing's alert: an in-app notification and an e-mail to the people behind the offer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse

from affiliates.notifications import notifications_create
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
    notifications_create(recipients=people, title=title, body=body, link=link)
    emails = [user.email for user in people if user.email]
    if emails:
        url = settings.SITE_URL.rstrip("/") + link
        send_mail(
            subject=title,
            message=f"{body}\n\nUndo or review it: {url}\n",
            from_email=None,
            recipient_list=emails,
        )
    return len(people)
