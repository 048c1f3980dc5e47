"""What a postback answers: results and the JSON body (contract section 3); reason codes are in
tracking.reasons."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tracking.reasons import Reason


class Result(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    UPDATED = "updated"
    REJECTED = "rejected"
    ERROR = "error"  # 4xx/5xx: nothing was recorded


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
