"""What a holdout test's report counts, per arm: visitors (unique clicks that passed every
check) and conversions, read from the test's window of one offer's clicks and conversions
only (both tables have an index leading with the offer and the time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from tracking.models import Click, Conversion
from tracking.models.conversions import ConversionStatus
from tracking.models.holdouts import HoldoutArm, HoldoutTest
from tracking.reasons import Reason


@dataclass(frozen=True)
class ArmCounts:
    visitors: int
    conversions: int


def _until(test: HoldoutTest, now: datetime) -> datetime:
    return min(test.stopped_at or test.ends_at, test.ends_at, now)


def measured_conversions(test: HoldoutTest) -> QuerySet[Conversion]:
    """The test's conversions that count for its report: those earning (pending or approved)
    and the held-out ones rejected only for being held out, so both arms are measured by the
    same rules (a conversion refused for another reason counts in neither)."""
    return Conversion.objects.filter(
        Q(status__in=(ConversionStatus.PENDING, ConversionStatus.APPROVED))
        | Q(status=ConversionStatus.REJECTED, reason=Reason.HOLDOUT_CONTROL),
        offer_id=test.offer_id,
        created_at__gte=test.starts_at,
        click__holdout_test_id=test.pk,
    )


def arm_counts(*, test: HoldoutTest, now: datetime) -> dict[str, ArmCounts]:
    """Visitors and conversions of each arm (exposed, control) up to now or the test's stop.
    Conversions after the stop still count when their click was in the test: the window is
    the clicks', and the attribution window lets them arrive later."""
    clicks = (
        Click.objects.filter(
            offer_id=test.offer_id,
            created_at__gte=test.starts_at,
            created_at__lt=_until(test, now),
            reason="",
            is_unique=True,
            holdout_test_id=test.pk,
        )
        .values("holdout_arm")
        .annotate(n=Count("id"))
        .order_by()
    )
    visitors = {r["holdout_arm"]: r["n"] for r in clicks}
    converted = measured_conversions(test).values("click__holdout_arm").annotate(n=Count("id")).order_by()
    conversions = {r["click__holdout_arm"]: r["n"] for r in converted}
    return {
        arm: ArmCounts(visitors.get(arm, 0), conversions.get(arm, 0))
        for arm in (HoldoutArm.EXPOSED, HoldoutArm.CONTROL)
    }
