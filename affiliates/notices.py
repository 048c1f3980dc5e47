"""What the affiliates app announces: sign-ups, access requests and decisions, offer changes.

Each function says who is told and in what words; ``affiliates.notify`` honours each person's
choices and sends. Called from the services, inside their transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from affiliates.models import Offer, OfferAccess, Publisher
from affiliates.notifications import Kind
from affiliates.notify import advertiser_members, notify, publisher_members, staff_users

# Changes a publisher running the offer must hear about (what it pays, where traffic goes,
# when it runs, who may run it); a new description typo is not worth an e-mail.
OFFER_WATCHED = (
    "name",
    "landing_url",
    "starts_at",
    "ends_at",
    "visibility",
    "attribution_window_days",
    "hold_days",
    "target_countries",
    "target_devices",
    "goals",
    "caps",
)


def signup_received(*, publisher: Publisher, user: Any) -> None:
    notify(
        kind=Kind.SIGNUP_RECEIVED,
        recipients=[user],
        title="We received your application",
        body=(
            f"Thanks for applying to join as {publisher.name}. We review new publishers within a "
            "day and will e-mail you as soon as your account is approved."
        ),
        link=reverse("portal:pending"),
    )
    notify(
        kind=Kind.SIGNUP_RECEIVED,
        recipients=staff_users(),
        title=f"New publisher sign-up: {publisher.name}",
        body=f"{publisher.name} ({publisher.email}) applied and waits for approval.",
        link=reverse("portal:staff-publishers"),
    )


def signup_decided(*, publisher: Publisher, approved: bool) -> None:
    if approved:
        title = "Your publisher account is approved"
        body = f"Welcome aboard, {publisher.name}! Sign in to browse offers and get your tracking links."
        link = reverse("payouts_portal:pub-home")
    else:
        title = "Your publisher application was not approved"
        body = f"Sorry, {publisher.name}: we cannot accept your application at this time."
        link = reverse("portal:pending")
    notify(
        kind=Kind.SIGNUP_DECIDED,
        recipients=publisher_members([publisher.pk]),
        title=title,
        body=body,
        link=link,
    )


def access_requested(*, access: OfferAccess) -> None:
    offer, publisher = access.offer, access.publisher
    title = f"{publisher.name} asks to run {offer.name}"
    body = access.note or f"{publisher.name} applied to run {offer.name}."
    notify(
        kind=Kind.ACCESS_REQUESTED,
        recipients=advertiser_members([offer.advertiser_id]),
        title=title,
        body=body,
        link=reverse("tracking_portal:adv-publishers"),
    )
    notify(
        kind=Kind.ACCESS_REQUESTED,
        recipients=staff_users(),
        title=title,
        body=body,
        link=reverse("portal:staff-access"),
    )


def access_decided(*, access: OfferAccess, revoked: bool = False) -> None:
    offer = access.offer
    approved = access.status == OfferAccess.Status.APPROVED
    if revoked and not approved:
        notify(
            kind=Kind.ACCESS_DECIDED,
            recipients=publisher_members([access.publisher_id]),
            title=f"Removed from {offer.name}",
            body=(
                f"{offer.advertiser.name} removed you from {offer.name}: your links for it no longer "
                "earn and their clicks go to the offer's fallback."
                + (f" Note: {access.note}" if access.note else "")
            ),
            link=reverse("portal:pub-my-offers"),
        )
        return
    notify(
        kind=Kind.ACCESS_DECIDED,
        recipients=publisher_members([access.publisher_id]),
        title=f"{'Approved' if approved else 'Declined'}: {offer.name}",
        body=(
            f"You can run {offer.name} now: your tracking link is on the offer's page."
            if approved
            else f"Your access to {offer.name} is declined: its links no longer earn."
            + (f" Note: {access.note}" if access.note else "")
        ),
        link=reverse("portal:pub-offer", args=[offer.pk]),
    )


def _running(offer: Offer) -> list[Any]:
    publisher_ids = OfferAccess.objects.filter(offer=offer, status=OfferAccess.Status.APPROVED).values_list(
        "publisher_id", flat=True
    )
    return publisher_members(publisher_ids)


def offer_changed(*, offer: Offer, was_status: str | None, changed: Iterable[str]) -> None:
    """Tell the publishers running the offer that it was paused, or that what they run changed."""
    link = reverse("portal:pub-offer", args=[offer.pk])
    if was_status != Offer.Status.PAUSED and offer.status == Offer.Status.PAUSED:
        notify(
            kind=Kind.OFFER_PAUSED,
            recipients=_running(offer),
            title=f"Offer paused: {offer.name}",
            body=(
                f"{offer.name} is paused. Clicks on your links go to the offer's fallback and "
                "earn nothing until it is resumed."
            ),
            link=link,
        )
        return
    watched = sorted(set(changed) & set(OFFER_WATCHED))
    if was_status == Offer.Status.PAUSED and offer.status == Offer.Status.ACTIVE:
        watched.insert(0, "status (resumed)")
    if watched:
        notify(
            kind=Kind.OFFER_CHANGED,
            recipients=_running(offer),
            title=f"Offer changed: {offer.name}",
            body=f"What changed: {', '.join(w.replace('_', ' ') for w in watched)}. Check the terms.",
            link=link,
        )
