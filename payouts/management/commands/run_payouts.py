"""``python manage.py run_payouts --period YYYY-MM``: build that period's payout run, once.

Runs the build inline with a progress bar, or with ``--enqueue`` sends it to a Celery worker
and draws the bar from the task's PROGRESS state. Running it again creates nothing new.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from affiliates.core.errors import DomainError
from payouts.payout_build import DEFAULT_CHUNK_SIZE, BuildResult, payout_run_build, payout_run_start
from payouts.periods import period_label, period_of, period_parse, period_previous
from payouts.tasks_payout_runs import payout_run_build_task, payout_run_enqueue_build

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Build the payout run of a month (default: last month). Repeating it creates nothing new."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--period", help="YYYY-MM; default: the previous month (UTC).")
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
        parser.add_argument("--enqueue", action="store_true", help="Build in a Celery worker and wait.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = (
                period_parse(options["period"])
                if options["period"]
                else period_previous(period_of(timezone.now()))
            )
            run, created = payout_run_start(period=period)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.show_progress = not options["no_progress"]
        self.stdout.write(
            f"Payout run {period_label(period)} (#{run.pk}): {'created' if created else run.status}"
        )
        if options["enqueue"]:
            summary = self._enqueue_and_wait(run.pk)
        else:
            result = payout_run_build(run_id=run.pk, on_progress=self._bar, chunk_size=options["chunk_size"])
            summary = asdict(result)
        self._report(summary)

    def _enqueue_and_wait(self, run_id: int) -> dict[str, Any]:
        # Through the same path as the API, so the run records the task id the admin can look up.
        async_result = payout_run_build_task.AsyncResult(payout_run_enqueue_build(run_id=run_id))
        while not async_result.ready():
            info = async_result.info
            if async_result.state == "PROGRESS" and isinstance(info, dict):
                self._bar(int(info.get("done", 0)), int(info.get("total", 0)))
            time.sleep(0.5)
        summary: dict[str, Any] = async_result.get(propagate=True)
        return summary

    def _bar(self, done: int, total: int) -> None:
        if not self.show_progress:
            return
        filled = BAR_WIDTH if not total else BAR_WIDTH * done // total
        percent = 100 if not total else 100 * done // total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {done}/{total} publishers {percent:3d}%", ending="")
        self.stdout.flush()
        if done >= total:
            self.stdout.write("")

    def _report(self, summary: dict[str, Any]) -> None:
        result = BuildResult(**summary)
        if not result.built_now:
            self.stdout.write(f"Already built ({result.status}): nothing new created.")
        totals = ", ".join(f"{amount} {currency}" for currency, amount in result.totals.items()) or "nothing"
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.payouts} payouts ({result.created} new), total {totals}; "
                f"carried over under the minimum: {result.carried_over}; "
                f"held (no FX rate): {result.held_no_fx_rate}; "
                f"held (publisher suspended/rejected): {result.held_publisher_status}."
            )
        )
