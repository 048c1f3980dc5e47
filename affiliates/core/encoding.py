"""Text that cannot be stored is refused at the door: a NUL byte or bytes that are not UTF-8 in a
request's query string or form/JSON body get ``400 bad_encoding``.

PostgreSQL's text columns cannot hold NUL (psycopg raises before the query is sent), so a NUL in
a ``?search=``, a report filter or an ``?ordering=`` used to reach the database and answer 500.
Checking each parameter where it is read would miss the next one added; this middleware checks
every request Django serves, once, before any view. A multipart body up to
DATA_UPLOAD_MAX_MEMORY_SIZE has each part's headers and each text field checked (file contents
are binary and are not); a larger one, with files, is left to forms and serializers, whose
CharFields refuse NUL. The conversion pixel always answers its GIF (CONTRACT section 4),
whatever its query says, so it is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message
from email.parser import BytesParser
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase

from affiliates.core.db import db_id

BAD_ENCODING = "bad_encoding"
#: ``\u0000`` in JSON text (preceded by an even number of backslashes: not an escaped backslash).
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
#: Bodies read here at most; larger ones are Django's DATA_UPLOAD_MAX_MEMORY_SIZE's business.
CHECKED_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/")


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


def _text_ok(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _multipart_ok(content_type: str, body: bytes) -> bool:
    """Each part's headers (its field name, its file name) and each text field's value are
    UTF-8 without NUL. The standard library's MIME parser splits the parts (a body it cannot
    split is left to Django's parser, which answers 400 itself)."""
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    message = BytesParser().parsebytes(head + body)
    if not message.is_multipart():
        return True
    parts: list[Message] = message.get_payload()  # type: ignore[assignment]
    for part in parts:
        for _name, value in part.raw_items():
            # Header bytes beyond ASCII come back surrogate-escaped: encoded back, they are the
            # bytes that were sent.
            if not _text_ok(value.encode("utf-8", "surrogateescape")):
                return False
        if part.get_filename() is not None:
            continue  # a file: any bytes
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and not _text_ok(payload):
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
    if content_type.startswith("multipart/form-data"):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = request.META["CONTENT_LENGTH"]
        if limit is not None and (db_id(length) is None or int(length) > limit):
            return None  # see the module's docstring
        ok = _multipart_ok(request.META.get("CONTENT_TYPE", ""), request.body)
        return None if ok else "The request body holds a NUL byte or text that is not UTF-8."
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
