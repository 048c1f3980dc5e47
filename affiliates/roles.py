"""Who may see and change what. The one place permissions are decided.

The API, the portals and the admin all ask this module. A user is network staff, a member of
one advertiser, or a member of one publisher. Scoping functions narrow a queryset to what the
actor may see, so another tenant's object is simply not found (404), never 403.

Within each role a second role says what the user may do (``STAFF_MAY``, ``TEAM_MAY``):

- staff: admin (everything); account manager (sees and manages only the advertisers and
  publishers assigned to them: ``scope`` and ``visible`` narrow every queryset to those);
  finance (invoices, payouts, FX); fraud analyst (review queues, blocklists); read-only.
- advertiser and publisher members: owner (everything, the team included); manager (all but
  the team); analyst (reads, and the audit log); read-only (reads).
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
from affiliates.team_models import (
    AccountAssignment,
    AdvertiserMember,
    PublisherMember,
    StaffMember,
    StaffRole,
    TeamRole,
)

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
    #: Staff: what kind of staff (StaffRole); members: their role in the team (TeamRole).
    staff_role: str | None = None
    team_role: str | None = None

    def __post_init__(self) -> None:
        # A user's actor always carries the role read from its row (actor_for). An actor built
        # in code without one is the network acting for an account (a job applying a budget
        # shift, the demo, a bench), with that account's full rights.
        if self.role is Role.STAFF and self.staff_role is None:
            object.__setattr__(self, "staff_role", StaffRole.ADMIN)
        elif self.role in (Role.ADVERTISER, Role.PUBLISHER) and self.team_role is None:
            object.__setattr__(self, "team_role", TeamRole.OWNER)

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
    def is_account_manager(self) -> bool:
        """Staff who see only their assigned advertisers and publishers."""
        return self.is_staff and self.staff_role == StaffRole.ACCOUNT_MANAGER

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
    advertisers = AdvertiserMember.objects.filter(user_id=user.pk).order_by(
        "advertiser__name", "advertiser_id"
    )
    publishers = PublisherMember.objects.filter(user_id=user.pk).order_by("publisher__name", "publisher_id")
    if user.is_staff:
        actor = Actor(role=Role.STAFF, user_id=user.pk, staff_role=staff_role_of(user))
    elif (adv := advertisers.values_list("advertiser_id", "advertiser__status", "role").first()) is not None:
        actor = Actor(
            role=Role.ADVERTISER,
            user_id=user.pk,
            advertiser_id=adv[0],
            account_status=adv[1],
            team_role=adv[2],
        )
    elif (pub := publishers.values_list("publisher_id", "publisher__status", "role").first()) is not None:
        actor = Actor(
            role=Role.PUBLISHER, user_id=user.pk, publisher_id=pub[0], account_status=pub[1], team_role=pub[2]
        )
    else:
        actor = Actor(role=Role.NONE, user_id=user.pk)
    user._affnet_actor = actor
    return actor


def staff_role_of(user: Any) -> str:
    """A superuser is always admin; other staff have the role of their StaffMember row, and are
    admins without one: the contract (CONTRACT.md section 7) promises "staff credentials" the
    whole minimal flow, and a staff user made outside the console (``createsuperuser``-less
    scripts, the Django admin's "staff status" box) has no row. A role row, set on the staff
    users page or through ``/api/v1/staff-roles/``, narrows them."""
    if user.is_superuser:
        return StaffRole.ADMIN
    role = StaffMember.objects.filter(user_id=user.pk).values_list("role", flat=True).first()
    return staff_role_resolve(is_superuser=False, row_role=role)


def staff_role_resolve(*, is_superuser: bool, row_role: str | None) -> str:
    """The rule of ``staff_role_of`` for a role row already read (lists read them in one query)."""
    if is_superuser or not row_role:
        return StaffRole.ADMIN
    return row_role


def is_network_admin(user: Any) -> bool:
    """Staff whose role is admin (superusers are): the Django admin's users."""
    actor = actor_for(user)
    return actor.is_staff and actor.staff_role == StaffRole.ADMIN


def assigned_advertisers(actor: Actor) -> QuerySet[Any]:
    """The ids of an account manager's advertisers, as a subquery (``id__in=``)."""
    rows = AccountAssignment.objects.filter(manager_id=actor.user_id, advertiser__isnull=False)
    return rows.values("advertiser_id")


def assigned_publishers(actor: Actor) -> QuerySet[Any]:
    """The ids of an account manager's publishers, as a subquery (``id__in=``)."""
    rows = AccountAssignment.objects.filter(manager_id=actor.user_id, publisher__isnull=False)
    return rows.values("publisher_id")


def managed_ids(actor: Actor) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """An account manager's advertiser ids and publisher ids, for code that filters by value
    (report rollups, whose rows carry both ids)."""
    return tuple(assigned_advertisers(actor).values_list("advertiser_id", flat=True)), tuple(
        assigned_publishers(actor).values_list("publisher_id", flat=True)
    )


def _managed_q(actor: Actor, advertiser_path: str | None, publisher_path: str | None) -> Q:
    """Rows about one of the account manager's accounts; no path: none."""
    q = Q(pk__in=[])
    if advertiser_path:
        q |= Q(**{f"{advertiser_path}__in": assigned_advertisers(actor)})
    if publisher_path:
        q |= Q(**{f"{publisher_path}__in": assigned_publishers(actor)})
    return q


def scope(
    qs: QuerySet[M], actor: Actor, *, advertiser_path: str | None, publisher_path: str | None
) -> QuerySet[M]:
    """Narrow ``qs`` to the actor's tenant; the one scoping call for any app's rows.

    ``advertiser_path`` / ``publisher_path`` are lookups from the model to the tenant id
    (``"offer__advertiser_id"``); ``None`` means that role sees no rows of this model. Staff
    see every row, except account managers: the rows whose advertiser or publisher is
    assigned to them (none of a model with neither path: network-wide rows are not theirs).
    """
    if actor.is_account_manager:
        return qs.filter(_managed_q(actor, advertiser_path, publisher_path))
    if actor.is_staff:
        return qs
    if actor.is_advertiser and advertiser_path:
        return qs.filter(**{advertiser_path: actor.advertiser_id})
    if actor.is_publisher and publisher_path:
        return qs.filter(**{publisher_path: actor.publisher_id})
    return qs.none()


def scope_q(actor: Actor, *, advertiser_path: str | None, publisher_path: str | None) -> Q:
    """``scope`` as a condition, for code that filters several relations or annotates."""
    if actor.is_account_manager:
        return _managed_q(actor, advertiser_path, publisher_path)
    if actor.is_staff:
        return Q()
    if actor.is_advertiser and advertiser_path:
        return Q(**{advertiser_path: actor.advertiser_id})
    if actor.is_publisher and publisher_path:
        return Q(**{publisher_path: actor.publisher_id})
    return Q(pk__in=[])


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


def _managed_offers(actor: Actor) -> Q:
    """An account manager's offers: its advertisers' and those its publishers applied to."""
    accessed = OfferAccess.objects.filter(publisher_id__in=assigned_publishers(actor)).values("offer_id")
    return Q(advertiser_id__in=assigned_advertisers(actor)) | Q(id__in=accessed)


def _manager_rules() -> dict[type[Model], Callable[[Actor], Q]]:
    offer_or_publisher = lambda a: _managed_q(a, "offer__advertiser_id", "publisher_id")  # noqa: E731
    return {
        m.Advertiser: lambda a: Q(id__in=assigned_advertisers(a)),
        m.Publisher: lambda a: Q(id__in=assigned_publishers(a)),
        m.Offer: _managed_offers,
        m.Goal: lambda a: Q(offer_id__in=Offer.objects.filter(_managed_offers(a)).values("id")),
        m.CustomPayout: offer_or_publisher,
        m.Cap: offer_or_publisher,
        m.Coupon: offer_or_publisher,
        m.OfferAccess: offer_or_publisher,
    }


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
    """The rows of ``qs`` the actor may see. Staff see all (account managers: their accounts'
    rows); anyone without a role sees none."""
    if actor.is_account_manager:
        return qs.filter(_manager_rules()[qs.model](actor))
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

    Staff admins: everything; account managers: their accounts and what hangs off them;
    finance: FX rates; other staff: nothing here. Advertiser: itself, its offers and what
    hangs off them (goals, caps, custom payouts, coupons, access decisions). Publisher: its own
    profile only. Team analysts and read-only members change nothing.
    """
    if actor.is_staff:
        return _staff_may_manage(actor, obj)
    if actor.team_role not in _TEAM_WRITERS:
        return False
    if isinstance(obj, Publisher):
        return actor.is_publisher and obj.pk == actor.publisher_id
    return actor.is_advertiser and owning_advertiser_id(obj) == actor.advertiser_id


_TEAM_WRITERS = frozenset({TeamRole.OWNER, TeamRole.MANAGER})
_PARTS = (m.Offer, m.Goal, m.CustomPayout, m.Cap, m.Coupon)


def _staff_may_manage(actor: Actor, obj: Model) -> bool:
    if actor.staff_role == StaffRole.ADMIN:
        return True
    if isinstance(obj, m.FxRate):
        return actor.staff_role == StaffRole.FINANCE
    if not actor.is_account_manager:
        return False
    if isinstance(obj, Publisher):
        return assigned_publishers(actor).filter(publisher_id=obj.pk).exists()
    if (publisher_id := getattr(obj, "publisher_id", None)) is not None and assigned_publishers(actor).filter(
        publisher_id=publisher_id
    ).exists():
        return True  # its publisher's access, custom payout, coupon or cap
    advertiser_id = owning_advertiser_id(obj)
    return (
        advertiser_id is not None and assigned_advertisers(actor).filter(advertiser_id=advertiser_id).exists()
    )


def may_create(actor: Actor, model: type[Model]) -> bool:
    """Who may add rows of a model at all; the target offer is then checked with may_manage."""
    if actor.is_staff:
        if actor.is_account_manager:
            return model is m.OfferAccess or model in _PARTS
        return actor.staff_role == StaffRole.ADMIN or (
            model is m.FxRate and actor.staff_role == StaffRole.FINANCE
        )
    if actor.team_role not in _TEAM_WRITERS:
        return False
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
    MANAGE_KEYS = "manage_keys"  # API keys, postback token and HMAC secret
    MANAGE_PAYOUTS = "manage_payouts"  # publisher: payout details; staff: invoices, payout runs, FX
    MANAGE_TEAM = "manage_team"  # invite, remove members, change their roles
    VIEW_AUDIT = "view_audit"  # read the audit log
    DECIDE_SIGNUPS = "decide_signups"  # staff: approve, reject, suspend publishers
    REVIEW_FRAUD = "review_fraud"  # staff: fraud queue, traffic review, blocklists
    MANAGE_NETWORK = "manage_network"  # staff: staff roles, assignments, network terms, lockouts
    MANAGE_SMART_LINKS = "manage_smart_links"  # publisher: its smart links, their paths, weights
    MANAGE_DOMAINS = "manage_domains"  # advertiser, publisher: its custom tracking domains


_TENANT_ACTS = frozenset(
    {
        Act.MANAGE_OFFERS,
        Act.DECIDE_ACCESS,
        Act.DECIDE_COMMISSIONS,
        Act.APPLY_TO_OFFERS,
        Act.MANAGE_POSTBACKS,
        Act.MANAGE_SMART_LINKS,
        Act.MANAGE_DOMAINS,
        Act.MANAGE_KEYS,
        Act.MANAGE_PAYOUTS,
    }
)
#: What each staff role may do (account managers: on their assigned accounts only).
STAFF_MAY: dict[str, frozenset[Act]] = {
    StaffRole.ADMIN: frozenset(Act),
    StaffRole.ACCOUNT_MANAGER: (_TENANT_ACTS - {Act.MANAGE_PAYOUTS})
    | {Act.MANAGE_TEAM, Act.VIEW_AUDIT, Act.DECIDE_SIGNUPS},
    StaffRole.FINANCE: frozenset({Act.MANAGE_PAYOUTS, Act.MANAGE_KEYS, Act.VIEW_AUDIT}),
    StaffRole.FRAUD_ANALYST: frozenset(
        {Act.REVIEW_FRAUD, Act.DECIDE_COMMISSIONS, Act.MANAGE_KEYS, Act.VIEW_AUDIT}
    ),
    StaffRole.READ_ONLY: frozenset({Act.VIEW_AUDIT}),
}
#: What each member of an advertiser's or publisher's team may do.
TEAM_MAY: dict[str, frozenset[Act]] = {
    TeamRole.OWNER: _TENANT_ACTS | {Act.MANAGE_TEAM, Act.VIEW_AUDIT},
    TeamRole.MANAGER: _TENANT_ACTS | {Act.VIEW_AUDIT},
    TeamRole.ANALYST: frozenset({Act.VIEW_AUDIT}),
    TeamRole.READ_ONLY: frozenset(),
}


def role_allows(actor: Actor, act: Act) -> bool:
    """Does the actor's staff or team role allow ``act`` (whatever its account's status)?"""
    if actor.is_staff:
        return act in STAFF_MAY.get(actor.staff_role or "", frozenset())
    if actor.is_advertiser or actor.is_publisher:
        return act in TEAM_MAY.get(actor.team_role or "", frozenset())
    return False


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
    """403 with ``code`` ``account_<status>`` (account_suspended, account_pending, ...),
    ``publisher_<status>`` for an approval of a publisher the network shut out, or
    ``role_not_allowed`` when the user's staff or team role does not allow the act."""

    status_code = 403


def role_check(actor: Actor, act: Act) -> None:
    """Raise AccountRefused (``role_not_allowed``) unless the actor's role allows ``act``."""
    if not role_allows(actor, act):
        role = (actor.staff_role or actor.team_role or "no role").replace("_", " ")
        raise AccountRefused(f"Your role ({role}) cannot {act.replace('_', ' ')}.", code="role_not_allowed")


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
    """Raise AccountRefused when the actor's role or account status does not allow ``act``.

    The role first (role_check); then the account's status, for the acts it limits. Staff act
    for every account; an actor of another role is refused by the other rules (may_create,
    may_manage), not here."""
    role_check(actor, act)
    if act not in ACCOUNT_RULES:
        return
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
