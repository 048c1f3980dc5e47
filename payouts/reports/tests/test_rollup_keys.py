"""The rollup tables' unique keys hold for rows without a goal (clicks, impressions) too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from tracking.models.reports import DailyOfferStat, DailyStat, HourlyOfferStat, HourlyStat

pytestmark = pytest.mark.django_db
HOUR = datetime(2024, 6, 3, 10, tzinfo=UTC)
TIME = {
    HourlyStat: ("hour", HOUR),
    HourlyOfferStat: ("hour", HOUR),
    DailyStat: ("day", HOUR.date()),
    DailyOfferStat: ("day", HOUR.date()),
}


def _key(model: Any, offer: Any, publisher: Any, goal: Any) -> dict[str, Any]:
    column, value = TIME[model]
    key = {
        column: value,
        "advertiser_id": offer.advertiser_id,
        "offer": offer,
        "publisher": publisher,
        "goal": goal,
        "currency": "USD",
    }
    if model in (HourlyStat, DailyStat):
        key.update(country="US", device="mobile", sub1="s1")
    return key


@pytest.mark.parametrize("model", [HourlyStat, DailyStat, HourlyOfferStat, DailyOfferStat])
def test_a_second_row_for_the_same_goalless_key_is_refused(model: Any, shoes: Any, pixelpush: Any) -> None:
    model.objects.create(**_key(model, shoes, pixelpush, None), gross_clicks=3)

    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**_key(model, shoes, pixelpush, None), gross_clicks=3)


@pytest.mark.parametrize("model", [HourlyStat, DailyStat, HourlyOfferStat, DailyOfferStat])
def test_a_goal_row_and_a_goalless_row_of_one_key_coexist(model: Any, shoes: Any, pixelpush: Any) -> None:
    goal = shoes.goals.get(is_default=True)
    model.objects.create(**_key(model, shoes, pixelpush, None), gross_clicks=3)
    model.objects.create(**_key(model, shoes, pixelpush, goal), conv_pending=1)

    assert model.objects.count() == 2
