"""A second tenant on each side, for cross-tenant tests.

Besides the root personas: globex runs ``gadgets`` (approval) and ``secret`` (private, rival
invited); rival runs gadgets. Each tenant has one custom payout, cap and coupon.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from affiliates.models import Cap, Goal, Offer, OfferAccess
from affiliates.tests import factories as f


@pytest.fixture
def world(nadia, acme, ada, globex, gus, pixelpush, pia, rival, rex, shoes, shoes_link) -> Any:
    gadgets = f.OfferFactory(advertiser=globex, name="Globex Gadgets", visibility=Offer.Visibility.APPROVAL)
    gadgets_goal = f.GoalFactory(offer=gadgets, code="sale", is_default=True)
    secret = f.OfferFactory(advertiser=globex, name="Globex Secret", visibility=Offer.Visibility.PRIVATE)
    secret_goal = f.GoalFactory(offer=secret, code="lead", payout_type=Goal.PayoutType.CPL, is_default=True)
    rival_gadgets = f.OfferAccessFactory(offer=gadgets, publisher=rival, status=OfferAccess.Status.APPROVED)
    rival_secret = f.OfferAccessFactory(offer=secret, publisher=rival, status=OfferAccess.Status.APPROVED)
    return SimpleNamespace(
        nadia=nadia,
        acme=acme,
        ada=ada,
        globex=globex,
        gus=gus,
        pixelpush=pixelpush,
        pia=pia,
        rival=rival,
        rex=rex,
        shoes=shoes,
        shoes_goal=shoes.goals.get(code="sale"),
        shoes_link=shoes_link,
        gadgets=gadgets,
        gadgets_goal=gadgets_goal,
        secret=secret,
        secret_goal=secret_goal,
        rival_gadgets=rival_gadgets,
        rival_secret=rival_secret,
        cp_acme=f.CustomPayoutFactory(publisher=pixelpush, offer=shoes, payout=Decimal("9")),
        cp_globex=f.CustomPayoutFactory(publisher=rival, offer=gadgets, payout=Decimal("11")),
        cap_acme=f.CapFactory(offer=shoes, metric=Cap.Metric.CONVERSIONS),
        cap_globex=f.CapFactory(offer=gadgets, publisher=rival, scope=Cap.Scope.EACH_PUBLISHER),
        coupon_acme=f.CouponFactory(code="PIXEL10", publisher=pixelpush, offer=shoes),
        coupon_globex=f.CouponFactory(code="RIVAL10", publisher=rival, offer=gadgets),
    )
