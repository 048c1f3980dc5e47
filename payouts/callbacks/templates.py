"""Postback URL templates: the macro library, validation, and rendering.

Macros may appear only in the path, query and fragment. In the host they would let a value
that arrives from the click (``{sub1}`` is whatever the visitor's link carried) choose where
we send the postback.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode, urlsplit

from django.core.exceptions import ValidationError

from affiliates.validators import MACRO_RE
from payouts.callbacks.addresses import AddressRefused, ip_literal, vet_ip

CALLBACK_MACROS = (
    "click_id",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
    "source",
    "offer_id",
    "goal",
    "conversion_id",
    "payout",
    "currency",
    "status",
    "event_time",
)
_KNOWN = frozenset(CALLBACK_MACROS)


def _fail(message: str, code: str, **params: str) -> ValidationError:
    return ValidationError(message, code=code, params=params)


def validate_callback_url(value: str) -> None:
    """http/https, a public host (when it is an IP literal), known macros outside the host."""
    unknown = sorted(set(MACRO_RE.findall(value)) - _KNOWN)
    if unknown:
        raise _fail("Unknown macro(s): %(names)s.", "unknown_macro", names=", ".join(unknown))
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise _fail("URLs may not contain whitespace or control characters.", "bad_url")
    parts = urlsplit(value)
    if "{" in parts.scheme or "{" in parts.netloc:
        raise _fail("Macros are allowed in the path and query only, not in the host.", "macro_in_host")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _fail("Only absolute http or https URLs are allowed.", "bad_url")
    if "@" in parts.netloc:
        raise _fail("Credentials in the URL are not allowed.", "bad_url")
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError as exc:
        raise _fail("The port is not a number between 0 and 65535.", "bad_url") from exc
    try:
        literal = ip_literal(parts.hostname)
        if literal is not None:
            vet_ip(literal, parts.hostname)
    except AddressRefused as exc:
        raise _fail(str(exc), exc.code) from exc


def render_callback_url(template: str, values: Mapping[str, str]) -> str:
    """Replace each macro with its value, percent-encoded (an absent value becomes empty)."""
    return MACRO_RE.sub(
        lambda m: quote(values.get(m.group(1), ""), safe="") if m.group(1) in _KNOWN else m.group(0),
        template,
    )


def form_body(values: Mapping[str, str]) -> str:
    """The POST body: every macro as a form field, in the library's order."""
    return urlencode([(name, values.get(name, "")) for name in CALLBACK_MACROS])
