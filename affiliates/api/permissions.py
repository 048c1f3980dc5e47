"""The API's staff-role gate (affiliates.roles decides; this asks).

Its own module, importing no DRF view: DEFAULT_PERMISSION_CLASSES names it, and DRF imports
that setting while rest_framework.views itself is still loading.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from affiliates.roles import Act, actor_for, role_check

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def staff_act_of(view: Any) -> Act | None:
    """What a write through ``view`` is for staff (roles.STAFF_MAY decides who may): the act of
    its action (``role_acts``), else the view's ``role_act``, ``account_act`` or ``write_act``;
    a view that names none is network administration (admins only: fail closed). None: a
    personal write (``personal_writes``: one's own notifications, preferences), any role's."""
    action = getattr(view, "action", None)
    personal = getattr(view, "personal_writes", ())
    if personal == "*" or action in personal:  # "*" first: an APIView's action is None
        return None
    declared = (
        getattr(view, "role_acts", {}).get(action)
        or getattr(view, "role_act", None)
        or getattr(view, "account_act", None)
        or getattr(view, "write_act", None)
    )
    return declared or Act.MANAGE_NETWORK


class StaffActs(BasePermission):
    """The API's one staff-role gate, in DEFAULT_PERMISSION_CLASSES (views that list their own
    permission classes carry AccountStanding, IsStaff or StaffActs; a test checks every write):
    a staff write the role does not allow is 403 ``role_not_allowed`` before any object is read.
    Members are left to AccountStanding and roles.may_create / may_manage."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method not in SAFE_METHODS:
            actor = actor_for(request.user)
            act = staff_act_of(view)
            if actor.is_staff and act is not None:
                role_check(actor, act)
        return True


__all__ = ["StaffActs", "staff_act_of"]
