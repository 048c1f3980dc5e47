"""Named API keys: several per user, shown once, stored hashed, optionally read-only or
expiring, revocable. A key acts as its user (roles.actor_for), never more.

Wire format: ``Authorization: Token afn_<8 hex><43 url-safe>`` (contract section 7's header,
shared with DRF's authtoken keys, which have no ``afn_`` mark). The first 12 characters are the
row's ``prefix``: shown in the portal, unique, the lookup; the rest is checked against the
stored SHA-256 in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from affiliates.core.audit import AuditChange, audit_log_changes
from affiliates.core.errors import DomainError
from affiliates.credentials import ApiKey
from affiliates.roles import Act, Role, actor_for, role_check

KEY_MARK = "afn_"
PREFIX_LENGTH = len(KEY_MARK) + 8
#: last_used_at is written at most this often per key: no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_KEYS_PER_USER = 50


class KeyRefused(DomainError):
    """401: the key is unknown, revoked or expired (``code`` says which)."""

    status_code = 401


@dataclass(frozen=True)
class NewKey:
    row: ApiKey
    #: The whole key: returned once, at creation, and never again.
    key: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_api_key(key: str) -> bool:
    return key.startswith(KEY_MARK)


def _role_check(user: Any) -> None:
    """A team analyst or read-only member (or read-only staff) manages no keys: 403. A user of
    no account may: its key reaches nothing."""
    actor = actor_for(user)
    if actor.role is not Role.NONE:
        role_check(actor, Act.MANAGE_KEYS)


def apikey_create(
    *, user: Any, name: str, read_only: bool = False, expires_at: datetime | None = None
) -> NewKey:
    _role_check(user)
    name = name.strip()
    if not name:
        raise DomainError("Give the key a name.", code="name_required")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError("The expiry must be in the future.", code="expiry_past")
    if ApiKey.objects.filter(user_id=user.pk, revoked_at__isnull=True).count() >= MAX_KEYS_PER_USER:
        raise DomainError(f"At most {MAX_KEYS_PER_USER} active keys per user.", code="too_many_keys")
    key = f"{KEY_MARK}{secrets.token_hex(4)}{secrets.token_urlsafe(32)}"
    row = ApiKey.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:PREFIX_LENGTH],
        key_hash=_digest(key),
        read_only=read_only,
        expires_at=expires_at,
    )
    return NewKey(row=row, key=key)


def apikeys_of(*, user: Any) -> QuerySet[ApiKey]:
    """The user's keys, newest first, revoked ones included (the list says so)."""
    return ApiKey.objects.filter(user_id=user.pk)


def apikey_revoke(*, user: Any, key_id: int) -> ApiKey:
    """Revokes one of the user's own keys (another user's key is simply not found). Revoking
    twice changes nothing."""
    row = ApiKey.objects.get(pk=key_id, user_id=user.pk)
    _role_check(user)
    now = timezone.now()
    if ApiKey.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=now):
        # A guarded update fires no signal: the revocation is logged here (who and from where).
        audit_log_changes([AuditChange(instance=row, changes={"revoked_at": (None, now)})], by=user)
    row.refresh_from_db(fields=["revoked_at"])
    return row


def apikey_authenticate(*, key: str) -> ApiKey:
    """The live key row for a presented key (with its user), or KeyRefused."""
    row = (
        ApiKey.objects.select_related("user").filter(prefix=key[:PREFIX_LENGTH]).first()
        if len(key) > PREFIX_LENGTH
        else None
    )
    if row is None or not hmac.compare_digest(row.key_hash, _digest(key)):
        raise KeyRefused("Invalid token.", code="key_invalid")
    now = timezone.now()
    if row.revoked_at is not None:
        raise KeyRefused("This API key was revoked.", code="key_revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise KeyRefused("This API key has expired.", code="key_expired")
    if not row.user.is_active:
        raise KeyRefused("This API key's user is inactive.", code="user_inactive")
    _last_used_touch(row, now)
    return row


def _last_used_touch(row: ApiKey, now: datetime) -> None:
    """At most one write a minute per key, and none while the row read says it is recent; the
    guarded UPDATE keeps concurrent requests from writing it twice."""
    cutoff = now - LAST_USED_RESOLUTION
    if row.last_used_at is not None and row.last_used_at > cutoff:
        return
    ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=cutoff), pk=row.pk).update(
        last_used_at=now
    )
    row.last_used_at = now


def apikey_status(row: ApiKey, *, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``: what the key list shows."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= (now or timezone.now()):
        return "expired"
    return "active"
