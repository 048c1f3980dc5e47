"""Fixtures shared by the publisher-postback tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from payouts.tests.callback_server import Recorder, local_server


@pytest.fixture
def server(settings: Any) -> Iterator[Recorder]:
    """A local HTTP tracker; loopback is allowed for it, as the SSRF check would refuse it.

    test_postback_ssrf overrides this with loopback refused, to prove nothing connects."""
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    with local_server() as recorder:
        yield recorder
