"""ASGI app of the baseline (``bench.baseline_asgi:application``): the same bare redirect view,
async, under Django's own ASGI handler, so the click edge's interface is measured against the
baseline on that interface too (the faster of the two baselines is the yardstick)."""

import os

from django.core.asgi import get_asgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.baseline_settings_asgi"
application = get_asgi_application()
