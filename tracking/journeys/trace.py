"""A conversion's journey as a trace section: what the journey job computed, for the one
role-aware trace rendering (tracking/conversions/trace_view.py decides who sees which key)."""

from __future__ import annotations

from typing import Any

from tracking.models import Conversion, Journey, Touch
from tracking.models.journeys import MODELS


def _touch(t: Touch) -> dict[str, Any]:
    return {
        "position": t.position,
        "kind": t.kind,
        "at": t.at.isoformat(),
        "role": t.role,
        "paid": t.paid,
        "linked_by": t.linked_by,
        "publisher_id": t.publisher_id,
        "click_id": t.click_id.hex if t.click_id else None,
        "impression_id": t.impression_id.hex if t.impression_id else None,
        "sub1": t.sub1,
        "source": t.source,
        "credit": {name: str(getattr(t, name).normalize()) for name in MODELS},
    }


def journey_trace(conversion_id: int) -> dict[str, Any] | None:
    """The journey section of a conversion's trace; None until the job has computed it."""
    journey = Journey.objects.filter(conversion_id=conversion_id).first()
    if journey is None:
        return None
    return {
        "computed_at": journey.computed_at.isoformat(),
        "view_through": journey.view_through,
        "publishers": journey.publishers,
        "touches": [_touch(t) for t in journey.touch_set.order_by("position")],
    }


def trace_with_journey(conversion: Conversion) -> dict[str, Any]:
    """The stored trace plus its journey, when computed."""
    trace = dict(conversion.trace or {})
    journey = journey_trace(conversion.pk)
    if journey is not None:
        trace["journey"] = journey
    return trace
