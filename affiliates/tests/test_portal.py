"""Affiliate portal pages: sign-up, password reset, marketplace, offer editing, decisions, charts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client

from affiliates.models import Goal, Offer, OfferAccess, Publisher
from affiliates.portal.charts import Series, axis_max, bar_line_chart
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_sign_up_creates_a_pending_publisher_with_its_first_user(db):
    response = Client().post(
        "/signup/",
        {
            "company": "Blue Coupons",
            "email": "Owner@Blue.example",
            "website": "blue.example",
            "traffic": "coupons",
            "password1": "Sunny-Meadow-2024",
            "password2": "Sunny-Meadow-2024",
        },
    )
    assert response.status_code == 302
    publisher = Publisher.objects.get(email="owner@blue.example")
    assert publisher.status == Publisher.Status.PENDING
    assert publisher.website == "https://blue.example"
    assert publisher.members.get().username == "owner@blue.example"


def test_sign_up_refuses_a_taken_email_and_a_weak_password(db):
    f.UserFactory(username="taken@example.com")
    response = Client().post(
        "/signup/",
        {"company": "X", "email": "taken@example.com", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "email" in errors
    assert "password1" in errors
    assert Publisher.objects.count() == 0


def test_password_reset_emails_a_working_link(pia):
    pia.email = "pia@pixelpush.example"
    pia.save()
    Client().post("/password-reset/", {"email": "pia@pixelpush.example"})
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line)
    client = Client()
    set_url = client.get(link.split("testserver")[1], follow=True).redirect_chain[-1][0]
    response = client.post(
        set_url, {"new_password1": "Brand-New-Pass-42", "new_password2": "Brand-New-Pass-42"}
    )
    assert response.status_code == 302
    assert Client().login(username="pia", password="Brand-New-Pass-42")


def test_the_marketplace_filters_by_country_and_payout_type(pia, acme):
    us = f.OfferFactory(advertiser=acme, name="US only", target_countries=["US"], visibility="public")
    f.GoalFactory(offer=us, payout_type="cpl", is_default=True)
    world = f.OfferFactory(advertiser=acme, name="Worldwide", visibility="public")
    f.GoalFactory(offer=world, payout_type="cps", payout=Decimal("5"), revenue=Decimal("8"), is_default=True)
    client = client_for(pia)
    names = lambda r: {o.name for o in r.context["offers"]}  # noqa: E731
    assert names(client.get("/publisher/offers/?country=de")) == {"Worldwide"}
    assert names(client.get("/publisher/offers/?country=US")) == {"US only", "Worldwide"}
    assert names(client.get("/publisher/offers/?payout_type=cpl")) == {"US only"}


def _offer_post(offer, **goal_overrides):
    goals = list(offer.goals.order_by("id"))
    data = {
        "name": offer.name,
        "status": "active",
        "visibility": "approval",
        "landing_url": offer.landing_url,
        "currency": "USD",
        "attribution_window_days": 30,
        "attribution_model": "last_click",
        "hold_days": 0,
        "unique_click_window_hours": 24,
        "slow_conversion_action": "reject",
        "goals-TOTAL_FORMS": len(goals),
        "goals-INITIAL_FORMS": len(goals),
        "goals-MIN_NUM_FORMS": 1,
        "goals-MAX_NUM_FORMS": 1000,
        "caps-TOTAL_FORMS": 0,
        "caps-INITIAL_FORMS": 0,
        "creatives-TOTAL_FORMS": 0,
        "creatives-INITIAL_FORMS": 0,
    }
    for i, g in enumerate(goals):
        data.update(
            {
                f"goals-{i}-id": g.pk,
                f"goals-{i}-code": g.code,
                f"goals-{i}-name": g.name,
                f"goals-{i}-payout_type": g.payout_type,
                f"goals-{i}-payout": g.payout,
                f"goals-{i}-revenue": g.revenue,
            }
        )
        if g.is_default:
            data[f"goals-{i}-is_default"] = "on"
    data.update(goal_overrides)
    return data


def test_moving_the_default_goal_keeps_exactly_one_default(ada, shoes):
    data = _offer_post(shoes)
    data.pop("goals-0-is_default")
    data["goals-1-is_default"] = "on"
    response = client_for(ada).post(f"/advertiser/offers/{shoes.pk}/", data)
    assert response.status_code == 302
    assert list(shoes.goals.filter(is_default=True).values_list("code", flat=True)) == ["lead"]


def test_the_advertiser_sets_changes_and_clears_the_effect_score_target(ada, shoes):
    # Read through the offer's reverse accessor: affiliates' tests import nothing above affiliates.
    client = client_for(ada)
    url = f"/advertiser/offers/{shoes.pk}/"
    data = _offer_post(shoes, **{"target-conversions": "120", "target-period": "week"})
    assert client.post(url, data).status_code == 302
    target = Offer.objects.get(pk=shoes.pk).target
    assert (target.conversions, target.period, target.updated_by) == (120, "week", ada)
    assert client.get(url).context["target"].initial == {"conversions": 120, "period": "week"}

    refused = client.post(url, _offer_post(shoes, **{"target-conversions": "0", "target-period": "week"}))
    assert refused.status_code == 200
    assert "conversions" in refused.context["target"].errors
    assert Offer.objects.get(pk=shoes.pk).target.conversions == 120  # nothing half-saved

    assert client.post(url, _offer_post(shoes)).status_code == 302  # no target fields: kept
    assert Offer.objects.filter(pk=shoes.pk, target__isnull=False).exists()
    cleared = _offer_post(shoes, **{"target-conversions": "", "target-period": "month"})
    assert client.post(url, cleared).status_code == 302
    assert not Offer.objects.filter(pk=shoes.pk, target__isnull=False).exists()


def test_a_cps_goal_over_100_percent_is_refused_with_the_field_error(ada, shoes):
    response = client_for(ada).post(
        f"/advertiser/offers/{shoes.pk}/", _offer_post(shoes, **{"goals-0-payout": "150"})
    )
    assert response.status_code == 200
    assert Goal.objects.get(offer=shoes, code="sale").payout == Decimal("8")


def test_an_advertiser_approves_an_access_request_for_its_offer(ada, shoes, rival):
    request = OfferAccess.objects.create(offer=shoes, publisher=rival, note="email list")
    response = client_for(ada).post(f"/advertiser/access/{request.pk}/decide/", {"decision": "approved"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == OfferAccess.Status.APPROVED
    assert request.decided_by == ada


def test_staff_reject_a_pending_publisher(nadia):
    pending = f.PublisherFactory(status="pending")
    client_for(nadia).post(f"/staff/publishers/{pending.pk}/decide/", {"status": "rejected"})
    pending.refresh_from_db()
    assert pending.status == Publisher.Status.REJECTED
    assert pending.status_changed_by == nadia


@pytest.mark.parametrize(
    ("values", "top"), [([0, 0], 4.0), ([1, 2], 4.0), ([7], 8.0), ([130], 200.0), ([Decimal("0.3")], 0.4)]
)
def test_count_axes_get_whole_number_ticks(values, top):
    assert axis_max(values) == top


def test_the_chart_is_an_accessible_svg_with_every_value_in_titles():
    svg = bar_line_chart(
        title="Clicks <per> day",
        labels=["Nov 01", "Nov 02"],
        bars=Series("clicks", [3, 5]),
        line=Series("c", [1, 0]),
    )
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert "Clicks &lt;per&gt; day" in svg
    assert "clicks: total 8 over 2 days." in svg
    assert "Nov 02: 5 clicks" in svg


@pytest.mark.parametrize("persona", ["pia", "ada", "nadia"])
def test_every_portal_user_can_change_their_password(request, persona):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    page = client.get("/account/password/")
    assert page.status_code == 200
    assert b"Change password" in page.content
    response = client.post(
        "/account/password/",
        {
            "old_password": "pass-word-123",
            "new_password1": "Fresh-Orbit-7731",
            "new_password2": "Fresh-Orbit-7731",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Fresh-Orbit-7731")
    # This session stays signed in; the old password no longer works.
    assert client.get(response["Location"], follow=True).status_code == 200
    assert "_auth_user_id" in client.session
    assert not Client().login(username=user.username, password="pass-word-123")


def test_a_password_change_needs_the_old_password_and_a_strong_new_one(pia):
    client = client_for(pia)
    wrong_old = client.post(
        "/account/password/",
        {"old_password": "guess", "new_password1": "Fresh-Orbit-7731", "new_password2": "Fresh-Orbit-7731"},
    )
    assert wrong_old.status_code == 200
    assert "old_password" in wrong_old.context["form"].errors
    weak = client.post(
        "/account/password/",
        {"old_password": "pass-word-123", "new_password1": "123", "new_password2": "123"},
    )
    assert "new_password2" in weak.context["form"].errors
    pia.refresh_from_db()
    assert pia.check_password("pass-word-123")


def test_other_sessions_are_signed_out_by_a_password_change(pia):
    other = client_for(pia)
    assert other.get("/publisher/").status_code == 200
    client_for(pia).post(
        "/account/password/",
        {
            "old_password": "pass-word-123",
            "new_password1": "Fresh-Orbit-7731",
            "new_password2": "Fresh-Orbit-7731",
        },
    )
    assert other.get("/publisher/").status_code == 302


def test_signed_out_visitors_are_sent_to_log_in_for_a_password_change(db):
    response = Client().get("/account/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
