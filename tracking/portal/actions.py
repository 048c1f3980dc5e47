"""Calls into other parts' services, kept in one place so they can be adapted together.

Each function imports its target lazily: the portal pages render with or without the part
that does the work installed, and say so when it is missing (``ActionUnavailable``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from affiliates.models import Advertiser, Offer, Publisher
from affiliates.roles import Actor


class ActionUnavailable(Exception):
    """The service behind this action is not installed in this build."""


def conversion_record_test(
    *, offer: Offer, goal_code: str, publisher: Publisher, amount: Decimal | None
) -> Any:
    """Run a test postback through the real pipeline, rolled back; returns the Conversion."""
    from tracking.conversions.dry_run import conversion_dry_run

    return conversion_dry_run(offer=offer, goal_code=goal_code, publisher=publisher, amount=amount)


def commissions_set_status(*, commission_ids: list[int], status: str, reason: str, actor: Actor) -> Any:
    """Approve, reject or reverse commissions (and so their conversions) in one call."""
    from payouts.services import commissions_set_status as set_status

    return set_status(commission_ids=commission_ids, status=status, reason=reason, actor=actor)


def adjustments_apply_csv(*, advertiser: Advertiser, file: Any, actor: Actor) -> Any:
    """Apply an advertiser's CSV of adjustments (all rows or none); returns a summary line.

    The actor scopes which commissions the rows may touch, so ``advertiser`` is only a check."""
    from payouts.adjustments import adjustments_apply

    if actor.advertiser_id not in (None, advertiser.pk):
        raise ActionUnavailable("This upload belongs to another advertiser.")
    raw = file.read()
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else str(raw)
    changed = adjustments_apply(text=text, actor=actor)
    return f"{len(changed)} commission(s) changed"


def report_rows(
    *, actor: Actor, group_by: list[str], start: datetime, end: datetime, filters: dict[str, Any], tz: str
) -> Any:
    """Report rows (dicts of dimension and metric values) from the reports module's rollups."""
    try:
        from tracking.reports.selectors import report_rows as rows
    except ImportError as exc:
        raise ActionUnavailable("Reports need the reports module.") from exc
    return rows(actor=actor, group_by=group_by, start=start, end=end, filters=filters, tz=tz)
