"""Publisher pages people expect from Everflow or Impact: the marketplace's EPC, caps, traffic
and terms; the offer page's terms and creatives; paused offers explained; rejection reasons;
payout methods checked per method, the same way in the portal and the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from affiliates.models import Cap, Creative, Offer, Publisher
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from tests.portal_data import conversion_make
from tracking.models.reports import DailyOfferStat
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_pia(pia: Any) -> Client:
    return sign_in(Client(), pia)


def test_the_marketplace_card_shows_epc_caps_allowed_traffic_and_terms(
    as_pia: Client, shoes: Offer, pixelpush: Publisher, rival: Publisher
) -> None:
    shoes.visibility = Offer.Visibility.PUBLIC
    shoes.allowed_traffic = ["content", "email"]
    shoes.terms = "No brand bidding on Acme."
    shoes.save()
    goal = shoes.goals.get(code="sale")
    today = timezone.now().date()
    for day, publisher, clicks, payout in [
        (today, pixelpush, 300, Decimal("20.00")),
        (today - timedelta(days=3), rival, 100, Decimal("10.00")),
        (today - timedelta(days=45), rival, 1000, Decimal("999.00")),  # outside the 30 days
    ]:
        DailyOfferStat.objects.create(
            day=day,
            advertiser_id=shoes.advertiser_id,
            offer=shoes,
            publisher=publisher,
            goal=goal,
            currency="USD",
            gross_clicks=clicks,
            payout=payout,
        )
    f.CapFactory(offer=shoes, metric=Cap.Metric.CONVERSIONS, period=Cap.Period.DAY, limit=Decimal("100"))
    f.CapFactory(offer=shoes, metric=Cap.Metric.REVENUE, period=Cap.Period.MONTH, limit=Decimal("5000"))
    page = as_pia.get("/publisher/offers/").content.decode()
    assert "$0.08" in page or "0.08" in page  # (20 + 10) / (300 + 100) = 0.075, rounded half up
    assert "100 conversions per day for all publishers" in page
    assert "5000" not in page  # a revenue cap is the advertiser's business
    assert "Content / blog, E-mail" in page
    assert "No brand bidding on Acme." in page


def test_an_offer_without_clicks_says_so_instead_of_an_epc(as_pia: Client, shoes: Offer) -> None:
    shoes.visibility = Offer.Visibility.PUBLIC
    shoes.save()
    page = as_pia.get("/publisher/offers/").content.decode()
    assert "no clicks in the range" in page
    assert "Not stated" in page


def test_the_offer_page_shows_terms_and_active_creatives(as_pia: Client, shoes: Offer) -> None:
    shoes.visibility = Offer.Visibility.PUBLIC
    shoes.terms = "Coupon sites need written approval."
    shoes.save()
    Creative.objects.create(
        offer=shoes, name="Summer banner", kind="banner", image_url="https://cdn.example/b.png"
    )
    Creative.objects.create(
        offer=shoes, name="Old banner", kind="banner", image_url="https://x/o.png", active=False
    )
    page = as_pia.get(f"/publisher/offers/{shoes.pk}/").content.decode()
    assert page.count("Coupon sites need written approval.") == 1
    assert "Summer banner" in page
    assert "Old banner" not in page


def test_a_paused_offer_is_explained_in_the_link_list_its_page_and_its_link_page(
    as_pia: Client, shoes_link: Any, shoes: Offer
) -> None:
    fallback = f.OfferFactory(advertiser=shoes.advertiser, name="Acme Boots")
    Offer.objects.filter(pk=shoes.pk).update(status=Offer.Status.PAUSED, fallback_offer=fallback)
    expected = "The advertiser paused this offer: clicks on your links go to the fallback offer “Acme Boots”"
    assert expected in as_pia.get("/publisher/my-offers/").content.decode()
    assert expected in as_pia.get(f"/publisher/my-offers/{shoes_link.pk}/").content.decode()
    detail = as_pia.get(f"/publisher/offers/{shoes.pk}/")
    assert detail.status_code == 200  # paused offers leave the marketplace, not their runners
    assert expected in detail.content.decode()


def test_a_live_offer_carries_no_pause_note(as_pia: Client, shoes_link: Any) -> None:
    assert "data-down-note" not in as_pia.get("/publisher/my-offers/").content.decode()


def test_a_paused_offer_the_publisher_never_applied_to_stays_hidden(as_pia: Client, shoes: Offer) -> None:
    Offer.objects.filter(pk=shoes.pk).update(status=Offer.Status.PAUSED, visibility=Offer.Visibility.PUBLIC)
    assert as_pia.get(f"/publisher/offers/{shoes.pk}/").status_code == 404


def test_rejected_conversions_show_their_reason_in_words_and_the_advertisers_note(
    as_pia: Client, shoes_link: Any
) -> None:
    rejected = conversion_make(click=click_make(shoes_link.offer, shoes_link.publisher), txn_id="A2")
    type(rejected).objects.filter(pk=rejected.pk).update(status="rejected", reason="cap_reached")
    rejected.commission.status_reason = "refunded order"
    rejected.commission.save(update_fields=["status_reason"])
    rejected.commission.__class__.objects.filter(pk=rejected.commission.pk).update(status="rejected")
    page = as_pia.get("/publisher/conversions/").content.decode()
    assert "The offer&#x27;s cap was reached when it arrived." in page
    assert "cap_reached" in page
    assert "“refunded order”" in page


# --- payout methods ----------------------------------------------------------------------


def _payout_post(client: Client, method: str, **details: str) -> Any:
    data = {"form": "payout", "d-payout_method": method, "d-payout_currency": "EUR", "d-minimum_payout": "50"}
    data.update({f"d-{method}-{k}": v for k, v in details.items()})
    return client.post("/publisher/profile/", data)


def test_a_bad_iban_is_refused_with_the_reason_and_nothing_is_saved(
    as_pia: Client, pixelpush: Publisher
) -> None:
    response = _payout_post(as_pia, "sepa", iban="DE89 3704 0044 0532 0130 01")
    assert response.status_code == 200
    assert "Not a valid IBAN" in response.content.decode()
    pixelpush.refresh_from_db()
    assert pixelpush.payout_method == "paypal"


def test_a_good_iban_and_bic_are_saved_compacted(as_pia: Client, pixelpush: Publisher) -> None:
    response = _payout_post(as_pia, "sepa", iban="de89 3704 0044 0532 0130 00", bic="cobadeffxxx")
    assert response.status_code == 302
    pixelpush.refresh_from_db()
    assert (pixelpush.payout_method, pixelpush.payout_details) == (
        "sepa",
        {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"},
    )


def test_paypal_needs_an_email_and_other_methods_fields_are_ignored(
    as_pia: Client, pixelpush: Publisher
) -> None:
    refused = _payout_post(as_pia, "paypal", email="not-an-address")
    assert "Enter the e-mail address of your PayPal account." in refused.content.decode()
    data = {"d-sepa-iban": "garbage"}  # another method's field: not checked, not kept
    response = as_pia.post(
        "/publisher/profile/",
        {
            "form": "payout",
            "d-payout_method": "paypal",
            "d-payout_currency": "USD",
            "d-minimum_payout": "50",
            "d-paypal-email": "Pay@PixelPush.example",
            **data,
        },
    )
    assert response.status_code == 302
    pixelpush.refresh_from_db()
    assert pixelpush.payout_details == {"email": "pay@pixelpush.example"}


def test_ach_checks_the_routing_number(as_pia: Client) -> None:
    page = _payout_post(
        as_pia, "ach", routing_number="111000026", account_number="12345678", account_name="PixelPush"
    ).content.decode()
    assert "Not a valid 9-digit ABA routing number." in page


def test_a_wire_needs_an_iban_or_an_account_number(as_pia: Client) -> None:
    page = _payout_post(as_pia, "wire", bic="COBADEFFXXX", account_name="PixelPush").content.decode()
    assert "Give an IBAN or an account number." in page


def test_the_api_applies_the_same_rules(pixelpush: Publisher, pia: Any, api_as: Any) -> None:
    url = f"/api/v1/publishers/{pixelpush.pk}/"
    bad = api_as(pia).patch(
        url, {"payout_method": "sepa", "payout_details": {"iban": "DE00 123"}}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "bad_payout_details"
    assert "iban" in str(bad.json()["fields"])
    good = api_as(pia).patch(
        url, {"payout_method": "sepa", "payout_details": {"iban": "de89370400440532013000"}}, format="json"
    )
    assert good.status_code == 200
    assert good.json()["payout_details"] == {"iban": "DE89370400440532013000"}


def test_the_api_refuses_a_method_change_that_leaves_the_old_methods_details(
    pixelpush: Publisher, pia: Any, api_as: Any
) -> None:
    Publisher.objects.filter(pk=pixelpush.pk).update(payout_details={"email": "pay@pixelpush.example"})
    response = api_as(pia).patch(
        f"/api/v1/publishers/{pixelpush.pk}/", {"payout_method": "ach"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_payout_details"


def test_the_marketplace_epc_follows_the_range_picked_with_its_change(
    as_pia: Client, shoes: Offer, pixelpush: Publisher
) -> None:
    shoes.visibility = Offer.Visibility.PUBLIC
    shoes.save()
    goal = shoes.goals.get(code="sale")
    today = timezone.now().date()
    first, last = today - timedelta(days=9), today - timedelta(days=3)  # a finished week
    for day, clicks, payout in [
        (first + timedelta(days=1), 100, Decimal("30.00")),  # in the week: EPC 0.30
        (first - timedelta(days=2), 100, Decimal("10.00")),  # the week before: EPC 0.10
        (today, 100, Decimal("99.00")),  # after the week
    ]:
        DailyOfferStat.objects.create(
            day=day,
            advertiser_id=shoes.advertiser_id,
            offer=shoes,
            publisher=pixelpush,
            goal=goal,
            currency="USD",
            gross_clicks=clicks,
            payout=payout,
        )
    query = f"range=custom&start={first}&end={last}"
    response = as_pia.get(f"/publisher/offers/?{query}")
    assert response.status_code == 200
    card = response.context["cards"][0]
    assert (card["epc"], card["epc_delta"].previous) == (Decimal("0.30"), Decimal("0.10"))
    page = response.content.decode()
    assert 'data-delta="epc"' in page
    assert "+0.20 (+200.0%)" in page
    assert f'value="{first}"' in page  # the picker keeps the custom range
    assert 'name="start" value="' in page  # and the filter form carries it
    # A preset and its own window; comparison off hides the change.
    today_only = as_pia.get("/publisher/offers/?range=today&compare=0")
    assert today_only.context["cards"][0]["epc"] == Decimal("0.99")
    assert 'data-delta="epc"' not in today_only.content.decode()
    refused = as_pia.get("/publisher/offers/?range=forever")
    assert refused.status_code == 400
    assert 'data-code="bad_range"' in refused.content.decode()
