"""Settings of the baseline: production, with no middleware and a one-view URLconf."""

from config.settings.production import *  # noqa: F403

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.baseline_urls"
