"""A pause takes effect on the next click, through the same cache eviction a staff edit causes."""

from __future__ import annotations

import pytest

from payouts.automation import services
from payouts.automation.tests.conftest import rollup, source_rollup, variant_day
from tracking.models import Click

pytestmark = pytest.mark.django_db(transaction=True)  # the edge sees committed rows only

UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
EXPENSIVE = {"gross_clicks": 600, "revenue": "18000"}  # CPC 30 NOK


def click(edge, token: str, **params: str):
    return edge.get(f"/c/{token}", params, REMOTE_ADDR="8.8.8.8", HTTP_USER_AGENT=UA)


def last_reason(drain) -> str:
    drain()
    return Click.objects.order_by("-created_at", "-id").values_list("reason", flat=True).first()


def test_a_paused_offer_sends_the_next_click_to_the_fallback_and_undo_lets_it_through(
    edge, drain, settings, make_rule, nok_shoes, shoes_link, pixelpush, nadia
) -> None:
    settings.DEFAULT_FALLBACK_URL = "https://network.example.net/more-offers"
    assert click(edge, shoes_link.token)["Location"].startswith(
        "https://shoes.example.com/"
    )  # snapshot cached
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    firing = services.rule_check(rule_id=make_rule(action="pause").pk)
    assert firing.detail == f"offer {nok_shoes.name} paused"
    refused = click(edge, shoes_link.token)
    assert refused.status_code == 302
    assert refused["Location"] == "https://network.example.net/more-offers"
    assert last_reason(drain) == "offer_paused"
    services.firing_undo(firing=firing, by=nadia)
    assert click(edge, shoes_link.token)["Location"].startswith("https://shoes.example.com/")
    assert last_reason(drain) == ""


def test_a_paused_publisher_is_refused_as_not_approved(
    edge, drain, make_rule, nok_shoes, shoes_link, pixelpush
) -> None:
    assert click(edge, shoes_link.token).status_code == 302
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    services.rule_check(rule_id=make_rule(scope="publisher", publisher=pixelpush, action="pause").pk)
    assert click(edge, shoes_link.token).status_code == 302
    assert last_reason(drain) == "not_approved"


def test_a_paused_ab_variant_gets_no_more_clicks(
    edge, drain, make_rule, hero_test, shoes_link, nadia
) -> None:
    a, b = hero_test.variants.order_by("position")
    variant_day(b, clicks=600, conversions=0)
    firing = services.rule_check(
        rule_id=make_rule(
            scope="variant", variant=b, metric="cvr", comparison="lt", threshold=1, action="pause"
        ).pk
    )
    assert firing.detail == "variant B of Hero image paused"
    landed = {click(edge, shoes_link.token)["Location"].split("?")[0] for _ in range(12)}
    assert landed == {"https://shoes.example.com/a"}
    drain()
    assert set(Click.objects.values_list("ab_variant_id", flat=True)) == {a.pk}


def test_a_paused_source_is_refused_as_blocked_and_a_resume_rule_lets_it_through(
    edge, drain, settings, make_rule, nok_shoes, shoes_link, pixelpush, nadia
) -> None:
    settings.DEFAULT_FALLBACK_URL = "https://network.example.net/more-offers"
    assert click(edge, shoes_link.token, source="feed-x")["Location"].startswith("https://shoes.example.com/")
    source_rollup(nok_shoes, pixelpush, "feed-x", **EXPENSIVE)
    pause = make_rule(scope="source", source="feed-x", action="pause")
    firing = services.rule_check(rule_id=pause.pk)
    assert firing.detail == f"source 'feed-x' on offer {nok_shoes.name} blocked"

    refused = click(edge, shoes_link.token, source="feed-x")
    assert (refused.status_code, refused["Location"]) == (302, "https://network.example.net/more-offers")
    assert last_reason(drain) == "blocked"
    other = click(edge, shoes_link.token, source="feed-y")  # only that source is blocked
    assert other["Location"].startswith("https://shoes.example.com/")
    assert last_reason(drain) == ""

    # Its numbers recover (CPC under 100 NOK): a second rule resumes it.
    resume = make_rule(scope="source", source="feed-x", comparison="lt", threshold=100, action="resume")
    resumed = services.rule_check(rule_id=resume.pk)
    assert resumed.detail == f"source 'feed-x' on offer {nok_shoes.name} unblocked"
    assert click(edge, shoes_link.token, source="feed-x")["Location"].startswith("https://shoes.example.com/")
    assert last_reason(drain) == ""
    # Undoing the resume blocks it again, at once.
    services.firing_undo(firing=resumed, by=nadia)
    assert (
        click(edge, shoes_link.token, source="feed-x")["Location"]
        == "https://network.example.net/more-offers"
    )
    assert last_reason(drain) == "blocked"
