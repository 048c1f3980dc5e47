"""Notifications: in-app and e-mail, as each person chose, for the affiliates app's events."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from affiliates import services, tasks
from affiliates.models import Offer, OfferAccess, Publisher
from affiliates.notifications import Kind, Notification, NotificationEmail
from affiliates.notify import notification_preferences_update, notify
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db

SIGNUP = {
    "company": "Blue Coupons",
    "email": "owner@blue.example",
    "website": "blue.example",
    "traffic": "coupons",
    "password1": "Sunny-Meadow-2024",
    "password2": "Sunny-Meadow-2024",
}


def _to(address: str) -> list[Any]:
    return [m for m in mail.outbox if m.to == [address]]


def test_an_email_has_a_plain_text_and_an_html_part_and_links_to_the_preferences(
    pia: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            kind=Kind.PAYOUT_PAID, recipients=[pia], title="Payout sent", body="100 USD", link="/publisher/"
        )
    [message] = mail.outbox
    assert message.subject == "Payout sent"
    assert "100 USD" in message.body
    assert "http://testserver/publisher/" in message.body or "/publisher/" in message.body
    assert "/account/notifications/settings/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<h1" in html
    assert "Payout sent" in html
    assert NotificationEmail.objects.get().status == NotificationEmail.Status.SENT
    assert Notification.objects.get(recipient=pia).kind == Kind.PAYOUT_PAID


def test_a_kind_switched_off_by_email_still_shows_in_the_bell(
    pia: Any, django_capture_on_commit_callbacks: Any
) -> None:
    notification_preferences_update(user=pia, choices=[(Kind.PAYOUT_PAID, "email", False)])
    with django_capture_on_commit_callbacks(execute=True):
        reached = notify(kind=Kind.PAYOUT_PAID, recipients=[pia], title="Payout sent")
    assert reached == 1
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=pia).count() == 1


def test_a_kind_switched_off_everywhere_reaches_nobody(
    pia: Any, django_capture_on_commit_callbacks: Any
) -> None:
    off = [(Kind.PAYOUT_PAID, "email", False), (Kind.PAYOUT_PAID, "in_app", False)]
    notification_preferences_update(user=pia, choices=off)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(kind=Kind.PAYOUT_PAID, recipients=[pia], title="Payout sent") == 0
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_an_event_with_a_key_is_announced_once(pia: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=Kind.CAP_NEAR, recipients=[pia], title="Cap at 80 %", key="cap_near:1:2026-12-04:offer")
        notify(kind=Kind.CAP_NEAR, recipients=[pia], title="Cap at 80 %", key="cap_near:1:2026-12-04:offer")
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_a_failing_mail_server_is_retried_and_the_email_stays_owed(pia: Any, monkeypatch: Any) -> None:
    def refuse(self: Any, *args: Any, **kwargs: Any) -> None:
        raise smtplib.SMTPServerDisconnected("gone")

    notify(kind=Kind.PAYOUT_PAID, recipients=[pia], title="Payout sent")  # not committed: not sent yet
    email = NotificationEmail.objects.get()
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    # Called directly, Celery's retry re-raises the error; in a worker it schedules the retry.
    with pytest.raises(smtplib.SMTPServerDisconnected):
        tasks.notification_email_send.run(email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("pending", 1, "gone")
    monkeypatch.undo()
    tasks.notification_email_send.run(email.pk)  # the retry
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_signing_up_tells_the_applicant_and_staff_and_approval_emails_the_promised_welcome(
    nadia: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post("/signup/", SIGNUP).status_code == 302
    [received] = _to("owner@blue.example")
    assert "received your application" in received.subject
    assert "New publisher sign-up: Blue Coupons" in _to("nadia@example.com")[0].subject
    publisher = Publisher.objects.get(email="owner@blue.example")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.publisher_transition(publisher=publisher, action="approve", by=nadia)
    [approved] = _to("owner@blue.example")
    assert approved.subject == "Your publisher account is approved"
    assert "/publisher/" in approved.body


def test_a_rejected_applicant_is_told(nadia: Any, django_capture_on_commit_callbacks: Any) -> None:
    publisher = f.PublisherFactory(status=Publisher.Status.PENDING)
    user = f.UserFactory(username="hopeful")
    publisher.members.add(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.publisher_transition(publisher=publisher, action="reject", by=nadia)
    assert Notification.objects.get(recipient=user).kind == Kind.SIGNUP_DECIDED
    assert "not approved" in _to("hopeful@example.com")[0].subject


def test_an_access_request_tells_the_advertiser_and_the_decision_tells_the_publisher(
    shoes: Offer, pixelpush: Publisher, pia: Any, ada: Any, django_capture_on_commit_callbacks: Any
) -> None:
    shoes.visibility = Offer.Visibility.APPROVAL
    shoes.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.access_apply(offer=shoes, publisher=pixelpush, note="Coupon site, 20k visits")
    request = Notification.objects.get(recipient=ada)
    assert (request.kind, request.body) == (Kind.ACCESS_REQUESTED, "Coupon site, 20k visits")
    assert "PixelPush Media asks to run" in _to("ada@example.com")[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        services.access_decide(offer=shoes, publisher=pixelpush, status=OfferAccess.Status.APPROVED, by=ada)
    decided = Notification.objects.get(recipient=pia)
    assert decided.kind == Kind.ACCESS_DECIDED
    assert decided.title == f"Approved: {shoes.name}"


def test_pausing_an_offer_tells_only_the_publishers_running_it(
    shoes: Offer, shoes_link: OfferAccess, pia: Any, rex: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.offer_update(offer=shoes, status=Offer.Status.PAUSED)
    note = Notification.objects.get(recipient=pia)
    assert (note.kind, note.title) == (Kind.OFFER_PAUSED, f"Offer paused: {shoes.name}")
    assert not Notification.objects.filter(recipient=rex).exists()
    assert [m.to for m in mail.outbox] == [["pia@example.com"]]


def test_changing_an_offers_landing_page_tells_its_publishers_what_changed(
    shoes: Offer, shoes_link: OfferAccess, pia: Any
) -> None:
    services.offer_update(offer=shoes, landing_url="https://shoes.example.com/new?cid={click_id}")
    note = Notification.objects.get(recipient=pia)
    assert note.kind == Kind.OFFER_CHANGED
    assert "landing url" in note.body
    services.offer_update(offer=shoes, description="Typo fixed")
    assert Notification.objects.filter(recipient=pia).count() == 1  # not worth telling


def test_the_api_lists_and_changes_the_callers_preferences(api_as: Any, pia: Any) -> None:
    client = api_as(pia)
    rows = client.get("/api/v1/notification-preferences/").json()
    kinds = {row["kind"]: row for row in rows}
    assert kinds["payout_paid"] == {
        "kind": "payout_paid",
        "label": "Payout paid",
        "in_app": True,
        "email": True,
    }
    assert "invoice_issued" not in kinds  # publishers are not invoiced
    answer = client.patch(
        "/api/v1/notification-preferences/", [{"kind": "payout_paid", "email": False}], format="json"
    )
    assert answer.status_code == 200
    assert {r["kind"]: r for r in answer.json()}["payout_paid"]["email"] is False
    refused = client.patch(
        "/api/v1/notification-preferences/", [{"kind": "invoice_issued", "email": False}], format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"


def test_the_api_lists_the_callers_notifications_and_marks_them_read(api_as: Any, pia: Any, rex: Any) -> None:
    notify(kind=Kind.PAYOUT_PAID, recipients=[pia], title="Yours")
    notify(kind=Kind.PAYOUT_PAID, recipients=[rex], title="Not yours")
    client = api_as(pia)
    assert [n["title"] for n in client.get("/api/v1/notifications/").json()] == ["Yours"]
    assert client.post("/api/v1/notifications/read/").json() == {"marked": 1}


def test_the_settings_page_saves_each_checkbox(pia: Any, ada: Any) -> None:
    client = Client()
    sign_in(client, pia)
    page = client.get("/account/notifications/settings/")
    assert page.status_code == 200
    assert b"Postback endpoint failing" in page.content
    every = [f"{row['kind']}:{ch}" for row in page.context["rows"] for ch in ("in_app", "email")]
    kept = [v for v in every if v != "offer_changed:email"]
    assert client.post("/account/notifications/settings/", {"on": kept}).status_code == 302
    rows = {r["kind"]: r for r in client.get("/account/notifications/settings/").context["rows"]}
    assert rows["offer_changed"]["email"] is False
    assert rows["offer_changed"]["in_app"] is True


def test_approving_from_the_staff_queue_emails_the_applicant_once(
    nadia: Any, django_capture_on_commit_callbacks: Any
) -> None:
    publisher = f.PublisherFactory(status=Publisher.Status.PENDING)
    publisher.members.add(f.UserFactory(username="queued"))
    with django_capture_on_commit_callbacks(execute=True):
        services.publisher_set_status(publisher=publisher, status=Publisher.Status.ACTIVE, by=nadia)
        services.publisher_set_status(publisher=publisher, status=Publisher.Status.ACTIVE, by=nadia)
    assert [m.subject for m in _to("queued@example.com")] == ["Your publisher account is approved"]
