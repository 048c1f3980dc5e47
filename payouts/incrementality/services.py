"""Stopping holdout tests: at their end date, when the sequential rule finds the answer clear,
or by hand; each stop stores the final report and tells the people behind the offer in-app.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from affiliates.notifications import notifications_create
from payouts.incrementality.report import holdout_report
from tracking.holdouts.services import holdout_test_stop
from tracking.models.holdouts import HoldoutTest

_SENTENCES: dict[str, str] = {
    HoldoutTest.StopReason.END_DATE: "it reached its end date",
    HoldoutTest.StopReason.SEQUENTIAL: "the sequential rule found the answer clear",
    HoldoutTest.StopReason.MANUAL: "it was stopped by hand",
}


def _recipients(test: HoldoutTest) -> list[Any]:
    """The advertiser's active users and whoever started the test (staff included)."""
    users = list(get_user_model().objects.filter(advertisers=test.offer.advertiser_id, is_active=True))
    if test.created_by is not None and test.created_by.is_active:
        users.append(test.created_by)
    return list({user.pk: user for user in users}.values())


def _notify(test: HoldoutTest) -> int:
    lines = test.result.get("explanation", [])
    title = f"Holdout test “{test.name}” stopped: {_SENTENCES.get(test.stop_reason, test.stop_reason)}"
    link = reverse("incrementality_portal:holdout", args=[test.pk])
    return notifications_create(recipients=_recipients(test), title=title, body="\n".join(lines), link=link)


def holdout_test_finish(*, test_id: int, reason: str, now: datetime | None = None) -> bool:
    """Stop the test with its final report and notify; False when it was stopped already."""
    now = now or timezone.now()
    test = HoldoutTest.objects.select_related("offer").get(pk=test_id)
    report = holdout_report(test=test, now=now)
    with transaction.atomic():
        stopped = holdout_test_stop(test_id=test_id, reason=reason, result=report, now=now)
        if stopped:
            test.refresh_from_db()
            _notify(test)
    return stopped


def holdout_test_check(*, test_id: int, now: datetime | None = None) -> str:
    """One look at a running test: the reason it was stopped for, or "" when it goes on."""
    now = now or timezone.now()
    test = HoldoutTest.objects.select_related("offer").get(pk=test_id)
    if test.status != HoldoutTest.Status.RUNNING:
        return ""
    if now >= test.ends_at:
        reason = HoldoutTest.StopReason.END_DATE
    elif test.stopping == HoldoutTest.Stopping.SEQUENTIAL and now >= test.starts_at:
        if not holdout_report(test=test, now=now)["sequential"]["stop"]:
            return ""
        reason = HoldoutTest.StopReason.SEQUENTIAL
    else:
        return ""
    return reason if holdout_test_finish(test_id=test_id, reason=reason, now=now) else ""


def holdout_tests_running() -> list[int]:
    return list(HoldoutTest.objects.filter(status=HoldoutTest.Status.RUNNING).values_list("pk", flat=True))
