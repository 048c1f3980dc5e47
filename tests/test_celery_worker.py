"""The Celery worker's process set-up."""

from __future__ import annotations

import gc

from config.celery_app import heap_freeze


def test_a_worker_process_freezes_what_it_loaded_at_start_out_of_the_collectors_view() -> None:
    try:
        heap_freeze(sender=None)
        assert gc.get_freeze_count() > 10_000  # Django and the apps, loaded by the test run
    finally:
        gc.unfreeze()
