"""Admin helpers every app shares.

Audit records (clicks, commissions, ledger rows, payout runs, callback attempts) are shown in the
admin but never edited there: their history is changed through services, which post events.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """No add, change or delete buttons: the admin only shows these rows."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
