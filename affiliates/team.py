"""Advertisers' and publishers' teams: invite by e-mail, accept, change roles, remove, leave.

Who may do it is affiliates.roles' call (``Act.MANAGE_TEAM``: the account's owners, staff
admins and the account's account managers). The rule kept here: an account always has an
owner, so the last owner cannot leave, be removed or be demoted. The account row is locked
while owners are counted, so two owners demoting each other at once cannot both succeed.

Every change is a row saved or deleted (members, invitations), so the audit log records each
one with who and from where (affiliates.audit registers the models).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from affiliates.core.errors import Conflict, DomainError
from affiliates.models import Advertiser, Publisher
from affiliates.notifications import Kind
from affiliates.notify import email_address
from affiliates.roles import Act, Actor, account_check, role_check, visible
from affiliates.team_models import AdvertiserMember, PublisherMember, TeamInvite, TeamRole

Account = Advertiser | Publisher
Member = AdvertiserMember | PublisherMember
INVITE_DAYS = 7


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _members(account: Account) -> QuerySet[Any]:
    if isinstance(account, Advertiser):
        return AdvertiserMember.objects.filter(advertiser=account)
    return PublisherMember.objects.filter(publisher=account)


def _account_kwargs(account: Account) -> dict[str, Account]:
    return {"advertiser": account} if isinstance(account, Advertiser) else {"publisher": account}


# --- whose team ------------------------------------------------------------------------------


def team_account(
    *, actor: Actor, advertiser_id: int | None = None, publisher_id: int | None = None
) -> Account:
    """The account whose team the actor looks at: a member's own; staff name one they can see
    (another's is 404, like any invisible row)."""
    if actor.is_advertiser:
        return Advertiser.objects.get(pk=actor.advertiser_pk)
    if actor.is_publisher:
        return Publisher.objects.get(pk=actor.publisher_pk)
    account: Account | None = None
    if actor.is_staff and advertiser_id is not None:
        account = visible(Advertiser.objects.filter(pk=advertiser_id), actor).first()
    elif actor.is_staff and publisher_id is not None:
        account = visible(Publisher.objects.filter(pk=publisher_id), actor).first()
    if account is None:
        raise NotFound("No such account.")
    return account


@dataclass(frozen=True)
class TeamRow:
    user_id: int
    username: str
    email: str
    role: str
    is_me: bool

    @property
    def role_label(self) -> str:
        return str(TeamRole(self.role).label)


def team_members(*, account: Account, actor: Actor) -> list[TeamRow]:
    rows = _members(account).select_related("user").order_by("user__username", "user_id")
    return [
        TeamRow(
            user_id=r.user_id,
            username=r.user.get_username(),
            email=r.user.email,
            role=r.role,
            is_me=r.user_id == actor.user_id,
        )
        for r in rows
    ]


def team_invites(*, account: Account) -> QuerySet[TeamInvite]:
    """Invitations not accepted, withdrawn or expired."""
    return TeamInvite.objects.filter(
        **_account_kwargs(account),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )


# --- changes ---------------------------------------------------------------------------------


def _role(role: str) -> TeamRole:
    if role not in TeamRole.values:
        raise DomainError(f"Unknown role {role!r}; one of {', '.join(TeamRole.values)}.", code="bad_role")
    return TeamRole(role)


def _lock(account: Account) -> None:
    type(account).objects.select_for_update().filter(pk=account.pk).first()


def _other_owners(account: Account, user_id: int) -> bool:
    return _members(account).filter(role=TeamRole.OWNER).exclude(user_id=user_id).exists()


def _member(account: Account, user_id: int) -> Member:
    member = _members(account).filter(user_id=user_id).first()
    if member is None:
        raise NotFound("No such member of this team.")
    return member  # type: ignore[no-any-return]


@transaction.atomic
def team_invite(*, actor: Actor, account: Account, email: str, role: str, by: Any) -> tuple[TeamInvite, str]:
    """Invite ``email`` with ``role`` and e-mail the link; the invite and its token (shown once)."""
    account_check(actor, Act.MANAGE_TEAM)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError("Enter a valid e-mail address.", code="bad_email") from exc
    team_role = _role(role)
    if _members(account).filter(user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member of this team.", code="already_member")
    token = secrets.token_urlsafe(32)
    invite = TeamInvite.objects.create(
        **_account_kwargs(account),
        email=email,
        role=team_role,
        token_digest=_digest(token),
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=INVITE_DAYS),
    )
    email_address(
        to=email,
        kind=Kind.TEAM_INVITE,
        title=f"You are invited to join {account.name} on the network",
        body=(
            f"{getattr(by, 'email', '') or 'A colleague'} invited you to {account.name}'s team as "
            f"{team_role.label.lower()}. Open the link to choose a password; it works for {INVITE_DAYS} days."
        ),
        link=reverse("portal:team-accept", args=[token]),
    )
    return invite, token


@transaction.atomic
def team_invite_revoke(*, actor: Actor, account: Account, invite_id: int) -> TeamInvite:
    account_check(actor, Act.MANAGE_TEAM)
    invite = team_invites(account=account).filter(pk=invite_id).first()
    if invite is None:
        raise NotFound("No such open invitation.")
    invite.revoked_at = timezone.now()
    invite.save(update_fields=["revoked_at"])
    return invite


def team_invite_open(*, token: str) -> TeamInvite:
    """The open invitation of this token: 404 ``invite_invalid`` for an unknown, spent,
    withdrawn or expired one (they are not told apart: the token is the only secret)."""
    invite = (
        TeamInvite.objects.select_related("advertiser", "publisher")
        .filter(token_digest=_digest(token))
        .first()
    )
    if invite is None or not invite.is_open:
        raise NotFound("This invitation is not valid any more; ask for a new one.", code="invite_invalid")
    return invite


@transaction.atomic
def team_invite_accept(*, token: str, password: str) -> Any:
    """Spend the invitation: a new user (username and e-mail: the invited address) with
    ``password``, a member of the team with the invited role."""
    invite = team_invite_open(token=token)
    claimed = TeamInvite.objects.filter(pk=invite.pk, accepted_at__isnull=True).update(
        accepted_at=timezone.now()
    )
    if not claimed:  # accepted a moment ago by another request
        raise NotFound("This invitation is not valid any more; ask for a new one.", code="invite_invalid")
    users = get_user_model().objects
    if (
        users.filter(username__iexact=invite.email).exists()
        or users.filter(email__iexact=invite.email).exists()
    ):
        raise Conflict(
            "An account with this e-mail exists already; ask to be invited with another.", code="email_taken"
        )
    user = users.model(username=invite.email, email=invite.email)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), code="bad_password") from exc
    user.set_password(password)
    user.save()
    account = invite.advertiser or invite.publisher
    assert account is not None  # the invite_one_account constraint
    _members(account).model.objects.create(**_account_kwargs(account), user=user, role=invite.role)
    return user


@transaction.atomic
def team_member_role_set(*, actor: Actor, account: Account, user_id: int, role: str) -> Member:
    account_check(actor, Act.MANAGE_TEAM)
    team_role = _role(role)
    _lock(account)
    member = _member(account, user_id)
    if member.role == TeamRole.OWNER and team_role != TeamRole.OWNER and not _other_owners(account, user_id):
        raise Conflict("The last owner cannot be demoted; make someone else owner first.", code="last_owner")
    if member.role != team_role:
        member.role = team_role
        member.save(update_fields=["role"])
    return member


@transaction.atomic
def team_member_remove(*, actor: Actor, account: Account, user_id: int) -> None:
    """Remove a member; any member may remove themselves (leave). Never the last owner."""
    if user_id != actor.user_id:
        account_check(actor, Act.MANAGE_TEAM)
    elif not (actor.is_advertiser or actor.is_publisher):
        role_check(actor, Act.MANAGE_TEAM)
    _lock(account)
    member = _member(account, user_id)
    if member.role == TeamRole.OWNER and not _other_owners(account, user_id):
        raise Conflict(
            "The last owner cannot leave or be removed; make someone else owner first.", code="last_owner"
        )
    member.delete()
