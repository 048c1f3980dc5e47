"""Admin helpers every app shares.

Audit records (clicks, commissions, ledger rows, payout runs, callback attempts) are shown in the
admin but never edited there: their history is changed through services, which post events.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

_M = TypeVar("_M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    """No add, change or delete buttons: the admin only shows these rows, and its actions call
    services. Here, in the bottom app, so every app's admin imports it without reaching up."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
