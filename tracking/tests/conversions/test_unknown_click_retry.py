"""A postback refused as ``unknown_click`` (200 rejected: its click id is not ours, as far as
anyone can tell), then retried with the same txn_id once the click exists (issue 11: the retry
made a second conversion row). Whatever the order, one order of the advertiser's is one
conversion row per (offer, txn_id)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count
from django.utils import timezone

from tracking.ids import new_click_id
from tracking.models import Click, Conversion
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import CLICK_DEFAULTS


@pytest.fixture
def client(edge: Any) -> Any:
    return edge


def _late_click_id() -> Any:
    """An id minted 10 minutes ago: past CLICK_UNDRAINED_GRACE_SECONDS, so while its click is
    nowhere the postback is refused for good (unknown_click), not answered 503."""
    at = timezone.now() - timedelta(minutes=10)
    return new_click_id(int(at.timestamp() * 1000)), at


def _click_arrives(click_id: Any, at: Any, shoes: Any, pixelpush: Any) -> None:
    Click.objects.create(id=click_id, offer=shoes, publisher=pixelpush, created_at=at, **CLICK_DEFAULTS)


def _rows_per_offer_and_txn(txn_id: str) -> list[int]:
    return list(
        Conversion.objects.filter(txn_id=txn_id)
        .values("offer_id")
        .annotate(n=Count("id"))
        .order_by("offer_id")
        .values_list("n", flat=True)
    )


def test_a_retry_after_unknown_click_makes_one_row_per_offer_and_txn(client, shoes, pixelpush, shoes_link):
    click_id, at = _late_click_id()
    first = postback(client, click_id=click_id.hex, amount="20", txn_id="LATE-1").json()
    again = postback(client, click_id=click_id.hex, amount="20", txn_id="LATE-1").json()
    assert (first["result"], first["reason"]) == ("rejected", "unknown_click")
    assert (again["result"], again["conversion_id"]) == ("duplicate", first["conversion_id"])
    _click_arrives(click_id, at, shoes, pixelpush)
    retried = postback(client, click_id=click_id.hex, amount="20", txn_id="LATE-1").json()
    assert retried["result"] == "accepted"
    conv = Conversion.objects.get(pk=retried["conversion_id"])
    assert (conv.offer_id, conv.publisher_id, conv.click_id, conv.status) == (
        shoes.id, pixelpush.id, click_id, "pending"
    )  # fmt: skip
    once_more = postback(client, click_id=click_id.hex, amount="20", txn_id="LATE-1").json()
    assert (once_more["result"], once_more["conversion_id"]) == ("duplicate", conv.id)
    # The refusal stays as its audit record (no offer, earning nothing); the order is one row.
    assert _rows_per_offer_and_txn("LATE-1") == [1, 1]
    refused = Conversion.objects.get(pk=first["conversion_id"])
    assert (refused.offer_id, refused.status, refused.reason) == (None, "rejected", "unknown_click")


def test_an_unknown_click_after_the_order_was_recorded_is_refused_once(client, shoes, pixelpush, shoes_link):
    click_id, at = _late_click_id()
    _click_arrives(click_id, at, shoes, pixelpush)
    accepted = postback(client, click_id=click_id.hex, amount="20", txn_id="LATE-2").json()
    assert accepted["result"] == "accepted"
    unknown = new_click_id(int((at - timedelta(minutes=1)).timestamp() * 1000))
    typo = postback(client, click_id=unknown.hex, amount="20", txn_id="LATE-2").json()
    assert (typo["result"], typo["reason"]) == ("rejected", "unknown_click")
    again = postback(client, click_id=unknown.hex, amount="20", txn_id="LATE-2").json()
    assert (again["result"], again["conversion_id"]) == ("duplicate", typo["conversion_id"])
    assert _rows_per_offer_and_txn("LATE-2") == [1, 1]  # the order, and the one refusal of the typo
