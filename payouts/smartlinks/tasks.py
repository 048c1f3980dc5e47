"""Beat entry point: refresh the smart-link rollups of the last two days, then run the due
optimisations. Thin: each step is one service call."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from payouts.smartlinks.rollup import smart_rollup_refresh
from payouts.smartlinks.services import smart_link_optimise, smart_links_due


@shared_task(name="payouts.smartlinks.optimise_tick", ignore_result=True, time_limit=600)
def smart_links_optimise_tick() -> dict[str, int]:
    now = timezone.now()
    today = now.date()
    rows = smart_rollup_refresh(first=today - timedelta(days=1), last=today)
    runs = 0
    for smart_id in smart_links_due(now=now).values_list("pk", flat=True):
        runs += smart_link_optimise(smart_link_id=smart_id, now=now) is not None
    return {"rollup_rows": rows, "runs": runs}
