"""The Celery app. Settings come from Django's settings under the CELERY_ prefix."""

import gc
import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("affnet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules in app sub-packages (autodiscovery only looks at <app>.tasks).
app.autodiscover_tasks(["payouts.reports"])
app.autodiscover_tasks(["payouts.callbacks"])  # payouts.callbacks.tasks
app.autodiscover_tasks(["payouts.smartlinks"])  # payouts.smartlinks.tasks
app.autodiscover_tasks(["payouts.incrementality"])  # payouts.incrementality.tasks
app.autodiscover_tasks(["payouts.journeys"])  # payouts.journeys.tasks
# payouts keeps payout-run tasks in their own module (payouts.tasks is reconciliation's).
app.autodiscover_tasks(["payouts"], related_name="tasks_payout_runs")


def heap_freeze(**_: Any) -> None:
    """Take what a worker loaded at start (Django and the apps: ~134,000 tracked objects) out of
    the cyclic collector's view, as the edge does (tracking/clickpath/edge.py). A reconcile batch
    allocates enough rows to set off a full collection, which walked all of it every time;
    frozen, a batch of 5,000 commissions triggers none (profiled: BENCHMARKS.md, issue 12)."""
    gc.freeze()


# Each prefork child, after the fork (its imports are done); and the main process, where the
# solo and thread pools run tasks.
worker_process_init.connect(heap_freeze, weak=False)
worker_ready.connect(heap_freeze, weak=False)
