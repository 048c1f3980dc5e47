"""The reconciliation queue (UnreconciledConversion) is written by the database itself: every
way of recording a conversion queues it, and so does every change reconciliation follows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from affiliates.models import Goal
from tracking.models import Conversion, UnreconciledConversion

pytestmark = pytest.mark.django_db


def _queued() -> set[int]:
    return set(UnreconciledConversion.objects.values_list("conversion_id", flat=True))


def _conversion(shoes, pixelpush, **extra) -> Conversion:
    return Conversion(
        offer=shoes, publisher=pixelpush, goal=Goal.objects.get(offer=shoes, code="sale"), **extra
    )


def test_every_way_of_recording_a_conversion_queues_it(shoes, pixelpush) -> None:
    one = Conversion.objects.create(offer=shoes, publisher=pixelpush, goal=shoes.goals.get(code="sale"))
    many = Conversion.objects.bulk_create([_conversion(shoes, pixelpush) for _ in range(3)])
    columns = ", ".join(f.column for f in Conversion._meta.concrete_fields if not f.primary_key)
    with connection.cursor() as cursor:  # several rows in one statement, as the postbacks' group commit
        cursor.execute(
            f"INSERT INTO tracking_conversion ({columns}) SELECT {columns} FROM tracking_conversion"
            " WHERE id IN (%s, %s)",
            [one.pk, many[0].pk],
        )
    assert Conversion.objects.count() == 6
    assert _queued() == set(Conversion.objects.values_list("id", flat=True))
    assert {one.pk, *(c.pk for c in many)} <= _queued()


def test_a_status_or_review_change_queues_it_again_and_other_edits_do_not(shoes, pixelpush) -> None:
    conv = Conversion.objects.create(offer=shoes, publisher=pixelpush, goal=shoes.goals.get(code="sale"))
    UnreconciledConversion.objects.all().delete()  # as reconciliation takes it out
    Conversion.objects.filter(pk=conv.pk).update(amount=Decimal("5"), trace={"note": "edited"}, sub1="x")
    assert _queued() == set()
    Conversion.objects.filter(pk=conv.pk).update(status="approved")
    assert _queued() == {conv.pk}
    Conversion.objects.filter(pk=conv.pk).update(status="reversed")  # already queued: still once
    assert _queued() == {conv.pk}
    UnreconciledConversion.objects.all().delete()
    Conversion.objects.filter(pk=conv.pk).update(held_for_review=True)
    assert _queued() == {conv.pk}


def test_with_reconciled_tells_queued_conversions_from_the_others(shoes, pixelpush) -> None:
    waiting, done = Conversion.objects.bulk_create([_conversion(shoes, pixelpush) for _ in range(2)])
    UnreconciledConversion.objects.filter(conversion_id=done.pk).delete()
    flags = dict(Conversion.objects.with_reconciled().values_list("id", "reconciled"))
    assert flags == {waiting.pk: False, done.pk: True}
