"""The app server's entry point, ``config.asgi:application``: the edge (tracking/clickpath/edge.py),
an ASGI app that is also a granian RSGI app. ``make serve`` and ``make run`` run granian's RSGI
interface on uvloop; any ASGI server can run it too, and the tests drive it in-process.

One path per request kind:

- ``/c/{token}``, ``/i/{token}``: the edge, on its event loop (clicks and impressions);
- ``/postback``: the edge, on its event loop, through ``PostbackRoute``
  (tracking/conversions/route.py), handed in here so the click path does not import the
  conversion code built on it;
- everything else (pages, admin, API, the pixel ``/p/{offer_id}.gif``, ``/healthz``): Django's
  WSGI app in a2wsgi's thread pool, WEB_THREADS requests at a time per worker, so Django's
  views, ORM and persistent connections work as under a WSGI server.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

django_application = get_wsgi_application()

# Imported after Django is set up, since they load models.
from a2wsgi import WSGIMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402

from tracking.clickpath.edge import Edge  # noqa: E402
from tracking.conversions.route import PostbackRoute  # noqa: E402

# a2wsgi's own typing is stricter than the plain callables both sides are.
application = Edge(
    WSGIMiddleware(django_application, workers=settings.WEB_THREADS),  # type: ignore[arg-type]
    postback=PostbackRoute(),
)
