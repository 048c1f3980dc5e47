"""Staff roles and account managers' assignments: set by network admins (``Act.MANAGE_NETWORK``).

Each change is a row saved or deleted (StaffMember, AccountAssignment), so the audit log
records it with who and from where (affiliates.audit registers both models).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from affiliates.core.errors import Conflict, DomainError
from affiliates.models import Advertiser, Publisher
from affiliates.roles import Act, Actor, role_check, staff_role_of, staff_role_resolve
from affiliates.team_models import AccountAssignment, StaffMember, StaffRole


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


def staff_user(*, user_id: int) -> Any:
    user = get_user_model().objects.filter(pk=user_id, is_staff=True).first()
    if user is None:
        raise NotFound("No such staff user.")
    return user


@dataclass
class StaffRow:
    user: Any
    role: str
    advertisers: list[Advertiser] = field(default_factory=list)
    publishers: list[Publisher] = field(default_factory=list)
    assigned: list[AccountAssignment] = field(default_factory=list)

    @property
    def role_label(self) -> str:
        return str(StaffRole(self.role).label)


def staff_rows(*, users: Any) -> list[StaffRow]:
    """Each staff user of ``users`` with its role and (account managers) its accounts."""
    people = [u for u in users if u.is_staff]
    roles = dict(StaffMember.objects.filter(user__in=people).values_list("user_id", "role"))
    rows = {
        u.pk: StaffRow(user=u, role=staff_role_resolve(is_superuser=u.is_superuser, row_role=roles.get(u.pk)))
        for u in people
    }
    for a in AccountAssignment.objects.filter(manager__in=people).select_related("advertiser", "publisher"):
        row = rows[a.manager_id]
        row.assigned.append(a)
        if a.advertiser is not None:
            row.advertisers.append(a.advertiser)
        elif a.publisher is not None:
            row.publishers.append(a.publisher)
    return list(rows.values())


@transaction.atomic
def staff_role_set(*, actor: Actor, user: Any, role: str) -> StaffMember:
    """Give a staff user a role. A superuser stays admin whatever the row says; an admin does
    not demote themselves (another admin must), so the network keeps one."""
    role_check(actor, Act.MANAGE_NETWORK)
    if role not in StaffRole.values:
        raise DomainError(f"Unknown role {role!r}; one of {', '.join(StaffRole.values)}.", code="bad_role")
    if not user.is_staff:
        raise DomainError("Only staff users have staff roles.", code="not_staff")
    if user.pk == actor.user_id and role != StaffRole.ADMIN:
        raise Conflict("You cannot demote yourself; ask another admin.", code="own_role")
    member, created = StaffMember.objects.get_or_create(user=user, defaults={"role": role})
    if not created and member.role != role:
        member.role = role
        member.updated_at = timezone.now()
        member.save(update_fields=["role", "updated_at"])
    return member


def assignments(*, manager: Any | None = None) -> QuerySet[AccountAssignment]:
    qs = AccountAssignment.objects.select_related("manager", "advertiser", "publisher")
    return qs.filter(manager=manager) if manager is not None else qs


@transaction.atomic
def account_assign(
    *, actor: Actor, manager: Any, advertiser: Advertiser | None = None, publisher: Publisher | None = None
) -> AccountAssignment:
    """Assign an advertiser or a publisher (exactly one) to an account manager."""
    role_check(actor, Act.MANAGE_NETWORK)
    if (advertiser is None) == (publisher is None):
        raise DomainError("Name one advertiser or one publisher.", code="one_account")
    if not manager.is_staff or staff_role_of(manager) != StaffRole.ACCOUNT_MANAGER:
        raise DomainError("Only account managers are assigned accounts.", code="not_account_manager")
    existing = AccountAssignment.objects.filter(
        manager=manager, advertiser=advertiser, publisher=publisher
    ).first()
    if existing is not None:
        return existing
    return AccountAssignment.objects.create(manager=manager, advertiser=advertiser, publisher=publisher)


@transaction.atomic
def account_unassign(*, actor: Actor, assignment_id: int) -> None:
    role_check(actor, Act.MANAGE_NETWORK)
    assignment = AccountAssignment.objects.filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFound("No such assignment.")
    assignment.delete()
