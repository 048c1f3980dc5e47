"""WSGI app of the baseline (``bench.baseline_wsgi:application``), served like the real one."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.baseline_settings"
application = get_wsgi_application()
