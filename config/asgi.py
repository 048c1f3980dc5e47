"""Entry point for the app server: an ASGI app that is also a granian RSGI app (``make serve``
runs granian's RSGI interface on uvloop; any ASGI server can run it too).

Clicks, impressions and postbacks are answered on the event loop (tracking/clickpath/asgi.py,
tracking/conversions/asgi.py); every other request runs the WSGI app (config/wsgi.py: Django,
and the lean postback path for what the edge passes on) in a2wsgi's thread pool, so Django's
views, ORM and persistent connections work as under a WSGI server, WEB_THREADS requests at a
time per worker process.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

django_application = get_wsgi_application()

# Imported after Django is set up, since they load models.
from a2wsgi import WSGIMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402

from tracking.clickpath.asgi import ClickEdge  # noqa: E402
from tracking.clickpath.wsgi import ClickApp  # noqa: E402

# a2wsgi's own typing is stricter than the plain callables both sides are.
application = ClickEdge(
    WSGIMiddleware(ClickApp(django_application), workers=settings.WEB_THREADS)  # type: ignore[arg-type]
)
