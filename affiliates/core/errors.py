"""Domain errors: what services raise when a business rule refuses a request.

They live at the bottom so every app can raise them; the API's exception handler
(affiliates.api.base) maps them to a 4xx with a stable ``code``.
"""

from __future__ import annotations

from rest_framework import status


class DomainError(Exception):
    """A business rule refused the request. Services raise it; the API maps it to a 4xx."""

    code: str = "invalid"
    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


class Conflict(DomainError):
    code: str = "conflict"
    status_code: int = status.HTTP_409_CONFLICT
