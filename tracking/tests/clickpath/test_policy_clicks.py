"""Issue 14 on the click path: negative lists (reason ``blocked``) and frequency caps across
offers (reason ``frequency_cap``), both always answered with a 302 to the fallback."""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from affiliates.models import Cap, OfferAccess
from affiliates.tests import factories as f
from tracking.clickpath import policy, redis_conn, visitor_ids
from tracking.models import Click, FrequencyCap, ListEntry
from tracking.tests.asgi_driver import DESKTOP_UA, US_IP

pytestmark = pytest.mark.django_db(transaction=True)  # the edge sees committed rows only
FALLBACK = "https://network.example.net/more"
needs_redis = pytest.mark.skipif(not django_settings.REDIS_URL, reason="frequency caps count in Redis")


@pytest.fixture(autouse=True)
def _fallback(settings):
    settings.DEFAULT_FALLBACK_URL = FALLBACK


def entry(kind, value, *, mode="block", advertiser=None, offer=None):
    row = ListEntry.objects.create(
        kind=kind, value=value, mode=mode, offer=offer, advertiser=offer.advertiser if offer else advertiser
    )
    policy.policy_stale()
    return row


def cap(limit, days=1, *, advertiser=None, offer=None):
    row = FrequencyCap.objects.create(
        limit=limit, window_days=days, offer=offer, advertiser=offer.advertiser if offer else advertiser
    )
    policy.policy_stale()
    return row


def reasons(drain):
    """The recorded reasons, sorted: click ids are UUIDv7 with random bits within a millisecond,
    so no column orders clicks made in the same millisecond (each visit's answer is checked in
    order by the test itself)."""
    drain()
    return sorted(Click.objects.values_list("reason", flat=True))


def to_offer(response):
    return response.status_code == 302 and response["Location"].startswith("https://shoes.example.com/")


def test_a_blocked_sub_id_is_recorded_as_blocked_and_sent_to_the_fallback(visit, drain, shoes, shoes_link):
    entry("sub_id", "bad-site", offer=shoes)
    blocked = visit(shoes_link.token, sub2="bad-site")
    assert blocked.status_code == 302
    assert blocked["Location"] == FALLBACK
    assert to_offer(visit(shoes_link.token, sub2="good-site"))
    assert reasons(drain) == sorted(["blocked", ""])


def test_ip_ranges_block_ipv4_and_ipv6_visitors_by_cidr(visit, drain, acme, shoes, shoes_link):
    entry("ip_range", "203.0.113.0/24", advertiser=acme)
    entry("ip_range", "2001:db8::/32", advertiser=acme)
    assert visit(shoes_link.token, ip="203.0.113.77")["Location"] == FALLBACK
    assert visit(shoes_link.token, ip="2001:db8:5::1")["Location"] == FALLBACK
    assert to_offer(visit(shoes_link.token, ip="203.0.114.1"))
    assert to_offer(visit(shoes_link.token, ip="2001:db9::1"))
    assert reasons(drain) == sorted(["blocked", "blocked", "", ""])


def test_a_referrer_domain_blocks_its_subdomains_and_an_asn_blocks_its_network(
    edge, drain, shoes, shoes_link
):
    entry("referrer_domain", "spam.example", offer=shoes)
    entry("asn", "GOOGLE", offer=shoes)
    url = f"/c/{shoes_link.token}"
    assert (
        edge.get(url, REMOTE_ADDR="1.1.1.1", HTTP_REFERER="https://ads.spam.example/x")["Location"]
        == FALLBACK
    )
    assert edge.get(url, REMOTE_ADDR="8.8.8.8")["Location"] == FALLBACK  # AS GOOGLE
    assert to_offer(edge.get(url, REMOTE_ADDR="1.1.1.1", HTTP_REFERER="https://notspam.example/"))
    assert reasons(drain) == sorted(["blocked", "blocked", ""])


def test_a_network_allow_list_of_sources_refuses_every_other_source(visit, drain, shoes_link, pixelpush):
    entry("source", "newsletter", mode="allow")
    assert to_offer(visit(shoes_link.token, source="newsletter"))
    assert visit(shoes_link.token, source="popunder")["Location"] == FALLBACK
    assert visit(shoes_link.token)["Location"] == FALLBACK  # no source: not on the list
    assert reasons(drain) == sorted(["", "blocked", "blocked"])


def test_a_blocked_publisher_goes_to_the_offers_fallback_offer(
    visit, drain, acme, shoes, shoes_link, pixelpush
):
    other = f.OfferFactory(advertiser=acme, landing_url="https://other.example.com/?c={click_id}")
    shoes.fallback_offer = other
    shoes.save()
    entry("publisher", str(pixelpush.pk), offer=shoes)
    assert visit(shoes_link.token)["Location"].startswith("https://other.example.com/")
    assert reasons(drain) == sorted(["blocked"])


def test_a_block_on_one_offer_leaves_the_advertisers_other_offers_alone(
    visit, drain, acme, shoes, shoes_link, pixelpush
):
    other = f.OfferFactory(advertiser=acme, landing_url="https://other.example.com/?c={click_id}")
    other_link = f.OfferAccessFactory(offer=other, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
    entry("source", "popunder", offer=shoes)
    assert visit(shoes_link.token, source="popunder")["Location"] == FALLBACK
    assert visit(other_link.token, source="popunder")["Location"].startswith("https://other.example.com/")


def test_a_list_added_after_clicks_applies_within_the_refresh(visit, drain, settings, shoes, shoes_link):
    settings.CLICK_POLICY_REFRESH_SECONDS = 0.0
    assert to_offer(visit(shoes_link.token, source="popunder"))
    ListEntry.objects.create(kind="source", value="popunder", offer=shoes, advertiser=shoes.advertiser)
    deadline = time.monotonic() + 5  # reloaded in the background: a click or two may pass first
    while to_offer(visit(shoes_link.token, source="popunder")):
        assert time.monotonic() < deadline
        time.sleep(0.05)


@needs_redis
def test_an_advertiser_frequency_cap_counts_one_visitor_across_its_offers(
    edge, visit, drain, acme, shoes, shoes_link, pixelpush
):
    other = f.OfferFactory(advertiser=acme, landing_url="https://other.example.com/?c={click_id}")
    other_link = f.OfferAccessFactory(offer=other, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
    cap(2, 1, advertiser=acme)
    first = visit(shoes_link.token)
    assert to_offer(first)
    assert "afv" in edge.cookies  # the visitor's first-party id, set on their first capped click
    assert visit(other_link.token)["Location"].startswith("https://other.example.com/")
    over = visit(shoes_link.token)
    assert over.status_code == 302
    assert over["Location"] == FALLBACK
    # Another visitor (no cookie, another address) has a count of their own.
    edge.cookies.clear()
    assert to_offer(visit(shoes_link.token, ip="8.8.4.4"))
    assert reasons(drain) == sorted(["", "", "frequency_cap", ""])


@needs_redis
def test_the_visitor_cookie_keeps_the_count_when_the_address_changes(edge, visit, drain, shoes, shoes_link):
    cap(1, 7, offer=shoes)
    assert to_offer(visit(shoes_link.token, ip="8.8.4.4"))
    assert "afv" in edge.cookies
    assert visit(shoes_link.token, ip="9.9.9.9")["Location"] == FALLBACK
    edge.cookies.clear()  # cookie-less: the same address and browser are the same visitor
    assert visit(shoes_link.token, ip="8.8.4.4")["Location"] == FALLBACK
    assert reasons(drain) == sorted(["", "frequency_cap", "frequency_cap"])


@needs_redis
def test_a_cookie_less_visitor_has_one_keyed_id_for_cookie_uniqueness_and_counter(
    edge, visit, drain, shoes, shoes_link
):
    """The click makes one keyed hash of address and browser: the cap's cookie carries it, and
    the uniqueness and cap counters are keyed by it. Redis holds no address, and no unkeyed
    hash of one that could be tested against guesses."""
    cap(5, 1, offer=shoes)
    assert to_offer(visit(shoes_link.token))
    visitor = edge.cookies["afv"].value
    assert visitor == visitor_ids.visitor_hash(US_IP, DESKTOP_UA, now=time.time())
    client = redis_conn.client_always()
    assert client.exists(redis_conn.key("u", shoes.pk, visitor))
    assert client.exists(redis_conn.key("fq", f"o{shoes.pk}", 1, visitor))
    unkeyed = {
        hashlib.blake2b(text.encode(), digest_size=10).hexdigest()
        for text in (f"{US_IP}|{DESKTOP_UA}", US_IP)
    }
    keys = [k.decode() for k in client.scan_iter(match=redis_conn.key("*"), count=1000)]
    assert keys
    assert not [k for k in keys if US_IP in k or any(h in k for h in unkeyed)]
    assert reasons(drain) == [""]


@needs_redis
def test_a_network_cap_counts_across_advertisers(visit, drain, shoes_link, globex, pixelpush):
    offer = f.OfferFactory(advertiser=globex, landing_url="https://globex.example.com/?c={click_id}")
    link = f.OfferAccessFactory(offer=offer, publisher=pixelpush, status=OfferAccess.Status.APPROVED)
    cap(1, 14)
    assert to_offer(visit(shoes_link.token))
    assert visit(link.token)["Location"] == FALLBACK
    assert reasons(drain) == sorted(["", "frequency_cap"])


@needs_redis
def test_a_click_refused_by_a_frequency_cap_takes_no_click_cap_room_and_a_blocked_one_no_frequency(
    edge, visit, drain, shoes, shoes_link
):
    f.CapFactory(offer=shoes, metric=Cap.Metric.CLICKS, period=Cap.Period.DAY, limit=Decimal("2"))
    cap(1, 1, offer=shoes)
    entry("source", "popunder", offer=shoes)
    assert visit(shoes_link.token, source="popunder")["Location"] == FALLBACK  # blocked: not counted
    assert to_offer(visit(shoes_link.token))
    assert visit(shoes_link.token)["Location"] == FALLBACK  # frequency cap: no click-cap room taken
    edge.cookies.clear()
    assert to_offer(visit(shoes_link.token, ip="8.8.4.4"))  # the click cap's second click
    assert reasons(drain) == sorted(["blocked", "", "frequency_cap", ""])


def test_without_redis_frequency_caps_fail_open_and_lists_still_apply(visit, drain, shoes, shoes_link):
    """Redis down (or embedded mode): the database path has no visitor counters, so capped
    visitors reach the offer rather than an error; negative lists need no counter and hold."""
    cap(1, 1, offer=shoes)
    entry("source", "popunder", offer=shoes)
    redis_conn._down_until = time.monotonic() + 60  # the breaker open, as after a failed write
    try:
        answers = [visit(shoes_link.token) for _ in range(3)]
        blocked = visit(shoes_link.token, source="popunder")
    finally:
        redis_conn.reset()
    assert all(to_offer(a) for a in answers)
    assert blocked["Location"] == FALLBACK
    assert reasons(drain) == sorted(["", "", "", "blocked"])
