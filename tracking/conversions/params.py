"""Reading and validating postback and pixel parameters (contract sections 3 and 4).

Everything malformed is refused here with a 400 reason, before any lookup: a bad amount, an
unknown currency, a click id outside the contract's alphabet, an unknown status.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qsl

from django.conf import settings

from affiliates.core.db import db_id
from affiliates.core.money import currency_is_valid, parse_amount
from tracking.conversions.outcome import PostbackError, bad_request
from tracking.ids import click_id_parse
from tracking.models.conversions import ConversionStatus
from tracking.reasons import Reason

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
CLICK_ID_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
STATUSES = frozenset(ConversionStatus.values)
MAX_VALUE_LENGTH = 1024
MAX_CUSTOMER_ID_LENGTH = 255
CUSTOMER_TYPES = frozenset({"new", "returning"})


@dataclass(frozen=True)
class ConversionInput:
    raw: dict[str, str] = field(repr=False)
    click_id_raw: str = ""
    click_id: uuid.UUID | None = None  # None when absent or well-formed but not one of ours
    goal_code: str = ""
    amount: Decimal | None = None
    currency: str = ""  # empty: the offer's currency
    txn_id: str = ""
    status: str = ""
    coupon: str = ""
    token: str = ""
    ts: str = ""
    sig: str = ""
    advertiser_id: int | None = None
    offer_id: int | None = None
    # The advertiser's own id of its customer, raw: it is hashed (customers.customer_hash)
    # before anything is stored, and never kept as sent.
    customer_id: str = field(default="", repr=False)
    customer_type: str = ""  # "", "new" or "returning", as the advertiser reported it


def params_merge(pairs: Iterable[tuple[str, list[str]]]) -> dict[str, str]:
    """One value per name. The same name twice with different values is ambiguous (and would
    let a signed request mean two things), so it is refused."""
    out: dict[str, str] = {}
    for key, values in pairs:
        for value in values:
            if key in out and out[key] != value:
                raise bad_request(Reason.BAD_PARAMETER, f"{key} is given twice with different values.")
            out[key] = value
    return out


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(Reason.BAD_ENCODING, f"The {what} is not UTF-8 text.") from exc


def text_check(params: dict[str, str]) -> None:
    """Refuse (400) names and values the database cannot store as text: a NUL. Undecodable
    bytes never get this far (``_utf8``, ``_pairs``), nor JSON's lone surrogates
    (``json_params``); a pixel's parameters come through Django and are checked here too."""
    for key, value in params.items():
        if "\x00" in key or "\x00" in value:
            raise bad_request(Reason.BAD_ENCODING, f"{key[:64]!r} holds a NUL character.")


def _unicode_check(key: str, value: str) -> None:
    """JSON's \\u escapes can spell a lone surrogate, which is no text UTF-8 can store."""
    try:
        key.encode("utf-8")
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise bad_request(Reason.BAD_ENCODING, f"{key[:64]!r} is not valid Unicode text.") from exc


def json_params(body: bytes) -> dict[str, str]:
    text = _utf8(body, "body")
    try:
        # Numbers keep their written form ("12.50" stays exact, never a float).
        data = json.loads(text or "{}", parse_float=str, parse_int=str)
    except ValueError as exc:
        raise bad_request(Reason.BAD_PARAMETER, "The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise bad_request(Reason.BAD_PARAMETER, "The JSON body must be an object.")
    out: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise bad_request(Reason.BAD_PARAMETER, f"{key} must be a string or a number.")
        _unicode_check(key, value)
        out[str(key)] = value
    return out


def content_type_main(header: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    return (header or "").split(";", 1)[0].strip().lower()


def body_length(content_length: str | None) -> int:
    """The body's declared length, refused (400) when it is not a number or too large."""
    try:
        length = int(content_length or 0)
    except ValueError as exc:
        raise bad_request(Reason.BAD_PARAMETER, "Content-Length is not a number.") from exc
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise bad_request(Reason.BAD_PARAMETER, "The body is too large.")
    return max(length, 0)


def _pairs(raw: bytes, what: str) -> list[tuple[str, list[str]]]:
    """Name/value pairs, UTF-8 only, raw and percent-escaped alike (a guessed Latin-1 would
    store text the advertiser never sent, and a replacement character loses it), at most
    DATA_UPLOAD_MAX_NUMBER_FIELDS."""
    text = _utf8(raw, what)
    if "%" not in text and "+" not in text:
        # Nothing escaped (the common postback): parse_qsl's answer without its two replace and
        # two unquote calls per parameter, which would change nothing here.
        fields = text.split("&") if text else []
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if limit is not None and len(fields) > limit:
            raise bad_request(Reason.BAD_PARAMETER, "Too many parameters.")
        return [(name, [value]) for name, _, value in (f.partition("=") for f in fields if f)]
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
            errors="strict",
        )
    except UnicodeDecodeError as exc:
        raise bad_request(
            Reason.BAD_ENCODING, f"The {what} percent-escapes bytes that are not UTF-8."
        ) from exc
    except ValueError as exc:
        raise bad_request(Reason.BAD_PARAMETER, "Too many parameters.") from exc
    return [(k, [v]) for k, v in pairs]


def request_params(*, method: str, query: bytes, content_type: str, body: bytes) -> dict[str, str]:
    """The postback's parameters from its query string and (POST) form or JSON body. A body of
    any other type (multipart, text) is refused rather than ignored: the advertiser would
    otherwise hear "missing click_id" for parameters it did send."""
    if method not in ("GET", "POST"):
        raise PostbackError(405, Reason.METHOD_NOT_ALLOWED, "Use GET or POST.")
    pairs = _pairs(query, "query string")
    if method == "POST" and content_type == JSON:
        pairs += [(k, [v]) for k, v in json_params(body).items()]
    elif method == "POST" and content_type == FORM:
        pairs += _pairs(body, "body")
    elif body:
        raise bad_request(Reason.UNSUPPORTED_BODY, "Send the body form-encoded or as JSON.")
    return params_merge(pairs)


def _int_or_400(raw: str, name: str) -> int | None:
    if not raw:
        return None
    value = db_id(raw)
    if value is None:
        raise bad_request(Reason.BAD_PARAMETER, f"{name} must be a positive integer id.")
    return value


def conversion_input_parse(raw: dict[str, str]) -> ConversionInput:
    text_check(raw)
    for key, value in raw.items():
        if len(value) > MAX_VALUE_LENGTH:
            raise bad_request(Reason.BAD_PARAMETER, f"{key} is longer than {MAX_VALUE_LENGTH} characters.")

    # Every value stripped once, read with dict.get: a helper function per read was thirteen
    # Python calls per postback.
    stripped = {key: value.strip() for key, value in raw.items()}
    get = stripped.get

    click_id_raw = get("click_id", "")
    click_id = None
    if click_id_raw:
        if not CLICK_ID_RE.fullmatch(click_id_raw):
            raise bad_request(Reason.BAD_CLICK_ID, "click_id must match [A-Za-z0-9_-]{16,64}.")
        click_id = click_id_parse(click_id_raw)
    try:
        amount = parse_amount(get("amount", "") or None)
    except ValueError as exc:
        raise bad_request(Reason.BAD_AMOUNT, "amount must be a non-negative decimal string.") from exc
    currency = get("currency", "").upper()
    if currency and not currency_is_valid(currency):
        raise bad_request(Reason.UNKNOWN_CURRENCY, f"{currency!r} is not an ISO 4217 currency.")
    status = get("status", "").lower()
    if status and status not in STATUSES:
        raise bad_request(Reason.BAD_STATUS, "status must be approved, pending, rejected or reversed.")
    txn_id = get("txn_id", "")
    if len(txn_id) > 255:
        raise bad_request(Reason.BAD_TXN_ID, "txn_id is longer than 255 characters.")
    customer_id, customer_type = _customer_parse(get("customer_id", ""), get("customer_type", "").lower())
    return ConversionInput(
        raw=raw,
        click_id_raw=click_id_raw,
        click_id=click_id,
        goal_code=get("goal", ""),
        amount=amount,
        currency=currency,
        txn_id=txn_id,
        status=status,
        coupon=get("coupon", "")[:64],
        token=raw.get("token", ""),
        ts=get("ts", ""),
        sig=get("sig", "").lower(),
        advertiser_id=_int_or_400(get("advertiser", ""), "advertiser"),
        offer_id=_int_or_400(get("offer", ""), "offer"),
        customer_id=customer_id,
        customer_type=customer_type,
    )


def _customer_parse(customer_id: str, customer_type: str) -> tuple[str, str]:
    """Both optional; when given they must make sense (a NUL was refused by text_check)."""
    if len(customer_id) > MAX_CUSTOMER_ID_LENGTH:
        raise bad_request(
            Reason.BAD_CUSTOMER_ID, f"customer_id is longer than {MAX_CUSTOMER_ID_LENGTH} characters."
        )
    if customer_type and customer_type not in CUSTOMER_TYPES:
        raise bad_request(Reason.BAD_CUSTOMER_TYPE, "customer_type must be new or returning.")
    return customer_id, customer_type
