"""Tracking's periodic tasks."""

from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings

from tracking.clickpath import redis_conn
from tracking.clickpath.store import beat_key


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Beat schedules this every few seconds and a worker runs it: /healthz reads its time, so
    a dead beat (or no worker to run what it schedules) shows there."""
    if settings.REDIS_URL:
        redis_conn.client_always().set(beat_key(), int(time.time()), ex=86400)
