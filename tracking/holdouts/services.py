"""Writes on holdout tests: start one on an offer, stop it.

Saving a test evicts the snapshots of the offer's links (clickpath/links.py signals), so the
edge starts or stops assigning arms within seconds; the publisher list is a many-to-many set
after the first save, so the eviction is repeated once the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from affiliates.core.errors import Conflict, DomainError
from affiliates.models import Offer, OfferAccess, Publisher
from affiliates.roles import Act, Actor, account_check, may_manage, scope, visible
from tracking.clickpath.links import links_forget
from tracking.models.holdouts import HoldoutTest
from tracking.models.smartlinks import SmartLink


class HoldoutRefused(DomainError):
    code = "holdout_refused"


@dataclass(frozen=True)
class HoldoutSpec:
    """What the owner of a test sets."""

    name: str
    holdout_share: Decimal
    starts_at: datetime
    ends_at: datetime
    control: str = HoldoutTest.Control.LANDING
    control_url: str = ""
    stopping: str = HoldoutTest.Stopping.SEQUENTIAL
    minimum_lift: Decimal = Decimal("0.100")
    publishers: list[Publisher] = field(default_factory=list)


def holdout_tests_visible(*, actor: Actor) -> QuerySet[HoldoutTest]:
    """Staff see every test, an advertiser the tests on its offers; publishers none (a test
    compares their traffic with none of it, which is the advertiser's business)."""
    qs = HoldoutTest.objects.select_related("offer", "offer__advertiser").prefetch_related("publishers")
    return scope(qs, actor, advertiser_path="offer__advertiser_id", publisher_path=None)


def _check(*, actor: Actor, offer: Offer, spec: HoldoutSpec, now: datetime) -> None:
    if not visible(Offer.objects.filter(pk=offer.pk), actor).exists():
        raise HoldoutRefused("No such offer.", code="not_found", status_code=404)
    if not may_manage(actor, offer):
        raise HoldoutRefused("You may not test this offer.", code="forbidden", status_code=403)
    account_check(actor, Act.MANAGE_OFFERS)
    if not Decimal("0.01") <= spec.holdout_share <= Decimal("0.5"):
        raise HoldoutRefused("The holdout share must be between 0.01 and 0.5.", code="bad_share")
    if spec.ends_at <= spec.starts_at or spec.ends_at <= now:
        raise HoldoutRefused("The end must be after the start, and in the future.", code="bad_dates")
    if spec.control == HoldoutTest.Control.NEUTRAL and not spec.control_url:
        raise HoldoutRefused("A neutral control needs its URL.", code="control_url_required")
    on_offer = set(OfferAccess.objects.filter(offer=offer).values_list("publisher_id", flat=True))
    strangers = [p.pk for p in spec.publishers if p.pk not in on_offer]
    if strangers:
        raise HoldoutRefused(f"Publishers {strangers} do not run this offer.", code="not_on_offer")


def _forget_offer_links(offer_id: int) -> None:
    tokens = list(OfferAccess.objects.filter(offer_id=offer_id).values_list("token", flat=True))
    tokens += SmartLink.objects.filter(paths__offer_id=offer_id).distinct().values_list("token", flat=True)
    links_forget(tokens)


@transaction.atomic
def holdout_test_create(*, actor: Actor, offer: Offer, spec: HoldoutSpec, user: Any = None) -> HoldoutTest:
    """Start a test on the offer (409 ``test_running`` while another one runs there)."""
    now = timezone.now()
    _check(actor=actor, offer=offer, spec=spec, now=now)
    test = HoldoutTest(
        offer=offer,
        name=spec.name,
        holdout_share=spec.holdout_share,
        starts_at=max(spec.starts_at, now),
        ends_at=spec.ends_at,
        control=spec.control,
        control_url=spec.control_url if spec.control == HoldoutTest.Control.NEUTRAL else "",
        stopping=spec.stopping,
        minimum_lift=spec.minimum_lift,
        created_by=user if getattr(user, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            test.save()
    except IntegrityError as exc:  # holdout_one_running_per_offer: the database decides races
        raise Conflict(
            "A test is already running on this offer; stop it first.", code="test_running"
        ) from exc
    test.publishers.set(spec.publishers)
    transaction.on_commit(lambda: _forget_offer_links(offer.pk))
    return test


def holdout_test_may_stop(*, actor: Actor, test: HoldoutTest) -> None:
    """Staff and the offer's advertiser may stop a test (403 otherwise)."""
    if not may_manage(actor, test.offer):
        raise HoldoutRefused("You may not stop this test.", code="forbidden", status_code=403)
    account_check(actor, Act.MANAGE_OFFERS)


@transaction.atomic
def holdout_test_stop(
    *, test_id: int, reason: str, result: dict[str, Any], now: datetime | None = None
) -> bool:
    """Stop a running test with its final report; False when it was stopped already. The
    row lock makes the check and the stop one step, so a stop from beat and one by hand
    never both happen."""
    test = HoldoutTest.objects.select_for_update().get(pk=test_id)
    if test.status != HoldoutTest.Status.RUNNING:
        return False
    test.status = HoldoutTest.Status.STOPPED
    test.stopped_at = now or timezone.now()
    test.stop_reason = reason
    test.result = result
    test.save()  # save(), not update(): audit-logged, and the links' snapshots are evicted
    return True
