"""The settings the click path reads on every click, read once.

Each ``settings.X`` costs a trip through Django's lazy settings object; a click read half a
dozen of them, which added up to a few per cent of its time. The snapshot is dropped whenever
a setting changes (``setting_changed``: override_settings and pytest-django's ``settings``
fixture send it), so tests that repoint Redis or change the key prefix see it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


@dataclass(frozen=True, slots=True)
class HotSettings:
    redis_url: str
    redis_timeout: float
    key_base: str  # every hot-path key starts with it: "<CLICK_REDIS_PREFIX>:clk:"
    flood_per_hour: int
    pending_ttl: int
    ip_privacy: str


_current: HotSettings | None = None


def hot() -> HotSettings:
    global _current
    if _current is None:
        _current = HotSettings(
            redis_url=settings.REDIS_URL,
            redis_timeout=settings.CLICK_REDIS_TIMEOUT_SECONDS,
            key_base=f"{settings.CLICK_REDIS_PREFIX}:clk:",
            flood_per_hour=settings.CLICK_FLOOD_PER_HOUR,
            pending_ttl=settings.CLICK_PENDING_TTL_SECONDS,
            ip_privacy=settings.IP_PRIVACY,
        )
    return _current


@receiver(setting_changed)
def _forget(**kwargs: Any) -> None:
    global _current
    _current = None
