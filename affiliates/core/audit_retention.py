"""Audit log retention: entries older than AUDIT_RETENTION_DAYS are deleted by a beat job
(affiliates.tasks.audit_prune_task), which logs what it deleted as an entry of its own.

On PostgreSQL the log is append-only (affiliates/triggers.py): a trigger refuses every UPDATE
and every DELETE except this job's, which names its cutoff for its own transaction with
``SET LOCAL affnet.audit_prune_before``; the trigger then lets through only entries older than
that cutoff, and never a cutoff within the last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from affiliates.core.audit import AuditEntry

SOURCE = "audit retention"
BATCH = 5000  # rows per DELETE: a long backlog is pruned without one huge transaction


@dataclass(frozen=True)
class Pruned:
    deleted: int
    cutoff: datetime


def audit_prune(*, now: datetime | None = None, days: int | None = None) -> Pruned:
    """Deletes the entries older than ``days`` (AUDIT_RETENTION_DAYS), in batches, and records
    the prune in the log (kept: it is younger than any cutoff). A repeat deletes nothing and
    logs nothing."""
    days = settings.AUDIT_RETENTION_DAYS if days is None else days
    if days < 1:
        raise ValueError("AUDIT_RETENTION_DAYS must be at least 1")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT set_config('affnet.audit_prune_before', %s, true)", [cutoff.isoformat()]
                    )
            ids = list(
                AuditEntry.objects.filter(timestamp__lt=cutoff)
                .order_by("id")
                .values_list("id", flat=True)[:BATCH]
            )
            if not ids:
                break
            # QuerySet.delete would first collect related rows; entries have none pointing at them.
            deleted += AuditEntry.objects.filter(id__in=ids)._raw_delete(connection.alias)
    if deleted:
        AuditEntry.objects.create(
            content_type=ContentType.objects.get_for_model(AuditEntry),
            object_pk="",
            object_id=None,
            object_repr=f"{deleted} entries older than {cutoff:%Y-%m-%d %H:%M} UTC",
            action=AuditEntry.Action.DELETE,
            changes={"entries": [str(deleted), "0"], "retention_days": [str(days), str(days)]},
            source=SOURCE,
            timestamp=timezone.now(),
        )
    return Pruned(deleted=deleted, cutoff=cutoff)
