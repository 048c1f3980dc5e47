"""Tell people what happened: in-app and by e-mail, as each of them chose.

``notify`` is the one entry point every app uses. It writes the in-app rows and the e-mails
owed in the caller's transaction, and sends the e-mails from a Celery worker once that
transaction commits (``affiliates.tasks``); a rolled-back change announces nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from celery import current_app
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from affiliates.notifications import (
    Channel,
    Kind,
    NotificationEmail,
    NotificationPreference,
    NotifiedEvent,
    notifications_create,
)
from affiliates.roles import Role

EMAIL_TASK = "affiliates.notification_email_send"

# Which kinds each role can receive: the preferences page offers only these.
KINDS_FOR_ROLE: dict[Role, tuple[str, ...]] = {
    Role.STAFF: (
        Kind.SIGNUP_RECEIVED,
        Kind.ACCESS_REQUESTED,
        Kind.CAP_NEAR,
        Kind.CAP_REACHED,
        Kind.PAYOUT_APPROVED,
        Kind.PAYOUT_PAID,
        Kind.INVOICE_ISSUED,
        Kind.INVOICE_OVERDUE,
        Kind.RULE_FIRED,
    ),
    Role.ADVERTISER: (
        Kind.ACCESS_REQUESTED,
        Kind.CAP_NEAR,
        Kind.CAP_REACHED,
        Kind.INVOICE_ISSUED,
        Kind.INVOICE_OVERDUE,
        Kind.RULE_FIRED,
    ),
    Role.PUBLISHER: (
        Kind.SIGNUP_RECEIVED,
        Kind.SIGNUP_DECIDED,
        Kind.ACCESS_DECIDED,
        Kind.OFFER_CHANGED,
        Kind.OFFER_PAUSED,
        Kind.CAP_NEAR,
        Kind.CAP_REACHED,
        Kind.CONVERSION_REVERSED,
        Kind.PAYOUT_APPROVED,
        Kind.PAYOUT_PAID,
        Kind.POSTBACK_FAILING,
    ),
}


# --- who -----------------------------------------------------------------------------------


def advertiser_members(advertiser_ids: Iterable[int]) -> list[Any]:
    return list(
        get_user_model().objects.filter(advertisers__in=set(advertiser_ids), is_active=True).distinct()
    )


def publisher_members(publisher_ids: Iterable[int]) -> list[Any]:
    return list(get_user_model().objects.filter(publishers__in=set(publisher_ids), is_active=True).distinct())


def staff_users() -> list[Any]:
    return list(get_user_model().objects.filter(is_staff=True, is_active=True))


# --- preferences ---------------------------------------------------------------------------


def _switched_off(user_ids: Sequence[int], kind: str) -> set[tuple[int, str]]:
    rows = NotificationPreference.objects.filter(user_id__in=user_ids, kind=kind, enabled=False)
    return set(rows.values_list("user_id", "channel"))


def notification_preferences(*, user: Any, role: Role) -> list[dict[str, Any]]:
    """Every kind this role can get, with each channel on or off for this user."""
    off = set(NotificationPreference.objects.filter(user=user, enabled=False).values_list("kind", "channel"))
    return [
        {
            "kind": kind,
            "label": Kind(kind).label,
            **{channel: (kind, channel) not in off for channel in Channel.values},
        }
        for kind in KINDS_FOR_ROLE.get(role, ())
    ]


@transaction.atomic
def notification_preferences_update(*, user: Any, choices: Iterable[tuple[str, str, bool]]) -> int:
    """Set (kind, channel, enabled) choices; the number of choices stored."""
    count = 0
    for kind, channel, enabled in choices:
        if kind not in Kind.values or channel not in Channel.values:
            raise ValueError(f"unknown kind or channel: {kind!r}, {channel!r}")
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, channel=channel, defaults={"enabled": enabled}
        )
        count += 1
    return count


# --- sending -------------------------------------------------------------------------------


def _first_time(key: str) -> bool:
    try:
        with transaction.atomic():
            _, created = NotifiedEvent.objects.get_or_create(key=key[:200])
    except IntegrityError:  # another worker announced it a moment ago
        return False
    return created


def emails_enqueue(*, email_ids: Iterable[int]) -> None:
    for email_id in email_ids:
        current_app.signature(EMAIL_TASK, args=(email_id,)).delay()


@transaction.atomic
def notify(
    *, kind: str, recipients: Iterable[Any], title: str, body: str = "", link: str = "", key: str = ""
) -> int:
    """Tell each recipient on the channels they keep on; the number of people reached.

    ``key`` makes it once-only: a second call with the same key does nothing.
    """
    people = {user.pk: user for user in recipients if user is not None and user.is_active}
    if not people or (key and not _first_time(key)):
        return 0
    off = _switched_off(list(people), kind)
    in_app = [u for pk, u in people.items() if (pk, Channel.IN_APP) not in off]
    notifications_create(recipients=in_app, title=title, body=body, link=link, kind=kind)
    emails = NotificationEmail.objects.bulk_create(
        NotificationEmail(recipient=u, to=u.email, kind=kind, title=title[:200], body=body, link=link[:500])
        for pk, u in people.items()
        if u.email and (pk, Channel.EMAIL) not in off
    )
    ids = [e.pk for e in emails]
    if ids:

        def send() -> None:  # a named function: robust on_commit logs the callback's __qualname__
            emails_enqueue(email_ids=ids)

        # Broker down at commit: the e-mails stay pending and the beat task sends them.
        transaction.on_commit(send, robust=True)
    reached = {u.pk for u in in_app} | {e.recipient_id for e in emails}
    return len(reached)


@transaction.atomic
def email_address(*, to: str, kind: str, title: str, body: str = "", link: str = "") -> NotificationEmail:
    """An e-mail to an address no user has yet (a team invitation): no in-app row and no
    preference to ask; sent like every other e-mail, from a worker once the caller commits."""
    email = NotificationEmail.objects.create(
        recipient=None, to=to, kind=kind, title=title[:200], body=body, link=link[:500]
    )

    def send() -> None:
        emails_enqueue(email_ids=[email.pk])

    transaction.on_commit(send, robust=True)
    return email


def emails_due(*, older_than: Any, limit: int = 500) -> list[int]:
    """Pending e-mails no worker took (broker down when they were owed)."""
    rows = NotificationEmail.objects.filter(
        Q(status=NotificationEmail.Status.PENDING), created_at__lte=older_than
    ).order_by("created_at")
    return list(rows.values_list("id", flat=True)[:limit])
