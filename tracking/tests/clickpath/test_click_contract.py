"""Contract sections 1-2: every status code, reason code and macro of /c/ and /i/."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from affiliates.models import Cap, Offer, OfferAccess, Publisher
from affiliates.tests import factories as f
from tracking.clickpath.handler import GIF
from tracking.ids import click_cookie_name, click_first_cookie_name
from tracking.models import Click, Impression
from tracking.tests.clickpath.conftest import IPHONE_UA

CLICK_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
pytestmark = pytest.mark.django_db(transaction=True)  # the edge sees committed rows only


def only_click(drain) -> Click:
    drain()
    assert Click.objects.count() == 1
    return Click.objects.get()


def test_it_redirects_to_the_landing_url_with_every_macro_percent_encoded(visit, drain, shoes, shoes_link):
    shoes.landing_url = (
        "https://shoes.example.com/l?c={click_id}&o={offer_id}&p={publisher_id}&a={sub1}&b={sub2}"
        "&c3={sub3}&d={sub4}&e={sub5}&s={source}"
    )
    shoes.save()
    response = visit(
        shoes_link.token, sub1="a b&c=d/é", sub2="x?y#z", sub3="100%", sub4="+", sub5="", source="fb/1"
    )
    assert response.status_code == 302
    assert response["Cache-Control"] == "no-store"
    click = only_click(drain)
    location = response["Location"]
    assert location.startswith("https://shoes.example.com/l?")
    query = parse_qs(urlsplit(location).query, keep_blank_values=True)
    assert query["c"] == [click.id.hex]
    assert query["o"] == [str(shoes.pk)]
    assert query["p"] == [str(shoes_link.publisher_id)]
    assert query["a"] == ["a b&c=d/é"]
    assert query["b"] == ["x?y#z"]
    assert query["c3"] == ["100%"]
    assert query["d"] == ["+"]
    assert query["e"] == [""]
    assert query["s"] == ["fb/1"]
    assert "a%20b%26c%3Dd%2F%C3%A9" in location
    assert "click_id=" not in location
    assert (click.sub1, click.sub2, click.source, click.reason) == ("a b&c=d/é", "x?y#z", "fb/1", "")


def test_it_appends_click_id_when_the_landing_url_has_no_click_id_macro(visit, drain, shoes, shoes_link):
    shoes.landing_url = "https://shoes.example.com/l?s={sub1}#top"
    shoes.save()
    response = visit(shoes_link.token, sub1="x")
    click = only_click(drain)
    assert response["Location"] == f"https://shoes.example.com/l?s=x&click_id={click.id.hex}#top"


def test_click_ids_match_the_contract_pattern_and_are_unique(visit, drain, shoes_link):
    for _ in range(20):
        assert visit(shoes_link.token).status_code == 302
    drain()
    ids = [c.id.hex for c in Click.objects.all()]
    assert len(ids) == len(set(ids)) == 20
    assert all(CLICK_ID_RE.match(i) for i in ids)


@pytest.mark.parametrize("token", ["nope-nope-nope-nope", "short", "bad!chars*here", "a" * 65, "%00abcdefgh"])
def test_it_answers_404_to_an_unknown_or_malformed_token(visit, drain, shoes_link, token):
    assert visit(token).status_code == 404
    assert visit(token, path="i").status_code == 404
    drain()
    assert Click.objects.count() == 0


def test_it_cuts_sub_ids_over_255_characters_and_keeps_the_click(visit, drain, shoes_link):
    response = visit(shoes_link.token, sub1="x" * 300, sub5="y" * 1000, source="z" * 256)
    assert response.status_code == 302
    click = only_click(drain)
    assert (len(click.sub1), len(click.sub5), len(click.source)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": Offer.Status.PAUSED}, "offer_paused"),
        ({"status": Offer.Status.EXPIRED}, "offer_expired"),
        ({"ends_at": timezone.now() - timedelta(minutes=1)}, "offer_expired"),
        ({"starts_at": timezone.now() + timedelta(days=1)}, "offer_paused"),
        ({"target_countries": ["DE", "FR"]}, "geo_mismatch"),
        ({"target_devices": ["mobile"]}, "device_mismatch"),
        ({"target_os": ["ios", "android"]}, "device_mismatch"),
    ],
)
def test_a_refused_click_is_recorded_with_its_reason_and_sent_to_the_default_fallback(
    visit, drain, settings, shoes, shoes_link, change, reason
):
    settings.DEFAULT_FALLBACK_URL = "https://network.example.net/more-offers"
    Offer.objects.filter(pk=shoes.pk).update(**change)
    response = visit(shoes_link.token)
    assert response.status_code == 302
    assert response["Location"] == "https://network.example.net/more-offers"
    assert response["Cache-Control"] == "no-store"
    assert only_click(drain).reason == reason
    assert "Set-Cookie" not in response


def test_targeting_passes_for_a_matching_country_and_device(visit, drain, shoes, shoes_link):
    Offer.objects.filter(pk=shoes.pk).update(
        target_countries=["US"], target_devices=["mobile"], target_os=["ios"]
    )
    response = visit(shoes_link.token, ua=IPHONE_UA)
    assert response["Location"].startswith("https://shoes.example.com/")
    click = only_click(drain)
    assert (click.reason, click.country, click.device, click.os) == ("", "US", "mobile", "ios")


@pytest.mark.parametrize(("ip", "country"), [("2601:1c0:4401::1", "US"), ("2003:e5:1234::1", "DE")])
def test_an_ipv6_visitor_gets_a_country_and_passes_geo_targeting(
    visit, drain, shoes, shoes_link, ip, country
):
    Offer.objects.filter(pk=shoes.pk).update(target_countries=[country])
    response = visit(shoes_link.token, ip=ip)
    assert response["Location"].startswith("https://shoes.example.com/")
    click = only_click(drain)
    assert (click.reason, click.country) == ("", country)
    assert "datacenter_ip" not in click.fraud_flags  # a home network, not a hosting one


@pytest.mark.parametrize(
    "setup",
    [
        lambda link: OfferAccess.objects.filter(pk=link.pk).update(status=OfferAccess.Status.PENDING),
        lambda link: OfferAccess.objects.filter(pk=link.pk).update(status=OfferAccess.Status.REJECTED),
        lambda link: Publisher.objects.filter(pk=link.publisher_id).update(status=Publisher.Status.SUSPENDED),
    ],
)
def test_an_unapproved_link_or_publisher_records_not_approved(visit, drain, shoes_link, setup):
    setup(shoes_link)
    assert visit(shoes_link.token).status_code == 302
    assert only_click(drain).reason == "not_approved"


def test_a_refused_click_goes_to_the_fallback_offer_with_macros_for_this_publisher(
    visit, drain, acme, shoes, shoes_link
):
    boots = f.OfferFactory(
        advertiser=acme, landing_url="https://boots.example.com/?o={offer_id}&p={publisher_id}"
    )
    Offer.objects.filter(pk=shoes.pk).update(
        status=Offer.Status.PAUSED, fallback_offer=boots, fallback_url="https://x.example.com/"
    )
    response = visit(shoes_link.token)
    click = only_click(drain)
    assert response["Location"] == (
        f"https://boots.example.com/?o={boots.pk}&p={shoes_link.publisher_id}&click_id={click.id.hex}"
    )
    assert click.reason == "offer_paused"
    assert click.offer_id == shoes.pk
    assert click.fallback_offer_id == boots.pk
    assert response.cookies[click_cookie_name(boots.pk)].value == click.id.hex
    assert click_cookie_name(shoes.pk) not in response.cookies


def test_a_refused_click_goes_to_the_fallback_url_when_there_is_no_fallback_offer(
    visit, drain, shoes, shoes_link
):
    Offer.objects.filter(pk=shoes.pk).update(
        status=Offer.Status.PAUSED, fallback_url="https://x.example.com/more"
    )
    assert visit(shoes_link.token)["Location"] == "https://x.example.com/more"


def test_a_paused_fallback_offer_is_skipped_for_the_fallback_url(visit, drain, acme, shoes, shoes_link):
    boots = f.OfferFactory(advertiser=acme, status=Offer.Status.PAUSED)
    Offer.objects.filter(pk=shoes.pk).update(
        status=Offer.Status.PAUSED, fallback_offer=boots, fallback_url="https://x.example.com/more"
    )
    assert visit(shoes_link.token)["Location"] == "https://x.example.com/more"


def test_an_offer_wide_click_cap_refuses_the_click_over_the_limit(visit, drain, settings, shoes, shoes_link):
    settings.DEFAULT_FALLBACK_URL = "https://network.example.net/"
    f.CapFactory(offer=shoes, metric=Cap.Metric.CLICKS, period=Cap.Period.DAY, limit=Decimal("3"))
    locations = [visit(shoes_link.token, ip=f"8.8.4.{n}")["Location"] for n in range(5)]
    assert [loc.startswith("https://shoes.example.com/") for loc in locations] == [True] * 3 + [False] * 2
    drain()
    assert sorted(Click.objects.values_list("reason", flat=True)) == [
        "",
        "",
        "",
        "cap_reached",
        "cap_reached",
    ]


def test_each_publisher_caps_count_publishers_apart_and_a_specific_cap_overrides(
    visit, drain, shoes, shoes_link, rival
):
    rival_link = f.OfferAccessFactory(offer=shoes, publisher=rival)
    f.CapFactory(
        offer=shoes, metric=Cap.Metric.CLICKS, period=Cap.Period.WEEK, scope=Cap.Scope.EACH_PUBLISHER, limit=1
    )
    f.CapFactory(offer=shoes, metric=Cap.Metric.CLICKS, period=Cap.Period.WEEK, publisher=rival, limit=2)
    ours = [visit(shoes_link.token)["Location"] for _ in range(2)]
    theirs = [visit(rival_link.token)["Location"] for _ in range(3)]
    assert [u.startswith("https://shoes.") for u in ours] == [True, False]
    assert [u.startswith("https://shoes.") for u in theirs] == [True, True, False]


def test_a_refused_click_does_not_use_up_the_cap(visit, drain, shoes, shoes_link):
    f.CapFactory(offer=shoes, metric=Cap.Metric.CLICKS, period=Cap.Period.MONTH, limit=1)
    Offer.objects.filter(pk=shoes.pk).update(target_countries=["DE"])
    visit(shoes_link.token)
    Offer.objects.filter(pk=shoes.pk).update(target_countries=[])
    shoes.refresh_from_db()
    shoes.save()  # evicts the cached link
    assert visit(shoes_link.token)["Location"].startswith("https://shoes.example.com/")


def test_unique_and_gross_clicks_follow_the_offer_window(visit, drain, shoes, shoes_link):
    visit(shoes_link.token, sub1="1")
    visit(shoes_link.token, sub1="2")
    visit(shoes_link.token, ip="8.8.4.4", sub1="3")
    drain()
    # Clicks in one millisecond do not sort by id, so the order comes from sub1.
    rows = list(Click.objects.order_by("sub1").values_list("is_unique", "fraud_flags"))
    assert rows == [(True, []), (False, ["duplicate_click"]), (True, [])]


def test_a_zero_hour_window_makes_every_click_unique(visit, drain, shoes, shoes_link):
    Offer.objects.filter(pk=shoes.pk).update(unique_click_window_hours=0)
    visit(shoes_link.token)
    visit(shoes_link.token)
    drain()
    assert list(Click.objects.values_list("is_unique", flat=True)) == [True, True]


def test_fraud_flags_mark_bots_datacenters_and_floods(visit, drain, settings, shoes, shoes_link):
    settings.CLICK_FLOOD_PER_HOUR = 2
    Offer.objects.filter(pk=shoes.pk).update(unique_click_window_hours=0)
    visit(shoes_link.token, ua="Googlebot/2.1 (+http://www.google.com/bot.html)", ip="81.2.69.160", sub1="1")
    visit(shoes_link.token, ip="52.94.236.248", sub1="2")
    for n in range(3):
        visit(shoes_link.token, ip="81.2.69.161", sub1=f"3{n}")
    drain()
    flags = [c.fraud_flags for c in Click.objects.order_by("sub1")]
    assert flags == [["bot_user_agent"], ["datacenter_ip"], [], [], ["click_flood"]]


def test_impressions_get_the_same_bot_datacenter_dedupe_and_flood_flags_as_clicks(
    visit, drain, settings, shoes, shoes_link
):
    settings.CLICK_FLOOD_PER_HOUR = 2
    visit(shoes_link.token, path="i", ua="Googlebot/2.1 (+http://www.google.com/bot.html)", sub1="1")
    visit(shoes_link.token, path="i", ip="52.94.236.248", sub1="2")
    visit(shoes_link.token, path="i", ip="81.2.69.161", sub1="3a")
    visit(shoes_link.token, path="i", ip="81.2.69.161", sub1="3b")  # the same visitor again
    # Another browser behind the same IP: a new visitor, but the IP's third view in the hour.
    visit(shoes_link.token, path="i", ip="81.2.69.161", ua=IPHONE_UA, sub1="3c")
    # A visitor's banner views are not its clicks: its click is still unique and no flood.
    visit(shoes_link.token, ip="81.2.69.161", sub1="click")
    drain()
    views = [(i.sub1, i.is_unique, i.fraud_flags) for i in Impression.objects.order_by("sub1")]
    assert views == [
        ("1", True, ["bot_user_agent"]),
        ("2", True, ["datacenter_ip"]),
        ("3a", True, []),
        ("3b", False, ["duplicate_click"]),
        ("3c", True, ["click_flood"]),
    ]
    click = Click.objects.get()
    assert (click.is_unique, click.fraud_flags) == (True, [])


def test_the_click_stores_ip_per_privacy_setting_and_visitor_facts(edge, drain, settings, shoes_link):
    settings.IP_PRIVACY = "truncated"
    edge.get(
        f"/c/{shoes_link.token}",
        REMOTE_ADDR="8.8.8.8",
        HTTP_USER_AGENT=IPHONE_UA,
        HTTP_REFERER="https://blog.example.org/post",
    )
    click = only_click(drain)
    assert (click.ip, click.country, click.device, click.os) == ("8.8.8.0", "US", "mobile", "ios")
    assert click.referer == "https://blog.example.org/post"
    assert click.user_agent == IPHONE_UA
    assert (click.offer_id, click.publisher_id) == (shoes_link.offer_id, shoes_link.publisher_id)


def test_it_sets_last_and_first_click_cookies_for_the_attribution_window(edge, drain, shoes, shoes_link):
    first = edge.get(f"/c/{shoes_link.token}", REMOTE_ADDR="8.8.8.8")
    drain()
    first_id = Click.objects.get().id.hex
    latest = first.cookies[click_cookie_name(shoes.pk)]
    assert latest.value == first_id
    assert latest["max-age"] == str(shoes.attribution_window_days * 86400)
    assert latest["httponly"]
    assert latest["samesite"] == "Lax"
    assert first.cookies[click_first_cookie_name(shoes.pk)].value == first_id
    # The edge client sends the cookies back: the first-click cookie stays, the latest moves.
    second = edge.get(f"/c/{shoes_link.token}", REMOTE_ADDR="8.8.8.8")
    drain()
    second_id = Click.objects.exclude(id=first_id).get().id.hex
    assert second.cookies[click_cookie_name(shoes.pk)].value == second_id
    assert click_first_cookie_name(shoes.pk) not in second.cookies
    assert edge.cookies[click_first_cookie_name(shoes.pk)].value == first_id


def test_cookies_are_cross_site_over_https(edge, shoes, shoes_link):
    response = edge.get(f"/c/{shoes_link.token}", secure=True)
    cookie = response.cookies[click_cookie_name(shoes.pk)]
    assert cookie["secure"]
    assert cookie["samesite"] == "None"


def test_editing_the_offer_takes_effect_on_the_next_click(visit, drain, shoes, shoes_link):
    assert visit(shoes_link.token)["Location"].startswith("https://shoes.example.com/")
    shoes.status = Offer.Status.PAUSED
    shoes.save()
    assert not visit(shoes_link.token)["Location"].startswith("https://shoes.example.com/")
    shoes.status = Offer.Status.ACTIVE
    shoes.landing_url = "https://shoes.example.com/v2?c={click_id}"
    shoes.save()
    assert visit(shoes_link.token)["Location"].startswith("https://shoes.example.com/v2?c=")


def test_other_methods_are_refused_with_405(edge, shoes_link):
    assert edge.post(f"/c/{shoes_link.token}").status_code == 405


def test_an_impression_answers_a_gif_and_is_recorded(visit, drain, shoes_link):
    response = visit(shoes_link.token, path="i", sub1="banner-3", source="native")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["Cache-Control"] == "no-store"
    assert response.content == GIF
    drain()
    impression = Impression.objects.get()
    assert (impression.sub1, impression.source, impression.country) == ("banner-3", "native", "US")
    assert (impression.offer_id, impression.publisher_id) == (shoes_link.offer_id, shoes_link.publisher_id)
