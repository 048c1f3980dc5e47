"""Django's model permissions, which the Django admin asks, as affiliates.roles decides them.

The admin cannot narrow a list to an account manager's accounts, so it is the network admins'
tool (team_admin.admin_site_allowed keeps every other staff role out, to the staff console).
Admins hold every model permission here, whether or not they are superusers: a staff user given
the admin role in the console can then use the admin, instead of passing its door to find no
model it may see. The ModelBackend still grants what groups and users were given, but only an
admin gets past the door.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from affiliates.roles import is_network_admin


class StaffRoleBackend(BaseBackend):
    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return bool(user_obj.is_active) and is_network_admin(user_obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return bool(user_obj.is_active) and is_network_admin(user_obj)
