"""Beat entry point: look at every running holdout test (end date, sequential rule)."""

from __future__ import annotations

from celery import shared_task

from payouts.incrementality.services import holdout_test_check, holdout_tests_running


@shared_task(name="payouts.incrementality.holdouts_tick", ignore_result=True, time_limit=600)
def holdouts_tick() -> dict[str, int]:
    stopped = 0
    for test_id in holdout_tests_running():
        stopped += bool(holdout_test_check(test_id=test_id))
    return {"stopped": stopped}
