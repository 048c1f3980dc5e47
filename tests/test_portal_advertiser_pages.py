"""Advertiser pages: removing a publisher from an offer (confirmed, audited, the publisher told),
goal codes that live postbacks use, the integration page's real goals, the token rotation's
confirmation; and the sign-up decision e-mails sent from the staff queue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from affiliates.core.audit import AuditEntry
from affiliates.models import Goal, Offer, OfferAccess, Publisher
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from tests.portal_data import conversion_make
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_ada(ada: Any) -> Client:
    return sign_in(Client(), ada)


def _to(address: str) -> list[Any]:
    return [m for m in mail.outbox if m.to == [address]]


# --- remove a publisher from an offer -------------------------------------------------------


def test_removing_a_publisher_asks_for_confirmation_first(as_ada: Client, shoes_link: OfferAccess) -> None:
    url = f"/advertiser/access/{shoes_link.pk}/remove/"
    page = as_ada.get(url).content.decode()
    assert "Remove PixelPush Media from Acme Shoes - Summer Sale?" in page
    refused = as_ada.post(url, {"note": "no box ticked"})
    assert "Tick the box to confirm." in refused.content.decode()
    shoes_link.refresh_from_db()
    assert shoes_link.status == OfferAccess.Status.APPROVED


def test_a_confirmed_removal_revokes_access_logs_it_and_tells_the_publisher(
    as_ada: Client, shoes_link: OfferAccess, pia: Any, ada: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert (
        f"/advertiser/access/{shoes_link.pk}/remove/"
        in as_ada.get("/advertiser/publishers/").content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = as_ada.post(
            f"/advertiser/access/{shoes_link.pk}/remove/", {"confirm": "on", "note": "Brand bidding seen"}
        )
    assert response.status_code == 302
    shoes_link.refresh_from_db()
    assert (shoes_link.status, shoes_link.decided_by) == (OfferAccess.Status.REJECTED, ada)
    [email] = _to(pia.email)
    assert email.subject == "Removed from Acme Shoes - Summer Sale"
    assert "Brand bidding seen" in email.body
    entries = AuditEntry.objects.filter(content_type__model="offeraccess", object_pk=str(shoes_link.pk))
    assert ["approved", "rejected"] in [e.changes_dict.get("status") for e in entries]


def test_another_advertisers_access_cannot_be_removed(gus: Any, shoes_link: OfferAccess) -> None:
    client = sign_in(Client(), gus)
    assert client.post(f"/advertiser/access/{shoes_link.pk}/remove/", {"confirm": "on"}).status_code == 404


def test_the_api_revokes_once_and_then_answers_409(ada: Any, api_as: Any, shoes_link: OfferAccess) -> None:
    first = api_as(ada).post(f"/api/v1/accesses/{shoes_link.pk}/revoke/", {"note": "x"}, format="json")
    assert (first.status_code, first.json()["status"]) == (200, "rejected")
    again = api_as(ada).post(f"/api/v1/accesses/{shoes_link.pk}/revoke/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "not_approved")


# --- goal codes live postbacks use ----------------------------------------------------------


@pytest.fixture
def sale_with_conversion(shoes_link: OfferAccess) -> Goal:
    conversion_make(click=click_make(shoes_link.offer, shoes_link.publisher))
    return shoes_link.offer.goals.get(code="sale")


def test_the_api_refuses_to_rename_a_goal_with_conversions(
    ada: Any, api_as: Any, shoes: Offer, sale_with_conversion: Goal
) -> None:
    goals = [
        {
            "id": g.pk,
            "code": "purchase" if g.code == "sale" else g.code,
            "name": g.name,
            "payout_type": g.payout_type,
            "payout": str(g.payout),
            "revenue": str(g.revenue),
        }
        for g in shoes.goals.order_by("id")
    ]
    response = api_as(ada).patch(f"/api/v1/offers/{shoes.pk}/", {"goals": goals}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "goal_code_in_use"
    assert "live postbacks send goal=sale" in response.json()["message"]
    assert shoes.goals.filter(code="sale").exists()


def test_a_goal_without_conversions_may_be_renamed(ada: Any, api_as: Any, shoes: Offer) -> None:
    lead = shoes.goals.get(code="lead")
    response = api_as(ada).patch(f"/api/v1/goals/{lead.pk}/", {"code": "signup"}, format="json")
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.code == "signup"


def test_the_offer_form_shows_why_a_used_goal_code_cannot_change(
    as_ada: Client, shoes: Offer, sale_with_conversion: Goal
) -> None:
    page = as_ada.get(f"/advertiser/offers/{shoes.pk}/")
    form = page.context["goals"]
    data = {k: v for k, v in _form_data(page.context["form"]).items()}
    for fs_name in ("goals", "caps", "creatives"):
        data.update(_formset_data(page.context[fs_name]))
    index = next(i for i, g in enumerate(form.forms) if g.instance.code == "sale")
    data[f"goals-{index}-code"] = "purchase"
    response = as_ada.post(f"/advertiser/offers/{shoes.pk}/", data)
    assert response.status_code == 200
    assert "cannot change. Add a new goal with the new code instead." in response.content.decode()
    assert shoes.goals.filter(code="sale").exists()


def _form_data(form: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        key = form.add_prefix(name)
        if isinstance(value, list):
            if value:
                out[key] = value
        elif isinstance(value, bool):
            if value:
                out[key] = "on"
        elif value is not None:
            out[key] = field.prepare_value(value) if hasattr(field, "prepare_value") else value
    return out


def _formset_data(formset: Any) -> dict[str, Any]:
    data = {k: v for k, v in _form_data(formset.management_form).items()}
    for form in formset.forms:
        if form.instance.pk:
            data.update(_form_data(form))
    data[formset.add_prefix("TOTAL_FORMS")] = str(sum(1 for x in formset.forms if x.instance.pk))
    return data


# --- the integration page -------------------------------------------------------------------


def test_the_integration_page_gives_a_postback_url_per_goal_of_the_chosen_offer(
    as_ada: Client, shoes: Offer, acme: Any
) -> None:
    other = f.OfferFactory(advertiser=acme, name="Acme Insurance")
    f.GoalFactory(
        offer=other, code="quote", name="Quote", payout_type="cpl", payout=Decimal("5"), is_default=True
    )
    page = as_ada.get(f"/advertiser/integration/?offer={shoes.pk}").content.decode()
    assert 'data-goal="sale"' in page
    assert 'data-goal="lead"' in page
    assert "goal=sale&amp;amount={order_total}&amp;currency=USD" in page  # CPS asks for the amount
    assert "goal=lead&amp;txn_id={order_id}" in page
    assert 'data-goal="quote"' not in page
    other_page = as_ada.get(f"/advertiser/integration/?offer={other.pk}").content.decode()
    assert 'data-goal="quote"' in other_page
    assert 'data-goal="sale"' not in other_page


def test_rotating_the_token_needs_the_box_ticked(as_ada: Client, acme: Any) -> None:
    digest = acme.postback_token_digest
    refused = as_ada.post("/advertiser/integration/", {"do": "rotate"}, follow=True)
    assert "Tick the box to confirm" in refused.content.decode()
    acme.refresh_from_db()
    assert acme.postback_token_digest == digest
    as_ada.post("/advertiser/integration/", {"do": "rotate", "confirm_rotate": "1"})
    acme.refresh_from_db()
    assert acme.postback_token_digest != digest


# --- sign-up decisions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "subject"),
    [
        ("active", "Your publisher account is approved"),
        ("rejected", "Your publisher application was not approved"),
    ],
)
def test_the_staff_queue_decision_sends_the_promised_email(
    nadia: Any, status: str, subject: str, django_capture_on_commit_callbacks: Any
) -> None:
    publisher = f.PublisherFactory(status=Publisher.Status.PENDING)
    applicant = f.UserFactory(username="hopeful")
    publisher.members.add(applicant)
    client = sign_in(Client(), nadia)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staff/publishers/{publisher.pk}/decide/", {"status": status})
    assert [m.subject for m in _to("hopeful@example.com")] == [subject]
