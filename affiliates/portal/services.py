"""Writes the portal pages make that span models: sign-up, and saving an offer with its parts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.forms import BaseInlineFormSet, ModelForm

from affiliates.core.errors import DomainError
from affiliates.models import Offer, Publisher
from affiliates.notices import offer_changed, signup_received
from affiliates.offer_targets import offer_target_clear, offer_target_set
from affiliates.services import publisher_create


@transaction.atomic
def publisher_signup(*, company: str, email: str, password: str, website: str = "", traffic: str = "") -> Any:
    """A new publisher and its first user. The publisher stays pending until staff approve it,
    and the portal lets a pending publisher's user in only as far as the "under review" page."""
    user = get_user_model().objects.create_user(username=email, email=email, password=password)
    publisher = publisher_create(
        name=company,
        email=email,
        website=website,
        status=Publisher.Status.PENDING,
        payout_details={"signup_note": traffic} if traffic else {},
    )
    publisher.members.add(user)
    signup_received(publisher=publisher, user=user)
    return user


@transaction.atomic
def offer_save(
    *,
    form: ModelForm[Offer],
    formsets: list[BaseInlineFormSet[Any, Any, Any]],
    target: tuple[int | None, str] | None = None,
    user: Any = None,
) -> Offer:
    """Save an offer and its goals, caps, creatives and effect-score target together, or nothing.

    ``target`` is (conversions per period or None to remove it, period); None leaves it as is.

    The forms are already valid; this enforces the rules across goals that no single form can
    see (exactly one default goal), then writes everything in one transaction.
    """
    goals = formsets[0]
    kept = [f for f in goals.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    defaults = [f.instance for f in kept if f.cleaned_data.get("is_default")]
    if len(defaults) > 1:
        raise DomainError("Only one goal can be the default.", code="many_default_goals")
    view_goal = form.cleaned_data.get("view_through_goal")
    if view_goal and view_goal not in {f.cleaned_data.get("code") for f in kept}:
        raise DomainError(
            f"The view-through goal {view_goal!r} is not the code of one of the offer's goals.",
            code="view_through_goal_unknown",
        )
    for f in goals.deleted_forms:
        if f.instance.pk and f.instance.conversions.exists():
            raise DomainError(
                f"Goal {f.instance.code!r} has conversions and cannot be deleted.", code="goal_in_use"
            )
    was_status = form.initial.get("status") if form.instance.pk else None
    changed = list(form.changed_data) + [
        name for name, fs in zip(("goals", "caps"), formsets[:2], strict=False) if fs.has_changed()
    ]
    offer = form.save()
    if defaults:
        # Clear the old default first: the one-default constraint never sees two at once.
        offer.goals.filter(is_default=True).exclude(pk=defaults[0].pk).update(is_default=False)
    for formset in formsets:
        formset.instance = offer
        formset.save()
    if not offer.goals.filter(is_default=True).exists():
        first = offer.goals.order_by("id").first()
        if first is not None:
            offer.goals.filter(pk=first.pk).update(is_default=True)
    if target is not None:
        conversions, period = target
        if conversions:
            offer_target_set(offer_id=offer.pk, conversions=conversions, period=period, user=user)
        else:
            offer_target_clear(offer_id=offer.pk)
    if was_status is not None:
        offer_changed(offer=offer, was_status=was_status, changed=changed)
    return offer
