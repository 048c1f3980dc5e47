"""The demo's optimisation and measurement features (issues 14 and 15), seeded through their
own services and computed by their own jobs' code.

``features_setup`` makes, for Acme Outdoor: a smart link with three paths (and a catch-all),
an A/B test of the Trail Boots landing page, a holdout test on the Summer Gear Sale, a
referrer blocklist entry, a frequency cap and an automation rule on an A/B variant. Tests and
links made "now" would have no past, so each is dated back to when the demo's traffic says it
started (its start, the smart link's learning) - the only edit made by hand.

``features_traffic`` writes the clicks those features mark, multi-touch journeys and half a
year of returning shoppers (payouts.demo.visits), after the month's money has been settled:
their conversions are reconciled at ``now``. ``features_compute`` then runs what beat
runs: the smart-link and A/B rollups, the optimiser, the A/B look, the holdout check, the
journey job and the rule check. Each step is idempotent (lookups by name, batches written
once, jobs that act when due).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from affiliates.models import Advertiser, Offer, OfferAccess, Publisher
from affiliates.roles import Actor, Role
from payouts.automation.models import Rule
from payouts.automation.services import rule_check, rule_create
from payouts.demo.visits import Journey, Visits, journey_write, visits_write
from payouts.experiments import abtests
from payouts.experiments.rollup import ab_rollup_refresh
from payouts.incrementality.services import holdout_test_check
from payouts.journeys.services import journeys_refresh
from payouts.reconcile import conversions_reconcile
from payouts.services import commissions_approve_due
from payouts.smartlinks.rollup import smart_rollup_refresh
from payouts.smartlinks.services import smart_link_optimise
from tracking.conversions.customers import customer_hash
from tracking.holdouts.services import HoldoutSpec, holdout_test_create
from tracking.models import AbTest, HoldoutTest, SmartLink
from tracking.models.holdouts import HoldoutArm
from tracking.models.policy import FrequencyCap, ListEntry
from tracking.policy.services import frequency_cap_set, list_entry_add, scope_resolve
from tracking.smartlinks.services import PathSpec, smart_link_create

SMART_LINK = "Acme Outdoor: one link, three pages"
AB_TEST = "Trail boots: hero video"
HOLDOUT = "Summer sale: is the newsletter traffic incremental?"
RULE = "Alert when a hero-video variant converts under 4 %"
BLOCKED = "coupon-scraper.example"
HOLDOUT_RUN_DAYS = 14  # after the first seeding: its end date anchors the features' traffic
SMART_DAYS, AB_DAYS, HOLDOUT_DAYS, JOURNEY_DAYS = 7, 6, 14, 6  # AB_DAYS: within its 7-day run
# (label, offer key, landing page or "", clicks, conversion rate): the optimiser's evidence.
PATHS = [
    ("Summer sale", "summer_sale", "", 420, 0.02),
    ("Trail boots", "boots_launch", "", 420, 0.055),
    (
        "Clearance page",
        "summer_sale",
        "https://shop.acme-outdoor.example/clearance?cid={click_id}",
        420,
        0.035,
    ),
]
# (label, clicks, conversion rate): B's video converts twice as often.
VARIANTS = [("A: photo", 1400, 0.03), ("B: video", 1400, 0.06)]
# The holdout's arms (20 % held out): exposed visitors buy at 5.5 %, held-out ones at 3 %.
SHOPPERS = 90
ARMS = [(HoldoutArm.EXPOSED, 4000, 0.055), (HoldoutArm.CONTROL, 1000, 0.03)]


@dataclass
class Features:
    acme: Advertiser
    actor: Actor
    offers: dict[str, Offer]
    publisher: Publisher  # PixelPush Media: runs every offer
    smart: SmartLink
    ab_test: AbTest
    holdout: HoldoutTest
    rule: Rule


def _smart_link(actor: Actor, offers: dict[str, Offer], publisher: Publisher, now: datetime) -> SmartLink:
    smart = SmartLink.objects.filter(name=SMART_LINK).first()
    if smart is not None:
        return smart
    paths = [PathSpec(offer=offers[key], label=label, landing_url=url) for label, key, url, _, _ in PATHS]
    paths.append(PathSpec(offer=offers["summer_sale"], label="Everyone else", is_catch_all=True))
    smart = smart_link_create(
        actor=actor, publisher=publisher, name=SMART_LINK, paths=paths, mode=SmartLink.Mode.AUTO, kpi="epc",
        min_clicks=200, lookback_days=SMART_DAYS,
    )  # fmt: skip
    started = now - timedelta(days=SMART_DAYS)
    SmartLink.objects.filter(pk=smart.pk).update(created_at=started, learning_since=started)
    smart.refresh_from_db()
    return smart


def _ab_test(actor: Actor, offer: Offer, now: datetime) -> AbTest:
    test = AbTest.objects.filter(offer=offer, name=AB_TEST).first()
    if test is not None:
        return test
    specs = [
        abtests.VariantSpec(label="A: photo", is_control=True),
        abtests.VariantSpec(label="B: video", landing_url="https://shop.acme-outdoor.example/boots-video?cid={click_id}"),
    ]  # fmt: skip
    test = abtests.ab_test_create(
        actor=actor, offer=offer, variants=specs, name=AB_TEST, min_sample=300, max_sample=3000,
        hypothesis="A video of the boots on a trail converts better than the studio photo.",
    )  # fmt: skip
    return abtests.ab_test_start(actor=actor, test=test, now=now - timedelta(days=AB_DAYS))


def _holdout(actor: Actor, offer: Offer, publisher: Publisher, now: datetime) -> HoldoutTest:
    test = HoldoutTest.objects.filter(offer=offer, name=HOLDOUT).first()
    if test is not None:
        return test
    spec = HoldoutSpec(
        name=HOLDOUT, holdout_share=Decimal("0.20"), starts_at=now,
        ends_at=now + timedelta(days=HOLDOUT_RUN_DAYS),
        publishers=[publisher], minimum_lift=Decimal("0.500"),
    )  # fmt: skip
    test = holdout_test_create(actor=actor, offer=offer, spec=spec)
    HoldoutTest.objects.filter(pk=test.pk).update(starts_at=now - timedelta(days=HOLDOUT_DAYS))
    test.refresh_from_db()
    return test


def _policies(actor: Actor, acme: Advertiser) -> None:
    scope = scope_resolve(actor=actor, advertiser=acme, offer=None)
    if not ListEntry.objects.filter(advertiser=acme, value=BLOCKED).exists():
        list_entry_add(
            actor=actor, scope=scope, mode="block", kind="referrer_domain", value=BLOCKED,
            note="Scraped coupon site: its clicks bring no new customers.",
        )  # fmt: skip
    if not FrequencyCap.objects.filter(advertiser=acme, offer=None).exists():
        frequency_cap_set(scope=scope, window_days=7, limit=10)


def _rule(actor: Actor, test: AbTest, staff_user: Any) -> Rule:
    rule = Rule.objects.filter(name=RULE).first()
    if rule is not None:
        return rule
    variant = test.variants.get(is_control=True)
    return rule_create(
        actor=actor, created_by=staff_user, name=RULE, scope="variant", offer=test.offer, variant=variant,
        metric="cvr", comparison="lt", threshold=Decimal("4"), window_hours=24 * AB_DAYS, min_clicks=500,
        action="alert", cooldown_minutes=24 * 60, notify=True,
    )  # fmt: skip


def features_setup(*, offers: dict[str, Offer], now: datetime, staff_user: Any) -> Features:
    acme = offers["summer_sale"].advertiser
    actor = Actor(role=Role.ADVERTISER, advertiser_id=acme.pk)
    publisher = Publisher.objects.get(name="PixelPush Media")
    smart = _smart_link(actor, offers, publisher, now)
    ab_test = _ab_test(actor, offers["boots_launch"], now)
    holdout = _holdout(actor, offers["summer_sale"], publisher, now)
    _policies(actor, acme)
    rule = _rule(actor, ab_test, staff_user)
    return Features(acme, actor, offers, publisher, smart, ab_test, holdout, rule)


def _journeys(f: Features, now: datetime) -> int:
    """Visitors who click two to four publishers of the Summer Gear Sale before buying."""
    offer = f.offers["summer_sale"]
    publishers = list(
        OfferAccess.objects.filter(offer=offer, status=OfferAccess.Status.APPROVED)
        .order_by("publisher_id")
        .values_list("publisher_id", flat=True)
    )
    written = 0
    for i in range(48):
        touches = [publishers[(i + k * (1 + i % 2)) % len(publishers)] for k in range(2 + i % 3)]
        first = now - timedelta(days=JOURNEY_DAYS) + timedelta(hours=2 * i)  # bought >= 16 h ago
        name = f"demo-journey:{i}"
        written += journey_write(Journey(name, offer, touches, first, gap=timedelta(hours=5 + i % 7)))
    return written


def _shoppers(f: Features, now: datetime) -> int:
    """Half a year of Summer Gear Sale customers before the demo's month: each first buys in
    one of the last six months and some come back, so the cohort table has months to compare
    at 30, 60, 90 and 180 days (the month of traffic alone gives one cohort)."""
    offer = f.offers["summer_sale"]
    publishers = list(
        OfferAccess.objects.filter(offer=offer, status=OfferAccess.Status.APPROVED)
        .order_by("publisher_id")
        .values_list("publisher_id", flat=True)
    )
    written = 0
    for n in range(SHOPPERS):
        first = now - timedelta(days=50 + 150 * n / SHOPPERS)
        # Half of tracking.demo's shoppers (ids 0-79) are among them: they come back this month.
        shopper = f"shopper-{n + 40}@example.com"
        customer = customer_hash(key=f.acme.customer_key, customer_id=shopper)
        # Every third shopper returns after a month, every fifth again after three.
        for k, later in enumerate([0, 35, 100][: 1 + (n % 3 == 0) + (n % 15 == 0)]):
            at = first + timedelta(days=later)
            if at < now - timedelta(days=46):  # before the month (at most 45 days) of traffic
                name = f"demo-shopper:{n}:{k}"
                one = Journey(
                    name, offer, [publishers[n % len(publishers)]], at, timedelta(0), customer=customer
                )
                written += journey_write(one)
    return written


def features_traffic(f: Features, *, now: datetime) -> int:
    """The features' clicks and journeys (once), reconciled at ``now``; clicks written.

    Their times hang on the features' first seeding (``anchor``), not on ``now``: a later run
    finds each batch's first click where the first run wrote it, and writes nothing again."""
    anchor = f.holdout.ends_at - timedelta(days=HOLDOUT_RUN_DAYS)  # the first run's now
    written = 0
    for path, (label, _, _, clicks, cvr) in zip(f.smart.paths.order_by("position"), PATHS, strict=False):
        written += visits_write(
            Visits(f"demo-smart:{label}", path.offer, f.publisher.pk, anchor - timedelta(days=SMART_DAYS),
                   anchor, clicks, cvr, {"smart_path_id": path.pk})
        )  # fmt: skip
    for variant, (label, clicks, cvr) in zip(f.ab_test.variants.order_by("position"), VARIANTS, strict=True):
        written += visits_write(
            Visits(f"demo-ab:{label}", f.ab_test.offer, f.publisher.pk, anchor - timedelta(days=AB_DAYS),
                   anchor, clicks, cvr, {"ab_variant_id": variant.pk})
        )  # fmt: skip
    for arm, clicks, cvr in ARMS:
        written += visits_write(
            Visits(f"demo-holdout:{arm}", f.holdout.offer, f.publisher.pk,
                   anchor - timedelta(days=HOLDOUT_DAYS), anchor, clicks, cvr,
                   {"holdout_test_id": f.holdout.pk, "holdout_arm": arm})
        )  # fmt: skip
    written += _journeys(f, anchor) + _shoppers(f, anchor)
    if written:
        conversions_reconcile(now=now)
        # What the daily approvals would have done by now (the replay's decisions leave the
        # features' conversions to the hold: see payouts.demo._decisions_due).
        commissions_approve_due(now=now)
    return written


def features_compute(f: Features, *, now: datetime) -> None:
    """What beat runs, on the features' data: rollups, optimiser, look, holdout, journeys, rules."""
    first = (now - timedelta(days=max(SMART_DAYS, AB_DAYS))).date()
    smart_rollup_refresh(first=first, last=now.date())
    smart_link_optimise(smart_link_id=f.smart.pk, now=now)  # when due: once per run interval
    ab_rollup_refresh(first=first, last=now.date())
    if abtests.ab_tests_due(now=now).filter(pk=f.ab_test.pk).exists():
        abtests.ab_test_look(test_id=f.ab_test.pk, now=now)
    holdout_test_check(test_id=f.holdout.pk, now=now)
    journeys_refresh(as_of=now, days=JOURNEY_DAYS + 1)
    rule_check(rule_id=f.rule.pk, now=now)
