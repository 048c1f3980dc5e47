"""``/postback`` as a plain WSGI function, served by config/wsgi.py's front app.

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

import json
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import connections

from tracking.conversions.intake import postback_receive
from tracking.conversions.outcome import Outcome, PostbackError, Reason, bad_request
from tracking.conversions.params import json_params, params_merge
from tracking.visitor import client_ip

StartResponse = Callable[..., Any]
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _pairs(raw: bytes) -> list[tuple[str, list[str]]]:
    """Name/value pairs as Django's QueryDict reads them (UTF-8, or Latin-1 when that fails;
    at most DATA_UPLOAD_MAX_NUMBER_FIELDS)."""
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)
    except ValueError as exc:
        raise bad_request(Reason.BAD_PARAMETER, "Too many parameters.") from exc
    return [(k, [v]) for k, v in pairs]


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise bad_request(Reason.BAD_PARAMETER, "Content-Length is not a number.") from exc
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise bad_request(Reason.BAD_PARAMETER, "The body is too large.")
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _params(environ: dict[str, Any]) -> dict[str, str]:
    pairs = _pairs(environ.get("QUERY_STRING", "").encode("latin-1"))
    if environ["REQUEST_METHOD"] == "POST":
        body = _body(environ)
        if _content_type(environ) == JSON:
            pairs += [(k, [v]) for k, v in json_params(body).items()]
        else:
            pairs += _pairs(body)
    return params_merge(pairs)


def _db_release() -> None:
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


def _content_type(environ: dict[str, Any]) -> str:
    return (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()


def postback_handles(environ: dict[str, Any]) -> bool:
    """True when postback_app answers this request exactly as the Django view would."""
    method = environ.get("REQUEST_METHOD")
    return method == "GET" or (method == "POST" and _content_type(environ) in (FORM, JSON))


def postback_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    try:
        try:
            raw = _params(environ)
        except PostbackError as refused:
            outcome: Outcome = refused.outcome()
        else:
            outcome = postback_receive(raw, ip=client_ip(environ))
    finally:
        _db_release()
    body = json.dumps(outcome.body()).encode()
    status = HTTPStatus(outcome.http_status)
    start_response(
        f"{status.value} {status.phrase}",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
