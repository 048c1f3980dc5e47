"""The lean WSGI app in front of Django for ``/c/`` and ``/i/``, and the same endpoints as
Django views.

Why bypass Django here: a click is the one request that arrives thousands of times a second
from strangers and needs none of what the middleware stack does (sessions, CSRF, auth,
messages, clickjacking headers, host checks: no page is rendered and nothing depends on the
Host header). Django's request/response machinery plus eight middlewares cost more per
request than the whole click (see BENCHMARKS.md), so config/wsgi.py hands these two prefixes
to ``ClickApp`` and everything else to Django. The URLconf routes them too (``click_view``,
``impression_view``) so the test client and runserver behave the same; both paths call
``handler``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any

from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse

from tracking.clickpath import handler
from tracking.clickpath.lean import lean_begin, lean_end

_REASONS = {200: "200 OK", 302: "302 Found", 404: "404 Not Found", 405: "405 Method Not Allowed"}
StartResponse = Callable[..., Any]


def _answer(kind: str, environ: dict[str, Any], token: str) -> handler.Response:
    refused = handler.not_allowed(environ)
    if refused is not None:
        return refused
    try:
        if kind == "c":
            return handler.click(environ, token)
        return handler.impression(environ, token)
    except Exception:
        return handler.failed(kind, token)


def visitor_databases_load() -> None:
    """Load the geo-IP, user-agent and crawler databases now, once, before the first request.

    Loaded lazily instead, the first burst of concurrent clicks made every server thread load
    its own copy at once (gigabytes of memory and seconds of stall per worker).
    """
    from tracking.visitor import network_for_ip, ua_facts

    network_for_ip("8.8.8.8")
    ua_facts("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36")


def _lean_django(
    view: Callable[..., HttpResponse], environ: dict[str, Any], start_response: StartResponse
) -> list[bytes]:
    """Call a Django view without the middleware stack or URL resolution.

    For /postback: the view reads only the query, the body and the client address, and is
    csrf-exempt, so the middlewares have nothing to do for it but cost most of a request.
    The view builds the same answer either way (the URLconf route serves tests and runserver).
    """
    close_old_connections()
    try:
        response = view(WSGIRequest(environ))
        status = f"{response.status_code} {response.reason_phrase}"
        start_response(
            status,
            [*response.items(), *(("Set-Cookie", c.output(header="")) for c in response.cookies.values())],
        )
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [response.content]
    finally:
        close_old_connections()


class ClickApp:
    """Serves /c/{token}, /i/{token} and /postback itself; passes every other request to Django."""

    def __init__(self, django_app: Callable[..., Iterable[bytes]]) -> None:
        self.django_app = django_app
        visitor_databases_load()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO") or ""
        if not (path.startswith("/c/") or path.startswith("/i/")):
            if path == "/postback":
                # Most postbacks skip even the lean Django view (tracking/conversions/wsgi.py).
                from tracking.conversions.views import postback
                from tracking.conversions.wsgi import postback_app, postback_handles

                if postback_handles(environ):
                    return postback_app(environ, start_response)
                return _lean_django(postback, environ, start_response)
            return self.django_app(environ, start_response)
        lean_begin()  # database housekeeping only if this click touches the database
        try:
            response = _answer(path[1], environ, path[3:])
        finally:
            lean_end()
        start_response(_REASONS.get(response.status, str(response.status)), response.headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [response.body]


def _django(response: handler.Response) -> HttpResponse:
    out = HttpResponse(response.body, status=response.status)
    for name, value in response.headers:
        if name == "Set-Cookie":
            out.cookies.load(SimpleCookie(value))
        else:
            out[name] = value
    if "Content-Type" not in dict(response.headers):
        del out["Content-Type"]
    return out


def click_view(request: HttpRequest, token: str) -> HttpResponse:
    return _django(_answer("c", request.META, token))


def impression_view(request: HttpRequest, token: str) -> HttpResponse:
    return _django(_answer("i", request.META, token))
