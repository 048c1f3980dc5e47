"""The audit log keeps AUDIT_RETENTION_DAYS of entries: a daily beat job deletes older ones and
logs that it did. On PostgreSQL the log is append-only: a trigger refuses any UPDATE, and any
DELETE but the retention job's of entries past its cutoff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from affiliates.core.audit import SPECS, AuditEntry
from affiliates.core.audit_retention import SOURCE, audit_prune
from affiliates.models import Offer
from affiliates.tasks import audit_prune_task

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")


def entry_aged(days: int, *, repr_: str = "Old offer") -> AuditEntry:
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Offer),
        object_pk="1",
        object_id=1,
        object_repr=repr_,
        action=AuditEntry.Action.UPDATE,
        changes={"name": ["a", "b"]},
        timestamp=timezone.now() - timedelta(days=days),
    )


def test_retention_defaults_to_730_days_and_runs_daily_from_beat():
    assert settings.AUDIT_RETENTION_DAYS == 730
    schedule = settings.CELERY_BEAT_SCHEDULE["audit-prune-daily"]
    assert schedule["task"] == "affiliates.tasks.audit_prune_task"


def test_the_job_deletes_entries_past_the_retention_keeps_the_rest_and_logs_the_prune(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old = [entry_aged(31), entry_aged(400)]
    kept = entry_aged(29, repr_="Recent offer")
    result = audit_prune_task.apply().get()
    assert result["deleted"] == 2
    assert not AuditEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEntry.objects.filter(pk=kept.pk).exists()
    log = AuditEntry.objects.get(source=SOURCE)
    assert log.action == AuditEntry.Action.DELETE
    assert log.content_type == ContentType.objects.get_for_model(AuditEntry)
    assert log.changes["entries"] == ["2", "0"]
    assert log.object_repr.startswith("2 entries older than ")
    # A repeat finds nothing to delete and logs nothing more.
    assert audit_prune().deleted == 0
    assert AuditEntry.objects.filter(source=SOURCE).count() == 1


def test_staff_see_the_prune_in_the_audit_log(settings, nadia, api_as):
    settings.AUDIT_RETENTION_DAYS = 30
    entry_aged(31)
    audit_prune()
    rows = api_as(nadia).get("/api/v1/audit-log/?object_type=audit log").json()["results"]
    assert [row["source"] for row in rows] == [SOURCE]


@on_postgresql
def test_on_postgresql_no_audit_entry_can_be_updated():
    entry = entry_aged(1)
    with pytest.raises(DatabaseError, match="audit entries cannot be changed"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(object_repr="Forged")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE affiliates_auditentry SET changes = '{}' WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.object_repr == "Old offer"


@on_postgresql
def test_on_postgresql_only_the_retention_jobs_cutoff_lets_old_entries_be_deleted():
    young, old = entry_aged(1), entry_aged(900)
    for victim in (young, old):  # no cutoff named: refused, however old
        with pytest.raises(DatabaseError, match="retention job"), transaction.atomic():
            AuditEntry.objects.filter(pk=victim.pk).delete()
    with transaction.atomic(), connection.cursor() as cursor:
        # A cutoff in the future (to wipe recent entries) is refused too.
        cursor.execute(
            "SELECT set_config('affnet.audit_prune_before', %s, true)", [timezone.now().isoformat()]
        )
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("DELETE FROM affiliates_auditentry WHERE id = %s", [young.pk])
    assert audit_prune(days=730).deleted == 1
    assert list(AuditEntry.objects.exclude(source=SOURCE).values_list("pk", flat=True)) == [young.pk]


@on_postgresql
def test_on_postgresql_deleting_a_user_unlinks_their_entries_and_keeps_who_it_was(ada, shoes):
    entry = AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Offer),
        object_pk=str(shoes.pk),
        object_id=shoes.pk,
        object_repr=str(shoes),
        action=AuditEntry.Action.UPDATE,
        changes={"name": ["a", "b"]},
        actor=ada,
        actor_email=ada.email,
    )
    ada.delete()  # the actor foreign key is SET NULL: the one UPDATE the trigger allows
    entry.refresh_from_db()
    assert entry.actor_id is None
    assert entry.actor_email == ada.email


def test_every_audited_model_names_itself_in_the_log_not_as_model_object_n():
    unnamed = [label for label in SPECS if apps.get_model(label).__str__ is models.Model.__str__]
    assert unnamed == []
