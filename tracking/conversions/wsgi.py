"""``/postback`` as a plain WSGI function, served by config/wsgi.py's front app (WSGI servers;
under ``make serve`` the ASGI edge answers most postbacks itself: conversions/asgi.py).

Why not the Django view: advertisers post conversions in bursts of thousands a second, and
building a WSGIRequest and a JsonResponse, plus a connection health check (``SELECT 1``) per
request, cost as much Python as the conversion itself. This reads the query (and a form or
JSON body), calls the same ``postback_receive`` as the view, and writes the same answer.
Anything it does not handle the same way (other methods, multipart bodies) goes to the view.

Connection hygiene without the health check: a connection that broke since the last request
fails this request's first query with a database error, which answers 503 (the advertiser
retries, contract section 3) and is closed afterwards, so the next request reconnects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.db import connections

from tracking.conversions.intake import postback_receive
from tracking.conversions.outcome import Outcome, PostbackError
from tracking.conversions.params import body_length, content_type_main, lean_handles, request_params
from tracking.visitor import client_ip

StartResponse = Callable[..., Any]


def _params(environ: dict[str, Any]) -> dict[str, str]:
    method = environ["REQUEST_METHOD"]
    body = b""
    if method == "POST":
        length = body_length(environ.get("CONTENT_LENGTH"))
        body = environ["wsgi.input"].read(length) if length else b""
    return request_params(
        method=method,
        query=environ.get("QUERY_STRING", "").encode("latin-1"),
        content_type=content_type_main(environ.get("CONTENT_TYPE")),
        body=body,
    )


def db_release() -> None:
    """What close_old_connections does after a request, minus the health check it would
    schedule for the next one: close a connection that errored, outlived CONN_MAX_AGE or was
    left outside autocommit."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        if (
            conn.errors_occurred
            or (conn.close_at is not None and time.monotonic() >= conn.close_at)
            or conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]
        ):
            conn.close()


def postback_handles(environ: dict[str, Any]) -> bool:
    """True when postback_app answers this request exactly as the Django view would."""
    return lean_handles(environ.get("REQUEST_METHOD", ""), content_type_main(environ.get("CONTENT_TYPE")))


def postback_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    try:
        try:
            raw = _params(environ)
        except PostbackError as refused:
            outcome: Outcome = refused.outcome()
        else:
            outcome = postback_receive(raw, ip=client_ip(environ))
    finally:
        db_release()
    body, headers = outcome.wire()
    status = HTTPStatus(outcome.http_status)
    start_response(f"{status.value} {status.phrase}", headers)
    return [body]
