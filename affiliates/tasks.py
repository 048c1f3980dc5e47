"""affiliates' Celery jobs (beat: CELERY_BEAT_SCHEDULE in config/settings/base.py)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from affiliates.core.audit_retention import audit_prune


@shared_task(soft_time_limit=1800, time_limit=1900, acks_late=True)
def audit_prune_task() -> dict[str, Any]:
    """Daily: the audit entries past AUDIT_RETENTION_DAYS go (a repeat deletes nothing)."""
    pruned = audit_prune()
    return {"deleted": pruned.deleted, "cutoff": pruned.cutoff.isoformat()}
