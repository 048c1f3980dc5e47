"""What a postback answers: results, reason codes and the JSON body (contract section 3)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Result(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    UPDATED = "updated"
    REJECTED = "rejected"
    ERROR = "error"  # 4xx/5xx: nothing was recorded


class Reason(StrEnum):
    # 200 rejected: a business rule refused it; recorded for audit, earns nothing.
    UNKNOWN_CLICK = "unknown_click"
    UNKNOWN_COUPON = "unknown_coupon"
    WINDOW_EXPIRED = "window_expired"
    CAP_REACHED = "cap_reached"
    OFFER_INACTIVE = "offer_inactive"
    NOT_APPROVED = "not_approved"
    ADVERTISER_REJECTED = "advertiser_rejected"  # a new conversion posted with status=rejected
    HELD_FOR_REVIEW = "held_for_review"  # an approval refused while fraud review is pending
    NOT_UPDATABLE = "not_updatable"  # a status update on a conversion our rules rejected
    # 400: malformed input, nothing recorded.
    BAD_PARAMETER = "bad_parameter"
    BAD_CLICK_ID = "bad_click_id"
    MISSING_CLICK_ID = "missing_click_id"
    BAD_AMOUNT = "bad_amount"
    MISSING_AMOUNT = "missing_amount"
    UNKNOWN_CURRENCY = "unknown_currency"
    UNKNOWN_GOAL = "unknown_goal"
    GOAL_NOT_CONVERTIBLE = "goal_not_convertible"
    BAD_STATUS = "bad_status"
    BAD_TXN_ID = "bad_txn_id"
    UNKNOWN_TXN_ID = "unknown_txn_id"
    AMBIGUOUS_TXN_ID = "ambiguous_txn_id"
    UNSUPPORTED_BODY = "unsupported_body"  # a POST body neither form-encoded nor JSON (multipart)
    # 401: who is posting could not be established.
    MISSING_CREDENTIALS = "missing_credentials"
    BAD_TOKEN = "bad_token"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    REPLAYED_SIGNATURE = "replayed_signature"
    UNKNOWN_ADVERTISER = "unknown_advertiser"
    # 405: /postback takes GET and POST only.
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # 403: known, but not allowed.
    IP_NOT_ALLOWED = "ip_not_allowed"
    WRONG_ADVERTISER = "wrong_advertiser"
    ADVERTISER_SUSPENDED = "advertiser_suspended"
    # 503: could not be stored durably; the advertiser retries.
    STORAGE_UNAVAILABLE = "storage_unavailable"


# Reasons a conversion was refused by our rules at recording; status updates cannot revive them.
SYSTEM_REJECTIONS = frozenset(
    {
        Reason.UNKNOWN_CLICK,
        Reason.UNKNOWN_COUPON,
        Reason.WINDOW_EXPIRED,
        Reason.CAP_REACHED,
        Reason.OFFER_INACTIVE,
        Reason.NOT_APPROVED,
    }
)


@dataclass
class Outcome:
    http_status: int
    result: Result
    reason: str = ""
    conversion_id: int | None = None
    status: str | None = None
    flags: list[str] = field(default_factory=list)
    message: str = ""

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "result": str(self.result),
            "conversion_id": self.conversion_id,
            "status": self.status,
            "reason": str(self.reason) or None,
            "flags": list(self.flags),
        }
        if self.message:
            body["message"] = self.message
        return body

    def wire(self) -> tuple[bytes, list[tuple[str, str]]]:
        """The answer's JSON bytes and headers, as every interface sends them."""
        text = json.dumps(self.body()).encode()
        return text, [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(text))),
            ("Cache-Control", "no-store"),
        ]


class PostbackError(Exception):
    """Refuse the request without recording anything: 400, 401, 403, 405 or 503."""

    def __init__(self, http_status: int, reason: Reason, message: str = "") -> None:
        super().__init__(message or str(reason))
        self.http_status = http_status
        self.reason = reason
        self.message = message

    def outcome(self) -> Outcome:
        return Outcome(self.http_status, Result.ERROR, reason=self.reason, message=self.message)


def bad_request(reason: Reason, message: str = "") -> PostbackError:
    return PostbackError(400, reason, message)
