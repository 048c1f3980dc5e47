"""A/B variants on the click path: a running test splits an offer's clicks between its variants
by weight, a visitor keeps their variant, the click records it, and a paused loser hands only
its own visitors over (README "A/B tests")."""

from __future__ import annotations

from collections import Counter
from http.cookies import SimpleCookie
from typing import Any

import pytest

from affiliates.models import Offer, OfferAccess
from tracking.clickpath import abvariants
from tracking.clickpath.snapshots import VariantEntry
from tracking.models import AbTest, AbVariant, Click

pytestmark = pytest.mark.django_db(transaction=True)


def running_test(offer: Offer, **weights: int) -> dict[str, AbVariant]:
    test = AbTest.objects.create(
        offer=offer,
        name="Hero image",
        hypothesis="A bigger hero converts better.",
        status=AbTest.Status.RUNNING,
    )
    out = {}
    for i, (label, weight) in enumerate(weights.items()):
        url = f"https://shoes.example.com/{label}?cid={{click_id}}&v={{variant_id}}&s1={{sub1}}"
        out[label] = AbVariant.objects.create(
            test=test, label=label, landing_url=url, weight=weight, is_control=i == 0, position=i
        )
    return out


def test_a_click_goes_to_its_variant_with_the_macros_and_is_stored_with_it(
    visit, drain, shoes: Offer, shoes_link: OfferAccess
) -> None:
    variants = running_test(shoes, a=1, b=1)
    response = visit(shoes_link.token, sub1="fb-7")
    assert response.status_code == 302
    drain()
    click = Click.objects.get()
    chosen = AbVariant.objects.get(pk=click.ab_variant_id)
    label = chosen.label
    assert response["Location"] == (
        f"https://shoes.example.com/{label}?cid={click.id.hex}&v={variants[label].pk}&s1=fb-7"
    )


def test_a_returning_visitor_keeps_their_variant_and_new_visitors_spread(
    edge, visit, drain, shoes: Offer, shoes_link: OfferAccess
) -> None:
    running_test(shoes, a=1, b=1)
    for _ in range(8):  # eight visitors, each clicking three times
        edge.cookies = SimpleCookie()
        seen = {visit(shoes_link.token)["Location"].split("?")[0] for _ in range(3)}
        assert len(seen) == 1
    drain()
    per_variant = Counter(Click.objects.values_list("ab_variant_id", flat=True))
    assert len(per_variant) == 2
    assert sum(per_variant.values()) == 24


def test_a_click_without_a_running_test_records_no_variant(visit, drain, shoes, shoes_link) -> None:
    variants = running_test(shoes, a=1, b=1)
    test = variants["a"].test
    test.status = AbTest.Status.ENDED
    test.save()
    response = visit(shoes_link.token)
    drain()
    assert response["Location"].startswith("https://shoes.example.com/?cid=")
    assert Click.objects.get().ab_variant_id is None


def _entries(**weights: int) -> Any:
    return tuple(VariantEntry(i + 1, w, f"https://x/{i}") for i, w in enumerate(weights.values()))


class _Link:
    def __init__(self, variants: Any) -> None:
        self.variants = variants


def test_the_draw_shares_visitors_by_weight() -> None:
    link: Any = _Link(_entries(a=1, b=3))
    counts = Counter(abvariants.variant_pick(link, f"visitor-{n}") for n in range(8000))
    assert 0.22 < counts[1] / 8000 < 0.28  # 25 %


def test_pausing_a_variant_moves_only_its_own_visitors() -> None:
    three: Any = _Link(_entries(a=1, b=1, c=1))
    two: Any = _Link(tuple(v for v in three.variants if v.variant_id != 3))
    for n in range(2000):
        before = abvariants.variant_pick(three, f"v{n}")
        if before != 3:
            assert abvariants.variant_pick(two, f"v{n}") == before


def test_the_visitor_key_is_the_first_click_cookie_else_the_clicks_own_id() -> None:
    assert abvariants.visitor_key(5, "affc_5=x; afff_5=first-id; other=1", "new") == "first-id"
    assert abvariants.visitor_key(5, "afff_6=elsewhere", "new") == "new"
    assert abvariants.visitor_key(5, "", "new") == "new"
