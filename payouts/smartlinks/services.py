"""An optimisation run: read the rollups, decide the weights, store the run, apply it.

Runs are idempotent per schedule slot in effect: ``smart_links_due`` picks a link only when its
``run_every_hours`` (conservative mode: a week) has passed since ``last_run_at``, and the run
sets ``last_run_at`` under the link's row lock, so two workers never run one link twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from payouts.smartlinks.optimiser import PathNumbers, conservative_shift, thompson_shares, to_weights
from tracking.models.smartlinks import WEIGHT_TOTAL, SmartLink, SmartPath, SmartRun
from tracking.smartlinks.selectors import path_stats, window_start

CONSERVATIVE_EVERY = timedelta(days=7)


def _interval(smart: SmartLink) -> timedelta:
    if smart.mode == SmartLink.Mode.CONSERVATIVE:
        return CONSERVATIVE_EVERY
    return timedelta(hours=smart.run_every_hours)


def smart_links_due(*, now: datetime) -> QuerySet[SmartLink]:
    """Optimised links whose next run is due (a rough filter; ``smart_link_optimise`` decides)."""
    hourly = SmartLink.objects.exclude(mode=SmartLink.Mode.MANUAL)
    return hourly.filter(Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - timedelta(hours=1)))


def _inputs(smart: SmartLink, live: list[SmartPath]) -> tuple[list[PathNumbers], dict[str, object]]:
    since = window_start(smart)
    by_path = {s.path.pk: s for s in path_stats(smart=smart, since=since)}
    numbers = [
        PathNumbers(
            p.pk,
            by_path[p.pk].clicks,
            by_path[p.pk].conversions,
            float(by_path[p.pk].revenue),
            float(by_path[p.pk].payout),
        )
        for p in live
    ]
    inputs: dict[str, object] = {
        "since": since.isoformat(),
        "lookback_days": smart.lookback_days,
        "min_clicks": smart.min_clicks,
        "floor_share": str(smart.floor_share),
        "paths": {
            str(n.path_id): {
                "clicks": n.clicks,
                "conversions": n.conversions,
                "revenue": str(by_path[n.path_id].revenue),
                "payout": str(by_path[n.path_id].payout),
                "kpi_per_click": round(n.per_click(smart.kpi), 6),
            }
            for n in numbers
        },
    }
    return numbers, inputs


@transaction.atomic
def smart_link_optimise(
    *, smart_link_id: int, now: datetime | None = None, force: bool = False
) -> SmartRun | None:
    """Run the optimiser on one link when due (``force``: now); None when not due."""
    now = now or timezone.now()
    smart = SmartLink.objects.select_for_update().get(pk=smart_link_id)
    if smart.mode == SmartLink.Mode.MANUAL:  # weights by hand: never overridden, even when forced
        return None
    if not force and smart.last_run_at is not None and smart.last_run_at + _interval(smart) > now:
        return None
    paths = list(smart.paths.select_for_update().order_by("pk"))
    live = [p for p in paths if not p.is_catch_all and p.status == SmartPath.Status.ACTIVE]
    before = {str(p.pk): p.weight for p in paths}
    numbers, inputs = _inputs(smart, live)
    smart.last_run_at = now
    smart.save(update_fields=["last_run_at", "updated_at"])
    short = [n.path_id for n in numbers if n.clicks < smart.min_clicks]
    if len(live) < 2 or short:
        note = (
            "Fewer than two live paths: nothing to optimise."
            if len(live) < 2
            else f"Paths {', '.join(map(str, short))} have fewer than {smart.min_clicks} clicks "
            f"since {inputs['since']}."
        )
        return SmartRun.objects.create(
            smart_link=smart,
            ran_at=now,
            mode=smart.mode,
            kpi=smart.kpi,
            outcome=SmartRun.Outcome.LEARNING,
            inputs=inputs,
            weights_before=before,
            weights_after=before,
            note=note,
        )
    shares = _shares(smart, numbers, live)
    weights = to_weights(shares, WEIGHT_TOTAL)
    for p in live:
        p.weight = weights[p.pk]
        p.save(update_fields=["weight"])  # the signal evicts the cached snapshot
    best = max(numbers, key=lambda n: shares[n.path_id])
    return SmartRun.objects.create(
        smart_link=smart,
        ran_at=now,
        mode=smart.mode,
        kpi=smart.kpi,
        outcome=SmartRun.Outcome.APPLIED,
        inputs=inputs,
        weights_before=before,
        weights_after={str(p.pk): p.weight for p in paths},
        note=f"Path {best.path_id} leads on {smart.get_kpi_display()} "
        f"and now gets {shares[best.path_id]:.0%} of the traffic.",
    )


def _shares(smart: SmartLink, numbers: list[PathNumbers], live: list[SmartPath]) -> dict[int, float]:
    floor = float(smart.floor_share)
    if smart.mode == SmartLink.Mode.CONSERVATIVE:
        current = {p.pk: float(p.weight) for p in live}
        return conservative_shift(
            numbers, current, kpi=smart.kpi, shift=float(smart.shift_share), floor=floor
        )
    # Seeded by link and run time: a run can be replayed from its stored inputs.
    seed = smart.pk * 1_000_003 + int((smart.last_run_at or timezone.now()).timestamp())
    return thompson_shares(numbers, kpi=smart.kpi, floor=floor, rng=np.random.default_rng(seed))
