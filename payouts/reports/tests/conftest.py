from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Goal, Offer
from affiliates.tests import factories as f
from payouts.reports.tests.customer_story import story  # noqa: F401 (a fixture)


@pytest.fixture
def boots(globex: Any) -> Offer:
    """globex's EUR offer with a CPA goal and a CPC goal: a second tenant and a second currency."""
    offer = f.OfferFactory(advertiser=globex, name="Globex Boots", currency="EUR")
    f.GoalFactory(
        offer=offer,
        code="order",
        payout_type=Goal.PayoutType.CPA,
        payout=Decimal("4"),
        revenue=Decimal("6.5"),
        is_default=True,
    )
    f.GoalFactory(
        offer=offer,
        code="click",
        payout_type=Goal.PayoutType.CPC,
        payout=Decimal("0.05"),
        revenue=Decimal("0.08"),
    )
    return offer
