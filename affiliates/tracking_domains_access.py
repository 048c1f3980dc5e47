"""Who may see, add and remove custom tracking domains (affiliates.tracking_domains), for the
portals and the API alike. An advertiser's or publisher's members manage their account's
domains; staff manage those of the accounts they may see (an account manager: their assigned
accounts), and the network's own domains are network administration (admins). Verifying
fetches the host, so it is the callers' (payouts.tracking_domains: the SSRF-safe client).

Its own module because affiliates.models imports affiliates.tracking_domains (to register the
model) and affiliates.roles imports affiliates.models.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from affiliates.core.errors import DomainError
from affiliates.models import Advertiser, Publisher
from affiliates.roles import (
    ACCOUNT_RULES,
    AccountRefused,
    Act,
    Actor,
    Role,
    account_status,
    role_check,
    scope,
    visible,
)
from affiliates.tracking_domains import TrackingDomain, tracking_domain_create

#: Enough for a brand and its regions; a bound, so one account cannot fill the table.
DOMAINS_PER_ACCOUNT = 10
#: The account statuses that may add a domain: those that may run offers (advertisers: active
#: or paused) or make smart links (publishers: active); a suspended account adds none.
_MAY_ADD = {
    Role.ADVERTISER: ACCOUNT_RULES[Act.MANAGE_OFFERS][1],
    Role.PUBLISHER: ACCOUNT_RULES[Act.MANAGE_SMART_LINKS][1],
}


def tracking_domains_for(*, actor: Actor) -> QuerySet[TrackingDomain]:
    """The domains the actor may see: its account's (members), every one (staff), or those of
    the assigned accounts (account managers: never the network's own)."""
    qs = TrackingDomain.objects.select_related("advertiser", "publisher")
    return scope(qs, actor, advertiser_path="advertiser_id", publisher_path="publisher_id")


def _owner_for(
    actor: Actor, advertiser_id: int | None, publisher_id: int | None
) -> tuple[int | None, int | None]:
    """(advertiser id, publisher id) of a new domain: a member's own account whatever it
    asked; for staff the account asked for, which they must see (404 otherwise), or neither
    (the network's default domain: admins only)."""
    if actor.is_advertiser or actor.is_publisher:
        status = account_status(actor)
        if status not in _MAY_ADD[actor.role]:
            raise AccountRefused(
                f"Your account is {status}: it cannot add tracking domains until the network reinstates it.",
                code=f"account_{status}",
            )
        return (actor.advertiser_pk, None) if actor.is_advertiser else (None, actor.publisher_pk)
    if advertiser_id and publisher_id:
        raise DomainError("A domain belongs to an advertiser or a publisher, not both.", code="two_owners")
    if advertiser_id is not None:
        if not visible(Advertiser.objects.filter(pk=advertiser_id), actor).exists():
            raise DomainError("No such advertiser.", code="not_found", status_code=404)
    elif publisher_id is not None:
        if not visible(Publisher.objects.filter(pk=publisher_id), actor).exists():
            raise DomainError("No such publisher.", code="not_found", status_code=404)
    else:
        role_check(actor, Act.MANAGE_NETWORK)
    return advertiser_id, publisher_id


@transaction.atomic
def tracking_domain_add(
    *, actor: Actor, host: str, advertiser_id: int | None = None, publisher_id: int | None = None
) -> TrackingDomain:
    """A new, unverified domain of the actor's account (staff: of the account they name).
    Raises DomainError: bad_host, two_owners, site_host, host_taken, too_many_domains."""
    advertiser_id, publisher_id = _owner_for(actor, advertiser_id, publisher_id)
    if advertiser_id is not None or publisher_id is not None:
        # Locks the owner's row: two concurrent adds cannot both pass the count.
        if advertiser_id is not None:
            Advertiser.objects.select_for_update().filter(pk=advertiser_id).first()
            mine = TrackingDomain.objects.filter(advertiser_id=advertiser_id)
        else:
            Publisher.objects.select_for_update().filter(pk=publisher_id or 0).first()
            mine = TrackingDomain.objects.filter(publisher_id=publisher_id or 0)
        if mine.count() >= DOMAINS_PER_ACCOUNT:
            raise DomainError(
                f"An account has at most {DOMAINS_PER_ACCOUNT} tracking domains; remove one first.",
                code="too_many_domains",
            )
    try:
        with transaction.atomic():  # a savepoint: a concurrent add of the same host loses cleanly
            return tracking_domain_create(host=host, advertiser_id=advertiser_id, publisher_id=publisher_id)
    except IntegrityError as exc:
        raise DomainError("That host is registered already.", code="host_taken") from exc


def tracking_domain_remove(*, domain: TrackingDomain) -> None:
    """Stop serving the domain: links built afterwards use the next base (the owner's other
    verified domain, the network's, SITE_URL); the edge forgets the host within seconds."""
    domain.delete()
