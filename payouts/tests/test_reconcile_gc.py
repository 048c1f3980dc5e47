"""Reconciliation's batches and the garbage collector."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from affiliates.models import Offer, Publisher
from payouts import reconcile
from payouts.tests.helpers import convert

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("enabled", [True, False])
def test_a_batch_holds_the_garbage_collector_off_and_leaves_it_as_it_found_it(
    shoes: Offer, pixelpush: Publisher, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    convert(shoes, pixelpush)
    seen = []
    real = reconcile.BatchPricer

    def pricer(rows: Any) -> Any:
        seen.append(gc.isenabled())
        return real(rows)

    monkeypatch.setattr(reconcile, "BatchPricer", pricer)
    if not enabled:
        gc.disable()
    try:
        assert reconcile.conversions_reconcile().created == 1
        after = gc.isenabled()
    finally:
        gc.enable()
    assert seen == [False]
    assert after is enabled
