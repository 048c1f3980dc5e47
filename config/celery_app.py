"""The Celery app. Settings come from Django's settings under the CELERY_ prefix."""

import os

from celery import Celery

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
