"""Celery tasks of payout runs. Thin: load by id, call the build service, report progress.

Progress goes two ways: the task's own state (``PROGRESS`` with ``{"done", "total"}``), which
``run_payouts --enqueue`` polls, and PayoutRun.progress_*, which the admin and the API show
whatever result backend is configured.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import uuid4

from celery import Task, shared_task
from django.db import transaction
from django.utils import timezone

from payouts.documents import documents_issue_month
from payouts.models import PayoutRun
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.periods import period_of, period_previous


def _reporter(task: Task) -> Any:
    def report(done: int, total: int) -> None:
        # Eager runs (tests, inline calls) have no result backend worth writing to.
        if task.request.id and not task.request.is_eager:
            task.update_state(state="PROGRESS", meta={"done": done, "total": total})

    return report


@shared_task(bind=True, soft_time_limit=1800, time_limit=1900, acks_late=True)
def payout_run_build_task(self: Task, run_id: int) -> dict[str, Any]:
    return asdict(payout_run_build(run_id=run_id, on_progress=_reporter(self)))


@shared_task(bind=True, soft_time_limit=1800, time_limit=1900, acks_late=True)
def payout_runs_monthly(self: Task) -> dict[str, Any]:
    """Beat, on the 1st: build last month's run. A repeat finds it built and does nothing."""
    period = period_previous(period_of(timezone.now()))
    run, _ = payout_run_start(period=period)
    return asdict(payout_run_build(run_id=run.pk, on_progress=_reporter(self)))


def payout_run_enqueue_build(*, run_id: int) -> str:
    """Send the build to a worker once the current transaction commits; returns the task id.

    The task id is chosen here and stored on the run, so the admin can find the task state."""
    task_id = str(uuid4())
    PayoutRun.objects.filter(pk=run_id).update(task_id=task_id)
    transaction.on_commit(lambda: payout_run_build_task.apply_async(args=[run_id], task_id=task_id))
    return task_id


@shared_task(soft_time_limit=1800, time_limit=1900, acks_late=True)
def documents_monthly() -> dict[str, Any]:
    """Beat, on the 1st after the payout run: issue last month's invoices, credit notes and
    statements. A repeat finds them issued and issues nothing."""
    period = period_previous(period_of(timezone.now()))
    return asdict(documents_issue_month(period=period))
