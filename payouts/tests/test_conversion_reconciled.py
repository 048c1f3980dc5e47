"""The conversions API says whether payouts' reconciliation has caught up with a conversion.

Here rather than in tracking's tests: it runs payouts' reconciliation, and tracking's tests may
only import what tracking itself may import (see tests/test_architecture.py).
"""

from __future__ import annotations

import pytest

from payouts.reconcile import conversions_reconcile
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


def test_reconciled_says_whether_payouts_has_caught_up_with_a_conversion(
    edge, api_as, nadia, shoes, pixelpush, shoes_link
) -> None:
    sale = postback(edge, click_id=click_make(shoes, pixelpush).id.hex, amount="10", txn_id="A1").json()
    lead = postback(edge, click_id=click_make(shoes, pixelpush).id.hex, goal="lead", txn_id="A2").json()
    api = api_as(nadia)
    assert {row["reconciled"] for row in api.get("/api/v1/conversions/").json()["results"]} == {False}
    conversions_reconcile()
    assert {row["reconciled"] for row in api.get("/api/v1/conversions/").json()["results"]} == {True}
    assert api.get(f"/api/v1/conversions/{sale['conversion_id']}/").json()["reconciled"] is True
    assert api.get(f"/api/v1/conversions/{lead['conversion_id']}/").json()["reconciled"] is True
