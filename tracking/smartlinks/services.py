"""Writes on smart links and their paths.

Every change of the set of paths (a path added or removed) resets learning: the optimiser
ignores the numbers from before ``learning_since`` and a ``reset`` run says so on the link's
page. Weight edits by hand are stored as ``manual`` runs, so the page shows every change of
weights, whoever made it. Saving a link or a path evicts its cached snapshot (clickpath/links.py
signals), so the edge routes by the new weights within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from affiliates.core.db import MAX_INT
from affiliates.core.errors import DomainError
from affiliates.models import Advertiser, Offer, OfferAccess, Publisher
from affiliates.roles import Act, Actor, account_check, role_allows, scope, visible
from tracking.models.smartlinks import SmartLink, SmartPath, SmartRun

MAX_PATHS = 20


class SmartLinkRefused(DomainError):
    code = "smart_link_refused"


@dataclass(frozen=True)
class PathSpec:
    offer: Offer
    weight: int = 100
    label: str = ""
    landing_url: str = ""
    is_catch_all: bool = False
    status: str = SmartPath.Status.ACTIVE
    countries: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    os: list[str] = field(default_factory=list)
    hours: list[int] = field(default_factory=list)
    daily_cap: int | None = None


def smart_links_visible(*, actor: Actor) -> QuerySet[SmartLink]:
    """Publishers see their smart links, advertisers those they made, staff all."""
    qs = SmartLink.objects.select_related("publisher", "advertiser")
    return scope(qs, actor, advertiser_path="advertiser_id", publisher_path="publisher_id")


def _offer_allowed(*, actor: Actor, offer: Offer, publisher: Publisher) -> None:
    """Publishers route to offers they are approved on; advertisers to their own offers."""
    if actor.is_publisher:
        approved = OfferAccess.objects.filter(
            offer=offer, publisher=publisher, status=OfferAccess.Status.APPROVED
        ).exists()
        if not approved:
            raise SmartLinkRefused(f"You are not approved on offer {offer.pk}.", code="not_approved")
    elif actor.is_advertiser and offer.advertiser_id != actor.advertiser_id:
        raise SmartLinkRefused(f"Offer {offer.pk} is not yours.", code="not_your_offer", status_code=403)
    elif not (actor.is_staff or actor.is_advertiser):
        raise SmartLinkRefused("No role may do this.", code="forbidden", status_code=403)


def _check_paths(specs: list[PathSpec]) -> None:
    if sum(1 for s in specs if s.is_catch_all) != 1:
        raise SmartLinkRefused("A smart link needs exactly one catch-all path.", code="catch_all_required")
    if not any(not s.is_catch_all for s in specs):
        raise SmartLinkRefused("A smart link needs at least one path besides the catch-all.", code="no_paths")
    if len(specs) > MAX_PATHS:
        raise SmartLinkRefused(f"At most {MAX_PATHS} paths.", code="too_many_paths")
    for s in specs:
        if any(not 0 <= int(h) <= 23 for h in s.hours):
            raise SmartLinkRefused("Hours are UTC hours 0-23.", code="bad_hours")


def _path_create(*, smart: SmartLink, spec: PathSpec, position: int) -> SmartPath:
    return SmartPath.objects.create(
        smart_link=smart,
        offer=spec.offer,
        weight=spec.weight,
        label=spec.label,
        landing_url=spec.landing_url,
        is_catch_all=spec.is_catch_all,
        status=spec.status,
        countries=[c.upper() for c in spec.countries],
        devices=list(spec.devices),
        os=list(spec.os),
        hours=[int(h) for h in spec.hours],
        daily_cap=spec.daily_cap,
        position=position,
    )


def _standing_check(actor: Actor) -> None:
    """A smart link sends traffic to offers: an account the network has not let in or has shut
    out (roles.account_check) makes and changes none, in the API as in the portal."""
    account_check(actor, Act.MANAGE_OFFERS)  # advertisers
    account_check(actor, Act.MANAGE_SMART_LINKS)  # publishers


def _owner_check(*, actor: Actor, publisher: Publisher) -> Advertiser | None:
    """The publisher the link is for must be the publisher actor, or one the actor can see."""
    _standing_check(actor)
    if actor.is_publisher and publisher.pk != actor.publisher_id:
        raise SmartLinkRefused(
            "A publisher makes smart links for itself only.", code="forbidden", status_code=403
        )
    if not visible(Publisher.objects.filter(pk=publisher.pk), actor).exists():
        raise SmartLinkRefused("No such publisher.", code="does_not_exist", status_code=404)
    return Advertiser.objects.get(pk=actor.advertiser_pk) if actor.is_advertiser else None


@transaction.atomic
def smart_link_create(
    *, actor: Actor, publisher: Publisher, name: str, paths: list[PathSpec], **options: Any
) -> SmartLink:
    """A smart link with its paths; ``options`` are SmartLink settings (mode, kpi, ...)."""
    advertiser = _owner_check(actor=actor, publisher=publisher)
    _check_paths(paths)
    for spec in paths:
        _offer_allowed(actor=actor, offer=spec.offer, publisher=publisher)
    smart = SmartLink(name=name, publisher=publisher, advertiser=advertiser, **options)
    smart.full_clean()
    smart.save()
    for position, spec in enumerate(paths):
        _path_create(smart=smart, spec=spec, position=position)
    return smart


def smart_link_may_edit(*, actor: Actor, smart: SmartLink) -> bool:
    if actor.is_staff:  # admins any, account managers their accounts' (scope); others none
        mine = scope(
            SmartLink.objects.filter(pk=smart.pk),
            actor,
            advertiser_path="advertiser_id",
            publisher_path="publisher_id",
        )
        return role_allows(actor, Act.MANAGE_SMART_LINKS) and mine.exists()
    if actor.is_publisher:
        return smart.publisher_id == actor.publisher_id
    return actor.is_advertiser and smart.advertiser_id == actor.advertiser_id


def smart_link_edit_check(*, actor: Actor, smart: SmartLink) -> None:
    _standing_check(actor)  # first: a staff role that may not is told so (role_not_allowed)
    if not smart_link_may_edit(actor=actor, smart=smart):
        raise SmartLinkRefused("You may not change this smart link.", code="forbidden", status_code=403)


def weights_of(smart: SmartLink) -> dict[str, int]:
    return {str(p.pk): p.weight for p in smart.paths.all()}


def _learning_reset(*, smart: SmartLink, note: str) -> SmartRun:
    before = weights_of(smart)
    smart.learning_since = timezone.now()
    smart.save(update_fields=["learning_since", "updated_at"])
    return SmartRun.objects.create(
        smart_link=smart,
        mode=smart.mode,
        kpi=smart.kpi,
        outcome=SmartRun.Outcome.RESET,
        weights_before=before,
        weights_after=before,
        note=note,
    )


@transaction.atomic
def smart_link_update(*, actor: Actor, smart: SmartLink, **options: Any) -> SmartLink:
    """Change settings (name, mode, KPI, floor, schedule, stickiness, ...)."""
    smart_link_edit_check(actor=actor, smart=smart)
    for name, value in options.items():
        setattr(smart, name, value)
    smart.full_clean()
    smart.save()
    return smart


@transaction.atomic
def smart_path_add(*, actor: Actor, smart: SmartLink, spec: PathSpec) -> SmartPath:
    smart_link_edit_check(actor=actor, smart=smart)
    if spec.is_catch_all:
        raise SmartLinkRefused("The smart link has its catch-all already.", code="catch_all_exists")
    _offer_allowed(actor=actor, offer=spec.offer, publisher=smart.publisher)
    if smart.paths.count() >= MAX_PATHS:
        raise SmartLinkRefused(f"At most {MAX_PATHS} paths.", code="too_many_paths")
    position = max((p.position for p in smart.paths.all()), default=0) + 1
    path = _path_create(smart=smart, spec=spec, position=position)
    _learning_reset(smart=smart, note=f"Path {path} ({path.offer}) added: learning starts again.")
    return path


@transaction.atomic
def smart_path_remove(*, actor: Actor, path: SmartPath) -> None:
    smart = path.smart_link
    smart_link_edit_check(actor=actor, smart=smart)
    if path.is_catch_all:
        raise SmartLinkRefused("The catch-all cannot be removed; change its offer instead.", code="catch_all")
    if smart.paths.filter(is_catch_all=False).count() <= 1:
        raise SmartLinkRefused("A smart link keeps at least one path.", code="last_path", status_code=409)
    label = f"{path} ({path.offer})"
    path.delete()
    _learning_reset(smart=smart, note=f"Path {label} removed: learning starts again.")


PATH_FIELDS = ("label", "landing_url", "status", "countries", "devices", "os", "hours", "daily_cap")


@transaction.atomic
def smart_path_update(*, actor: Actor, path: SmartPath, **changes: Any) -> SmartPath:
    """Targeting, status, cap or landing page of a path (weights: ``smart_weights_set``)."""
    smart_link_edit_check(actor=actor, smart=path.smart_link)
    unknown = set(changes) - set(PATH_FIELDS)
    if unknown:
        raise SmartLinkRefused(f"Not a path setting: {', '.join(sorted(unknown))}.", code="unknown_field")
    for name, value in changes.items():
        setattr(path, name, value)
    path.countries = [c.upper() for c in path.countries]
    path.full_clean()
    path.save()
    return path


@transaction.atomic
def smart_weights_set(*, actor: Actor, smart: SmartLink, weights: dict[int, int]) -> SmartRun:
    """Weights by hand: stored as a ``manual`` run, like the optimiser's."""
    smart_link_edit_check(actor=actor, smart=smart)
    paths = {p.pk: p for p in smart.paths.select_for_update().order_by("pk")}
    if set(weights) - set(paths):
        raise SmartLinkRefused("A weight names a path of another smart link.", code="unknown_path")
    if any(not 0 <= w <= MAX_INT for w in weights.values()):
        raise SmartLinkRefused(f"Weights are whole numbers from 0 to {MAX_INT}.", code="out_of_range")
    before = {str(pk): p.weight for pk, p in paths.items()}
    for pk, weight in weights.items():
        paths[pk].weight = weight
        paths[pk].save(update_fields=["weight"])
    after = {str(pk): p.weight for pk, p in paths.items()}
    return smart_run_manual_record(smart=smart, before=before, after=after, note="Weights set by hand.")


def smart_run_manual_record(
    *, smart: SmartLink, before: dict[str, int], after: dict[str, int], note: str
) -> SmartRun:
    """Weights changed outside the optimiser (by hand, by an automation rule), stored as a
    ``manual`` run so the smart link's page shows every change of its weights in one list."""
    return SmartRun.objects.create(
        smart_link=smart,
        mode=smart.mode,
        kpi=smart.kpi,
        outcome=SmartRun.Outcome.MANUAL,
        weights_before=before,
        weights_after=after,
        note=note,
    )
