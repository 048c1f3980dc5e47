"""Django's async-safety guard stays on for every test that is not a browser test.

The browser tests lift it while each one runs (tests/browser/conftest.py); if the lift leaked
into the worker, later tests would run the postback edge without the guard it relies on, and
``manage.py check --deploy`` would report async.E001.
"""

import asyncio
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import SynchronousOnlyOperation


def test_the_async_unsafe_switch_is_not_set() -> None:
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ


@pytest.mark.django_db
def test_the_orm_refuses_to_run_on_an_event_loop() -> None:
    async def count_users() -> int:
        return get_user_model().objects.count()

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(count_users())
