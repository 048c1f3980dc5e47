"""Who may see and change what. The one place permissions are decided.

The API, the portals and the admin all ask this module. A user is network staff, a member of
one advertiser, or a member of one publisher. Scoping functions narrow a queryset to what the
actor may see, so another tenant's object is simply not found (404), never 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from affiliates import models as m
from affiliates.core.errors import DomainError
from affiliates.models import Offer, OfferAccess, Publisher

M = TypeVar("M", bound=Model)


class Role(StrEnum):
    STAFF = "staff"
    ADVERTISER = "advertiser"
    PUBLISHER = "publisher"
    NONE = "none"


@dataclass(frozen=True)
class Actor:
    role: Role
    user_id: int | None = None
    advertiser_id: int | None = None
    publisher_id: int | None = None
    #: The advertiser's or publisher's status when the actor was resolved; None: not read yet.
    account_status: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    @property
    def is_advertiser(self) -> bool:
        return self.role is Role.ADVERTISER

    @property
    def is_publisher(self) -> bool:
        return self.role is Role.PUBLISHER

    @property
    def advertiser_pk(self) -> int:
        """The advertiser id of an advertiser actor (asking any other actor is a bug)."""
        if self.advertiser_id is None:
            raise ValueError("not an advertiser actor")
        return self.advertiser_id

    @property
    def publisher_pk(self) -> int:
        """The publisher id of a publisher actor (asking any other actor is a bug)."""
        if self.publisher_id is None:
            raise ValueError("not a publisher actor")
        return self.publisher_id


NOBODY = Actor(role=Role.NONE)


def actor_for(user: Any) -> Actor:
    """Resolve a user's role once per request. Staff wins; then advertiser; then publisher."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOBODY
    cached: Actor | None = getattr(user, "_affnet_actor", None)
    if cached is not None:
        return cached
    if user.is_staff:
        actor = Actor(role=Role.STAFF, user_id=user.pk)
    elif (adv := user.advertisers.values_list("id", "status").first()) is not None:
        actor = Actor(role=Role.ADVERTISER, user_id=user.pk, advertiser_id=adv[0], account_status=adv[1])
    elif (pub := user.publishers.values_list("id", "status").first()) is not None:
        actor = Actor(role=Role.PUBLISHER, user_id=user.pk, publisher_id=pub[0], account_status=pub[1])
    else:
        actor = Actor(role=Role.NONE, user_id=user.pk)
    user._affnet_actor = actor
    return actor


def scope(
    qs: QuerySet[M], actor: Actor, *, advertiser_path: str | None, publisher_path: str | None
) -> QuerySet[M]:
    """Narrow ``qs`` to the actor's tenant.

    ``advertiser_path`` / ``publisher_path`` are lookups from the model to the tenant id
    (``"offer__advertiser_id"``); ``None`` means that role sees no rows of this model.
    """
    if actor.is_staff:
        return qs
    if actor.is_advertiser and advertiser_path:
        return qs.filter(**{advertiser_path: actor.advertiser_id})
    if actor.is_publisher and publisher_path:
        return qs.filter(**{publisher_path: actor.publisher_id})
    return qs.none()


def offers_visible_to_publisher_q(publisher_id: int) -> Any:
    """Publishers see public and approval-required offers, and private ones they were let into."""

    return Q(visibility__in=[Offer.Visibility.PUBLIC, Offer.Visibility.APPROVAL]) | Q(
        accesses__publisher_id=publisher_id, accesses__status="approved"
    )


# --- Per-model rules, used by the API, the admin and the portals ------------------------------
# Each rule narrows a queryset of one affiliates model to what the actor may SEE. Writing is a
# second question (may_manage): a publisher sees an offer but may not edit it (403), while an
# object outside the tenant is simply absent (404).


def _approved_offer_ids(publisher_id: int) -> Any:
    return OfferAccess.objects.filter(publisher_id=publisher_id, status="approved").values("offer_id")


def _visible_advertisers(qs: QuerySet[Any], actor: Actor) -> QuerySet[Any]:
    return qs.filter(id=actor.advertiser_pk) if actor.is_advertiser else qs.none()


def _visible_publishers(qs: QuerySet[Any], actor: Actor) -> QuerySet[Any]:
    if actor.is_publisher:
        return qs.filter(id=actor.publisher_pk)
    if actor.is_advertiser:
        # Publishers that applied to or run one of its offers: the advertiser decides on them.
        ids = OfferAccess.objects.filter(offer__advertiser_id=actor.advertiser_pk).values("publisher_id")
        return qs.filter(id__in=ids)
    return qs.none()


def _visible_offers(qs: QuerySet[Any], actor: Actor) -> QuerySet[Any]:

    if actor.is_advertiser:
        return qs.filter(advertiser_id=actor.advertiser_pk)
    if actor.is_publisher:
        # A subquery instead of a join keeps one row per offer (no DISTINCT under pagination).
        return qs.filter(
            Q(visibility__in=[Offer.Visibility.PUBLIC, Offer.Visibility.APPROVAL])
            | Q(id__in=_approved_offer_ids(actor.publisher_pk))
        )
    return qs.none()


def _visible_goals(qs: QuerySet[Any], actor: Actor) -> QuerySet[Any]:
    return qs.filter(offer_id__in=_visible_offers(Offer.objects.all(), actor).values("id"))


def _visible_by_offer_or_publisher(qs: QuerySet[Any], actor: Actor) -> QuerySet[Any]:
    if actor.is_advertiser:
        return qs.filter(offer__advertiser_id=actor.advertiser_pk)
    if actor.is_publisher:
        return qs.filter(publisher_id=actor.publisher_pk)
    return qs.none()


def _visible_caps(qs: QuerySet[Any], actor: Actor) -> QuerySet[Any]:
    if actor.is_publisher:
        # Its own caps, and the shared ones of offers it runs: both can stop its clicks.
        return qs.filter(
            Q(publisher_id=actor.publisher_pk)
            | Q(publisher__isnull=True, offer_id__in=_approved_offer_ids(actor.publisher_pk))
        )
    return _visible_by_offer_or_publisher(qs, actor)


def _rules() -> dict[type[Model], Callable[[QuerySet[Any], Actor], QuerySet[Any]]]:
    return {
        m.Advertiser: _visible_advertisers,
        m.Publisher: _visible_publishers,
        m.Offer: _visible_offers,
        m.Goal: _visible_goals,
        m.CustomPayout: _visible_by_offer_or_publisher,
        m.Cap: _visible_caps,
        m.Coupon: _visible_by_offer_or_publisher,
        m.OfferAccess: _visible_by_offer_or_publisher,
    }


def visible(qs: QuerySet[M], actor: Actor) -> QuerySet[M]:
    """The rows of ``qs`` the actor may see. Staff see all; anyone without a role sees none."""
    if actor.is_staff:
        return qs
    if actor.role is Role.NONE:
        return qs.none()
    return _rules()[qs.model](qs, actor)


def owning_advertiser_id(obj: Model) -> int | None:
    """The advertiser whose offer (or itself) this object belongs to; None for publishers."""
    if isinstance(obj, m.Advertiser):
        return obj.pk
    if isinstance(obj, m.Offer):
        return obj.advertiser_id
    offer = getattr(obj, "offer", None)
    return offer.advertiser_id if offer is not None else None


def may_manage(actor: Actor, obj: Model) -> bool:
    """May the actor change (or decide on) this object it can see?

    Staff: everything. Advertiser: itself, its offers and what hangs off them (goals, caps,
    custom payouts, coupons, access decisions). Publisher: its own profile only.
    """
    if actor.is_staff:
        return True
    if isinstance(obj, Publisher):
        return actor.is_publisher and obj.pk == actor.publisher_id
    return actor.is_advertiser and owning_advertiser_id(obj) == actor.advertiser_id


def may_create(actor: Actor, model: type[Model]) -> bool:
    """Who may add rows of a model at all; the target offer is then checked with may_manage."""
    if actor.is_staff:
        return True
    if model is m.OfferAccess:
        return actor.is_advertiser or actor.is_publisher
    return actor.is_advertiser and model in (m.Offer, m.Goal, m.CustomPayout, m.Cap, m.Coupon)


# --- Account status: what a paused, suspended, pending or rejected account may still do -----
# The one rule for the API and the portals. Reading stays open (an advertiser owes what it
# owes; a pending publisher can fill in its profile), but an account the network has not let
# in, or has shut out, changes nothing on the network.


class Act(StrEnum):
    MANAGE_OFFERS = "manage_offers"  # advertiser: offers, goals, caps, custom payouts, coupons
    DECIDE_ACCESS = "decide_access"  # advertiser: approve or reject publishers on its offers
    DECIDE_COMMISSIONS = "decide_commissions"  # advertiser: approve, reject, reverse, adjust
    APPLY_TO_OFFERS = "apply_to_offers"  # publisher
    MANAGE_POSTBACKS = "manage_postbacks"  # publisher: its postback URLs, test fires, re-sends
    MANAGE_SMART_LINKS = "manage_smart_links"  # publisher: its smart links, their paths, weights


_ADVERTISER_MAY = frozenset({m.Advertiser.Status.ACTIVE, m.Advertiser.Status.PAUSED})
_PUBLISHER_MAY = frozenset({m.Publisher.Status.ACTIVE})
#: act -> (the role it is an act of, the account statuses that may do it)
ACCOUNT_RULES: dict[Act, tuple[Role, frozenset[str]]] = {
    Act.MANAGE_OFFERS: (Role.ADVERTISER, _ADVERTISER_MAY),
    Act.DECIDE_ACCESS: (Role.ADVERTISER, _ADVERTISER_MAY),
    Act.DECIDE_COMMISSIONS: (Role.ADVERTISER, _ADVERTISER_MAY),
    Act.APPLY_TO_OFFERS: (Role.PUBLISHER, _PUBLISHER_MAY),
    Act.MANAGE_POSTBACKS: (Role.PUBLISHER, _PUBLISHER_MAY),
    Act.MANAGE_SMART_LINKS: (Role.PUBLISHER, _PUBLISHER_MAY),
}
#: Publishers the network has shut out: an advertiser cannot let them into its offers.
UNAPPROVABLE_PUBLISHERS = frozenset({m.Publisher.Status.REJECTED, m.Publisher.Status.SUSPENDED})


class AccountRefused(DomainError):
    """403 with ``code`` ``account_<status>`` (account_suspended, account_pending, ...) or
    ``publisher_<status>`` for an approval of a publisher the network shut out."""

    status_code = 403


def account_status(actor: Actor) -> str:
    """The actor's advertiser or publisher status (read once when actor_for did not)."""
    if actor.account_status is not None:
        return actor.account_status
    if actor.is_advertiser:
        return str(m.Advertiser.objects.values_list("status", flat=True).get(pk=actor.advertiser_pk))
    if actor.is_publisher:
        return str(m.Publisher.objects.values_list("status", flat=True).get(pk=actor.publisher_pk))
    return ""


def account_check(actor: Actor, act: Act) -> None:
    """Raise AccountRefused when the actor's account status does not allow ``act``.

    Staff act for everyone; an actor of another role is refused by the other rules (may_create,
    may_manage), not here."""
    role, allowed = ACCOUNT_RULES[act]
    if actor.role is not role:
        return
    status = account_status(actor)
    if status not in allowed:
        raise AccountRefused(
            f"Your account is {status}: it cannot {act.replace('_', ' ')} until the network reinstates it.",
            code=f"account_{status}",
        )


def approval_check(actor: Actor, publisher: m.Publisher) -> None:
    """An advertiser cannot approve onto its offers a publisher the network rejected or
    suspended (staff can: reinstating is the network's call)."""
    account_check(actor, Act.DECIDE_ACCESS)
    if actor.is_advertiser and publisher.status in UNAPPROVABLE_PUBLISHERS:
        raise AccountRefused(
            f"The network has {publisher.status} this publisher; it cannot run your offers.",
            code=f"publisher_{publisher.status}",
        )
