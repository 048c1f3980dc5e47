"""Settings of the ASGI baseline: the WSGI baseline's, with the view written async."""

from bench.baseline_settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls_asgi"
