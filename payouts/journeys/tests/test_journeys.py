"""The journey job: touches across publishers, roles, credits per model, assists in the ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Offer
from affiliates.tests import factories as f
from payouts.journeys.services import journeys_refresh
from payouts.journeys.tests.journey_story import AS_OF, T, converted, three_touches
from payouts.ledger import publisher_balances
from payouts.models import Account, Commission, Entry
from tracking.models import Conversion, Impression, Journey, Touch
from tracking.tests.factories import CHROME_UA, HOME_IP, click_make

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def beta(db: Any) -> Any:
    return f.PublisherFactory(name="Beta Deals")


@pytest.fixture
def story(shoes: Offer, pixelpush: Any, rival: Any, beta: Any) -> Conversion:
    return three_touches(shoes, rival, beta, pixelpush)


def test_a_conversion_gets_every_touch_of_its_visitor_across_publishers(
    story, pixelpush, rival, beta
) -> None:
    result = journeys_refresh(as_of=AS_OF, days=3)
    assert (result.journeys, result.touches) == (1, 3)
    journey = Journey.objects.get(conversion=story)
    assert (journey.touches, journey.publishers, journey.revenue, journey.payout) == (3, 3, D("12"), D("8"))
    touches = list(Touch.objects.filter(journey=journey))
    assert [t.publisher_id for t in touches] == [rival.id, beta.id, pixelpush.id]
    assert [t.role for t in touches] == ["introducer", "influencer", "closer"]
    assert [t.linked_by for t in touches] == ["visitor", "visitor", "click_id"]
    assert [t.paid for t in touches] == [False, False, True]
    assert [t.sub1 for t in touches] == ["blog", "deal", "cashback"]


def test_each_model_credits_the_touches_as_worked_out_by_hand(story) -> None:
    journeys_refresh(as_of=AS_OF, days=3)
    touches = list(Touch.objects.filter(journey__conversion=story))
    col = lambda name: [getattr(t, name).normalize() for t in touches]  # noqa: E731
    assert col("last_click") == [0, 0, 1]
    assert col("first_click") == [1, 0, 0]
    assert col("linear") == [D("0.3333333333"), D("0.3333333333"), D("0.3333333334")]
    assert col("position_based") == [D("0.4"), D("0.2"), D("0.4")]
    assert col("time_decay") == [D("0.1428571429"), D("0.2857142857"), D("0.5714285714")]
    # One path: removing any publisher loses every conversion, so they share it equally.
    assert col("markov") == [D("0.3333333333"), D("0.3333333333"), D("0.3333333334")]


def test_another_visitors_clicks_and_clicks_outside_the_window_are_not_touches(
    shoes, pixelpush, rival
) -> None:
    click_make(shoes, rival, at=T - timedelta(days=2), ip="89.160.20.112")  # someone else
    click_make(shoes, rival, at=T - timedelta(days=31))  # before the 30-day window
    conv = converted(shoes, click_make(shoes, pixelpush, at=T - timedelta(hours=2)))
    journeys_refresh(as_of=AS_OF, days=3)
    assert list(Touch.objects.filter(journey__conversion=conv).values_list("publisher_id", "role")) == [
        (pixelpush.id, "closer")
    ]


def test_the_customer_id_links_clicks_from_another_device(shoes, pixelpush, rival) -> None:
    phone = click_make(shoes, rival, at=T - timedelta(days=3), ip="89.160.20.112", user_agent="Phone")
    earlier = converted(shoes, phone, at=T - timedelta(days=3), amount="10")
    laptop = converted(shoes, click_make(shoes, pixelpush, at=T))
    Conversion.objects.filter(pk__in=[earlier.pk, laptop.pk]).update(customer_hash="c" * 64)
    journeys_refresh(as_of=AS_OF, days=5)
    touches = Touch.objects.filter(journey__conversion=laptop)
    assert list(touches.values_list("publisher_id", "linked_by")) == [
        (rival.id, "customer"),
        (pixelpush.id, "click_id"),
    ]


def test_running_the_job_twice_changes_nothing(story) -> None:
    journeys_refresh(as_of=AS_OF, days=3)
    first = list(Touch.objects.values_list("publisher_id", "position", "markov", "time_decay"))
    journeys_refresh(as_of=AS_OF, days=3)
    assert list(Touch.objects.values_list("publisher_id", "position", "markov", "time_decay")) == first
    assert Journey.objects.count() == 1


@pytest.fixture
def assisted(shoes: Offer) -> Offer:
    Offer.objects.filter(pk=shoes.pk).update(
        assist_enabled=True, assist_payout=D("1.00"), assist_revenue=D("1.50"), assist_daily_cap=1
    )
    return Offer.objects.get(pk=shoes.pk)


def test_each_assisting_publisher_earns_one_assist_posted_to_the_ledger(
    assisted, story, pixelpush, rival, beta
):
    result = journeys_refresh(as_of=AS_OF, days=3)
    assert result.assists == 2
    assists = Commission.objects.filter(kind="assist").order_by("publisher_id")
    assert {(a.publisher_id, a.payout, a.revenue, a.status) for a in assists} == {
        (rival.id, D("1.00"), D("1.50"), "pending"),
        (beta.id, D("1.00"), D("1.50"), "pending"),
    }
    assert not assists.filter(publisher=pixelpush).exists()  # the closer is paid by its commission
    assert publisher_balances(publisher_id=rival.id, kind=Account.Kind.PUBLISHER_PENDING) == {
        "USD": D("1.00")
    }
    assert Entry.objects.filter(transaction__commission__kind="assist").count() == 6  # 3 legs each
    journeys_refresh(as_of=AS_OF, days=3)
    assert Commission.objects.filter(kind="assist").count() == 2  # one per publisher per conversion


def test_the_daily_cap_limits_how_many_assists_a_publisher_earns(assisted, story, pixelpush, rival) -> None:
    again = converted(
        assisted, click_make(assisted, pixelpush, at=T + timedelta(minutes=5)), at=T + timedelta(minutes=10)
    )
    journeys_refresh(as_of=AS_OF, days=3)
    assert Touch.objects.filter(journey__conversion=again, publisher=rival).exists()
    assert Commission.objects.filter(kind="assist", publisher=rival).count() == 1


def test_an_assist_follows_its_conversion_when_it_is_reversed(assisted, story, rival) -> None:
    journeys_refresh(as_of=AS_OF, days=3)
    Conversion.objects.filter(pk=story.pk).update(status="reversed")
    journeys_refresh(as_of=AS_OF, days=3)
    assist = Commission.objects.get(kind="assist", publisher=rival)
    assert assist.status == "reversed"
    assert publisher_balances(publisher_id=rival.id, kind=Account.Kind.PUBLISHER_PENDING) == {
        "USD": D("0.00")
    }
    assert not Journey.objects.filter(conversion=story).exists()  # only valid conversions have journeys


def test_a_view_through_conversion_has_an_impression_journey_kept_apart(shoes, pixelpush) -> None:
    Offer.objects.filter(pk=shoes.pk).update(view_through_enabled=True, view_through_window_hours=24)
    seen = Impression.objects.create(
        offer=shoes, publisher=pixelpush, created_at=T - timedelta(hours=2), ip=HOME_IP, user_agent=CHROME_UA
    )
    goal = shoes.goals.get(code="lead")
    conv = Conversion.objects.create(
        created_at=T,
        advertiser=shoes.advertiser,
        offer=shoes,
        publisher=pixelpush,
        goal=goal,
        source="pixel",
        ip=HOME_IP,
        user_agent=CHROME_UA,
        trace={"attribution": {"by": "view_through", "impression_id": seen.id.hex}},
    )
    journeys_refresh(as_of=AS_OF, days=3)
    journey = Journey.objects.get(conversion=conv)
    assert journey.view_through is True
    touch = Touch.objects.get(journey=journey)
    assert (touch.kind, touch.impression_id, touch.paid, touch.view_through) == (
        "impression",
        seen.id,
        True,
        True,
    )
