"""Writes that span models: creating tenants and offers, deciding access.

Services take keyword-only typed arguments, validate with the models' own validators
(``full_clean``) and raise ``DomainError`` for business-rule refusals the API maps to 4xx.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from auditlog.context import disable_auditlog
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Model, ProtectedError, QuerySet
from django.utils import timezone

from affiliates.core.audit import AuditChange, audit_diff, audit_log_changes, audit_saved
from affiliates.core.errors import Conflict, DomainError
from affiliates.models import Advertiser, Goal, Offer, OfferAccess, Publisher
from affiliates.notices import access_decided, access_requested, offer_changed, signup_decided

M = TypeVar("M", bound=Model)


def advertiser_create(*, name: str, currency: str = "USD", **fields: Any) -> tuple[Advertiser, str]:
    """Create an advertiser; returns it with its postback token, which is shown only now."""
    advertiser = Advertiser(name=name, currency=currency, **fields)
    token = advertiser.rotate_postback_token()
    advertiser.full_clean()
    advertiser.save()
    return advertiser, token


def advertiser_rotate_credentials(*, advertiser: Advertiser, hmac_secret: bool = False) -> str:
    """Replace the postback token (and optionally the HMAC secret); the old ones stop working."""
    token = advertiser.rotate_postback_token()
    if hmac_secret:
        advertiser.rotate_hmac_secret()
    advertiser.save(update_fields=["postback_token_digest", "postback_token_hint", "hmac_secret"])
    return token


def advertiser_rotate_hmac_secret(*, advertiser: Advertiser) -> str:
    """Replace the HMAC secret; signatures made with the old one stop verifying."""
    secret = advertiser.rotate_hmac_secret()
    advertiser.save(update_fields=["hmac_secret"])
    return secret


def publisher_create(*, name: str, email: str, **fields: Any) -> Publisher:
    publisher = Publisher(name=name, email=email, **fields)
    publisher.full_clean()
    publisher.save()
    return publisher


def publisher_set_status(*, publisher: Publisher, status: str, by: AbstractBaseUser | None) -> Publisher:
    if status not in Publisher.Status.values:
        raise DomainError(f"Unknown status {status!r}.", code="bad_status")
    was = publisher.status
    publisher.status = status
    publisher.status_changed_by = by  # type: ignore[assignment]
    publisher.status_changed_at = timezone.now()
    publisher.save(update_fields=["status", "status_changed_by", "status_changed_at"])
    if was != status and status in (Publisher.Status.ACTIVE, Publisher.Status.REJECTED):
        # The staff queue's approve / reject: the sign-up page promised an e-mail.
        signup_decided(publisher=publisher, approved=status == Publisher.Status.ACTIVE)
    return publisher


# action -> (statuses it may start from, status it leads to)
PUBLISHER_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"pending", "rejected", "suspended"}), Publisher.Status.ACTIVE),
    "reject": (frozenset({"pending"}), Publisher.Status.REJECTED),
    "suspend": (frozenset({"active"}), Publisher.Status.SUSPENDED),
}


def publisher_transition(*, publisher: Publisher, action: str, by: AbstractBaseUser | None) -> Publisher:
    """Approve, reject or suspend a publisher. Repeating an action is a no-op.

    The update is guarded by the status read, so two staff deciding at once cannot both win.
    """
    sources, target = PUBLISHER_TRANSITIONS[action]
    if publisher.status == target:
        return publisher
    if publisher.status not in sources:
        raise Conflict(f"A {publisher.status} publisher cannot be {action}d.", code="bad_transition")
    now = timezone.now()
    changed = Publisher.objects.filter(pk=publisher.pk, status=publisher.status).update(
        status=target, status_changed_by=by, status_changed_at=now
    )
    if not changed:
        raise Conflict("The publisher changed meanwhile; reload and retry.", code="concurrent_change")
    before = {"status": publisher.status, "status_changed_at": publisher.status_changed_at}
    publisher.refresh_from_db()
    audit_log_changes([audit_diff(publisher, before)], by=by)  # update() sends no signal
    if action in ("approve", "reject"):
        signup_decided(publisher=publisher, approved=action == "approve")
    return publisher


def instance_update(*, instance: M, **fields: Any) -> M:
    """Set fields on one row and save it after full validation (field and database constraints)."""
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    return instance


def instance_create(*, model: type[M], **fields: Any) -> M:
    instance = model(**fields)
    instance.full_clean()
    instance.save()
    return instance


def _goal_build(*, offer: Offer, data: Mapping[str, Any]) -> Goal:
    goal = Goal(offer=offer, **data)
    goal.full_clean(exclude=["offer"])
    return goal


def goal_code_change_check(*, goal: Goal, code: str | None) -> None:
    """Refuse renaming a goal that has conversions.

    Advertisers' live postbacks name the goal by its code (``goal=sale``): a silent rename
    would turn every later postback into a 400 unknown_goal. Add a new goal instead.
    """
    if goal.pk and code is not None and code != goal.code and goal.conversions.exists():
        raise Conflict(
            f"Goal {goal.code!r} has conversions: live postbacks send goal={goal.code}, so its code "
            "cannot change. Add a new goal with the new code instead.",
            code="goal_code_in_use",
        )


def _goals_check(goal_data: list[dict[str, Any]]) -> None:
    """Rules over the whole list: at least one, one default (the first unless said), unique codes."""
    if not goal_data:
        raise DomainError("An offer needs at least one goal.", code="no_goals")
    if sum(bool(g.get("is_default")) for g in goal_data) > 1:
        raise DomainError("Only one goal can be the default.", code="many_default_goals")
    if not any(g.get("is_default") for g in goal_data):
        goal_data[0]["is_default"] = True
    codes = [g.get("code") for g in goal_data]
    if len(set(codes)) != len(codes):
        raise DomainError("Goal codes must be unique within an offer.", code="duplicate_goal_code")


@transaction.atomic
def offer_create(*, advertiser: Advertiser, goals: Iterable[Mapping[str, Any]], **fields: Any) -> Offer:
    """Create an offer with its goals. The first goal is the default unless one says otherwise."""
    goal_data = [dict(g) for g in goals]
    _goals_check(goal_data)
    fields.setdefault("currency", advertiser.currency)
    offer = Offer(advertiser=advertiser, **fields)
    offer.full_clean()
    offer.save()
    for data in goal_data:
        data.pop("id", None)
        _goal_build(offer=offer, data=data).save()
    return offer


@transaction.atomic
def offer_update(*, offer: Offer, goals: Iterable[Mapping[str, Any]] | None = None, **fields: Any) -> Offer:
    """Change an offer and, when ``goals`` is given, make its goals exactly that list.

    A listed goal with an ``id`` (or a known ``code``) is updated in place, so its conversions
    keep pointing at it; a new one is added; an unlisted one is deleted unless it has conversions.
    """
    if fields.get("fallback_offer") is not None and fields["fallback_offer"].pk == offer.pk:
        raise DomainError("An offer cannot be its own fallback.", code="self_fallback")
    was = {name: getattr(offer, name) for name in fields}
    was_status, was_prices = offer.status, _prices(offer)
    instance_update(instance=offer, **fields)
    if goals is not None:
        _goals_replace(offer=offer, goal_data=[dict(g) for g in goals])
    changed = [name for name in fields if getattr(offer, name) != was[name]]
    if goals is not None and _prices(offer) != was_prices:
        changed.append("goals")
    offer_changed(offer=offer, was_status=was_status, changed=changed)
    return offer


def _prices(offer: Offer) -> list[tuple[Any, ...]]:
    """What a publisher earns per goal: a change is worth telling the publishers running it."""
    return list(offer.goals.order_by("code").values_list("code", "payout_type", "payout"))


def _goals_replace(*, offer: Offer, goal_data: list[dict[str, Any]]) -> None:
    _goals_check(goal_data)
    existing = {g.pk: g for g in offer.goals.select_for_update()}
    before = {pk: copy.copy(g) for pk, g in existing.items()}
    by_code = {g.code: g for g in existing.values()}
    keep: list[tuple[Goal, dict[str, Any]]] = []
    for data in goal_data:
        goal_id = data.pop("id", None)
        goal = existing.get(goal_id) if goal_id is not None else by_code.get(data.get("code", ""))
        if goal_id is not None and goal is None:
            raise DomainError(f"Goal {goal_id} is not a goal of this offer.", code="unknown_goal")
        if goal is not None:
            goal_code_change_check(goal=goal, code=data.get("code"))
        keep.append((goal or Goal(offer=offer), data))
    kept_ids = {goal.pk for goal, _ in keep if goal.pk}
    try:
        Goal.objects.filter(offer=offer).exclude(pk__in=kept_ids).delete()
    except ProtectedError as exc:
        raise Conflict("A goal with conversions cannot be removed.", code="goal_in_use") from exc
    # Clear defaults and park codes first so swaps never trip the unique constraints midway.
    # The audit log compares each goal with its state before the parking, not the parked row.
    with disable_auditlog():
        Goal.objects.filter(pk__in=kept_ids).update(is_default=False)
        for goal, _ in keep:
            if goal.pk:
                Goal.objects.filter(pk=goal.pk).update(code=f"~{goal.pk}")
        for goal, data in keep:
            for name, value in data.items():
                setattr(goal, name, value)
            goal.is_default = bool(data.get("is_default"))  # the in-memory flag predates the reset
            goal.full_clean(exclude=["offer"], validate_constraints=False)
            goal.save()
    audit_log_changes([audit_saved(before.get(goal.pk), goal) for goal, _ in keep])


def _default_set(goals: QuerySet[Goal], value: bool) -> None:
    """Move the default flag with update() (no signal, no constraint trip midway), logging each
    goal it moves. Caller is inside transaction.atomic."""
    moved = list(goals.exclude(is_default=value))
    goals.update(is_default=value)
    audit_log_changes([AuditChange(instance=g, changes={"is_default": (not value, value)}) for g in moved])


@transaction.atomic
def goal_create(*, offer: Offer, **data: Any) -> Goal:
    """Add a goal. The offer's first goal, or one marked default, becomes the default."""
    siblings = Goal.objects.select_for_update().filter(offer=offer)
    if not siblings.exists():
        data["is_default"] = True
    elif data.get("is_default"):
        _default_set(siblings, False)
    goal = Goal(offer=offer, **data)
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def goal_update(*, goal: Goal, **data: Any) -> Goal:
    goal_code_change_check(goal=goal, code=data.get("code"))
    if data.get("is_default") is False and goal.is_default:
        raise DomainError("Make another goal the default instead.", code="default_goal_required")
    if data.get("is_default") and not goal.is_default:
        _default_set(Goal.objects.select_for_update().filter(offer_id=goal.offer_id), False)
    return instance_update(instance=goal, **data)


@transaction.atomic
def goal_delete(*, goal: Goal) -> None:
    """Remove a goal. The last goal stays; a removed default passes to the oldest remaining one."""
    siblings = list(Goal.objects.select_for_update().filter(offer_id=goal.offer_id).order_by("id"))
    if len(siblings) <= 1:
        raise Conflict("An offer needs at least one goal.", code="last_goal")
    goal_id = goal.pk  # delete() clears pk
    try:
        goal.delete()
    except ProtectedError as exc:
        raise Conflict("A goal with conversions cannot be removed.", code="goal_in_use") from exc
    if goal.is_default:
        heir = next(g for g in siblings if g.pk != goal_id)
        _default_set(Goal.objects.filter(pk=heir.pk), True)


@transaction.atomic
def access_decide(
    *, offer: Offer, publisher: Publisher, status: str, by: AbstractBaseUser | None, note: str = ""
) -> OfferAccess:
    """Approve or reject a publisher on an offer, creating the access row if it does not exist.

    Idempotent: deciding the same way twice keeps the first decision's time and token.
    """
    if status not in (OfferAccess.Status.APPROVED, OfferAccess.Status.REJECTED):
        raise DomainError("Decide with approved or rejected.", code="bad_status")
    access, _ = OfferAccess.objects.select_for_update().get_or_create(offer=offer, publisher=publisher)
    if access.status == status and access.decided_at is not None:
        return access
    was = access.status
    access.status = status
    access.decided_by = by  # type: ignore[assignment]
    access.decided_at = timezone.now()
    if note:
        access.note = note
    access.save(update_fields=["status", "decided_by", "decided_at", "note"])
    access_decided(access=access, revoked=was == OfferAccess.Status.APPROVED)
    return access


def access_revoke(*, access: OfferAccess, by: AbstractBaseUser | None, note: str = "") -> OfferAccess:
    """Remove a publisher from an offer it runs: its links stop earning and go to the fallback.

    The same write as rejecting (the audit log records the change, the publisher is told it
    was removed); refused unless the access is approved, so a stale page cannot reject an
    application nobody reviewed.
    """
    if access.status != OfferAccess.Status.APPROVED:
        raise Conflict("This publisher does not run the offer now.", code="not_approved")
    return access_decide(
        offer=access.offer, publisher=access.publisher, status=OfferAccess.Status.REJECTED, by=by, note=note
    )


def access_apply(*, offer: Offer, publisher: Publisher, note: str = "") -> OfferAccess:
    """A publisher asks to run an offer. Public offers are approved at once; private ones refuse."""
    if offer.visibility == Offer.Visibility.PRIVATE:
        raise DomainError("This offer is by invitation only.", code="offer_private", status_code=403)
    if offer.visibility == Offer.Visibility.PUBLIC:
        return access_decide(offer=offer, publisher=publisher, status=OfferAccess.Status.APPROVED, by=None)
    access, created = OfferAccess.objects.get_or_create(
        offer=offer, publisher=publisher, defaults={"note": note}
    )
    if not created and access.status == OfferAccess.Status.REJECTED:
        raise DomainError(
            "Your application to this offer was declined.", code="access_rejected", status_code=403
        )
    if created:
        access_requested(access=access)
    return access
