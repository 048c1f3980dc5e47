"""Text that cannot be stored is refused at the door: a NUL byte or bytes that are not UTF-8 in a
request's query string or form/JSON body get ``400 bad_encoding``.

PostgreSQL's text columns cannot hold NUL (psycopg raises before the query is sent), so a NUL in
a ``?search=``, a report filter or an ``?ordering=`` used to reach the database and answer 500.
Checking each parameter where it is read would miss the next one added; this middleware checks
every request Django serves, once, before any view. Multipart bodies are not read here (their
files may be large and binary): their text fields go through forms and serializers, whose
CharFields refuse NUL already. The conversion pixel always answers its GIF (CONTRACT section 4),
whatever its query says, so it is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase

BAD_ENCODING = "bad_encoding"
#: ``\u0000`` in JSON text (preceded by an even number of backslashes: not an escaped backslash).
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
#: Bodies read here at most; larger ones are Django's DATA_UPLOAD_MAX_MEMORY_SIZE's business.
CHECKED_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/")


def _form_ok(raw: bytes) -> bool:
    """A query string or urlencoded body: percent-decoded, UTF-8 and free of NUL."""
    data = unquote_to_bytes(raw.replace(b"+", b" "))
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def problem(request: HttpRequest) -> str | None:
    """What is wrong with the request's text, or None."""
    # WSGI hands the query string over as latin-1 text: encoding it back gives the sent bytes.
    query = request.META.get("QUERY_STRING", "").encode("latin-1", "replace")
    if query and not _form_ok(query):
        return "The query string holds a NUL byte or text that is not UTF-8."
    content_type = request.META.get("CONTENT_TYPE", "").lower()
    if not content_type.startswith(CHECKED_TYPES) or not request.META.get("CONTENT_LENGTH"):
        return None
    body = request.body
    if content_type.startswith("application/x-www-form-urlencoded"):
        ok = _form_ok(body)
    else:
        ok = b"\x00" not in body and not JSON_NUL.search(body)
    return None if ok else "The request body holds a NUL byte or text that is not UTF-8."


class EncodingGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith("/p/"):
            return self.get_response(request)
        message = problem(request)
        if message is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"code": BAD_ENCODING, "message": message}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
