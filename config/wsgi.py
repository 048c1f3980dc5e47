"""WSGI entry point for the app server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

django_application = get_wsgi_application()

# Clicks and impressions skip Django's middleware stack: see tracking/clickpath/wsgi.py.
# Imported after Django is set up, since it loads models.
from tracking.clickpath.wsgi import ClickApp  # noqa: E402

application = ClickApp(django_application)
