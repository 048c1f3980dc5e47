"""Celery entry points for A/B tests and budget shifts. Thin: one service call each.

``ab_tests_tick`` (hourly) refreshes the variant rollups of the last two days and takes each
running test's look of the day; ``budget_shifts_tick`` (weekly, Monday) makes each
advertiser's proposals for the week.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from affiliates.core.audit import audit_system
from affiliates.models import Advertiser
from payouts.experiments import abtests, shifts
from payouts.experiments.rollup import ab_rollup_refresh


@shared_task(name="experiments.ab_tests_tick", ignore_result=True, time_limit=600)
def ab_tests_tick() -> dict[str, int]:
    now = timezone.now()
    rows = ab_rollup_refresh(first=now.date() - timedelta(days=1), last=now.date())
    looks = 0
    for test_id in abtests.ab_tests_due(now=now).values_list("pk", flat=True):
        with audit_system(f"A/B test {test_id} look"):
            looks += abtests.ab_test_look(test_id=test_id, now=now) is not None
    return {"rollup_rows": rows, "looks": looks}


@shared_task(name="experiments.budget_shifts_tick", ignore_result=True, time_limit=1200)
def budget_shifts_tick() -> int:
    made = 0
    for advertiser_id in shifts.advertisers_due(now=timezone.now()):
        with audit_system(f"budget shifts of advertiser {advertiser_id}"):
            made += len(shifts.budget_shifts_propose(advertiser=Advertiser.objects.get(pk=advertiser_id)))
    return made
