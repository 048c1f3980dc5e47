"""The tracking-domain pages: a publisher or advertiser adds a domain, reads its token, verifies
and removes it (after a confirm step); staff list the domains they may see and act on them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.models import TrackingDomain
from affiliates.team_models import AccountAssignment, StaffMember, StaffRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from affiliates.tracking_domains import tracking_domain_create
from payouts import tracking_domains as verifying
from payouts.callbacks.client import Outcome
from tests.portal_pages import crawl, route_names, uncovered

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.mark.parametrize("who", ["pia", "ada"])
def test_a_member_adds_a_domain_and_reads_its_token(who, request) -> None:
    client = client_for(request.getfixturevalue(who))
    page = client.get("/tracking-domains/")
    assert page.status_code == 200
    assert "CNAME" in page.content.decode()
    added = client.post("/tracking-domains/", {"host": f"trk.{who}.example"}, follow=True)
    domain = TrackingDomain.objects.get()
    body = added.content.decode()
    assert f"trk.{who}.example added" in body
    assert domain.token in body
    assert "not verified" in body
    refused = client.post("/tracking-domains/", {"host": f"trk.{who}.example"})
    assert refused.status_code == 400
    assert "registered already" in refused.content.decode()


def test_verify_says_why_a_domain_is_not_verified_and_marks_one_that_answers(
    pia, pixelpush, monkeypatch
) -> None:
    domain = tracking_domain_create(host="trk.pixelpush.example", publisher_id=pixelpush.pk)
    client = client_for(pia)
    monkeypatch.setattr(
        verifying, "send", lambda **kw: Outcome(ok=False, error_code="http_status", error="HTTP 404.")
    )
    page = client.post(f"/tracking-domains/{domain.pk}/verify/", follow=True).content.decode()
    assert "trk.pixelpush.example is not verified" in page
    assert "HTTP 404." in page
    monkeypatch.setattr(
        verifying, "send", lambda **kw: Outcome(ok=True, status_code=200, excerpt=domain.token)
    )
    page = client.post(f"/tracking-domains/{domain.pk}/verify/", follow=True).content.decode()
    assert "trk.pixelpush.example is verified" in page
    domain.refresh_from_db()
    assert domain.verified_at is not None


def test_removing_a_domain_asks_first(pia, pixelpush) -> None:
    domain = tracking_domain_create(host="trk.pixelpush.example", publisher_id=pixelpush.pk)
    client = client_for(pia)
    asked = client.get(f"/tracking-domains/{domain.pk}/remove/")
    assert asked.status_code == 200
    assert "Tracking links stop being built on trk.pixelpush.example" in asked.content.decode()
    unticked = client.post(f"/tracking-domains/{domain.pk}/remove/", {"confirming": "1"})
    assert unticked.status_code == 400
    assert TrackingDomain.objects.filter(pk=domain.pk).exists()
    done = client.post(f"/tracking-domains/{domain.pk}/remove/", {"confirm": "yes"})
    assert (done.status_code, done["Location"]) == (302, "/tracking-domains/")
    assert not TrackingDomain.objects.exists()


def test_another_account_s_domain_is_not_found(pia, ada, acme) -> None:
    domain = tracking_domain_create(host="trk.acme.example", advertiser_id=acme.pk)
    client = client_for(pia)
    assert "trk.acme.example" not in client.get("/tracking-domains/").content.decode()
    assert client.get(f"/tracking-domains/{domain.pk}/remove/").status_code == 404
    assert client.post(f"/tracking-domains/{domain.pk}/verify/").status_code == 404


def test_staff_list_every_domain_add_one_and_remove_from_the_list(nadia, acme, pixelpush) -> None:
    tracking_domain_create(host="trk.acme.example", advertiser_id=acme.pk)
    tracking_domain_create(host="trk.pixelpush.example", publisher_id=pixelpush.pk)
    client = client_for(nadia)
    page = client.get("/staff/tracking-domains/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Acme Shoes" in body
    assert "PixelPush Media" in body
    searched = client.get("/staff/tracking-domains/", {"q": "acme"})
    assert [r.host for r in searched.context["table"].page] == ["trk.acme.example"]
    csv = client.get("/staff/tracking-domains/", {"format": "csv"})
    text = b"".join(csv.streaming_content).decode() if csv.streaming else csv.content.decode()
    assert "trk.acme.example" in text
    assert "Acme Shoes (advertiser)" in text
    client.post("/staff/tracking-domains/", {"host": "trk.network.example"})
    assert TrackingDomain.objects.get(host="trk.network.example").owner == "network"
    domain = TrackingDomain.objects.get(host="trk.acme.example")
    back = "/staff/tracking-domains/?q=acme"
    done = client.post(f"/tracking-domains/{domain.pk}/remove/", {"confirm": "yes", "next": back})
    assert done["Location"] == back


def test_an_account_manager_sees_and_adds_only_their_accounts_domains(acme, globex) -> None:
    manager = f.UserFactory(username="amy", is_staff=True)
    StaffMember.objects.create(user=manager, role=StaffRole.ACCOUNT_MANAGER)
    AccountAssignment.objects.create(manager=manager, advertiser=acme)
    tracking_domain_create(host="trk.acme.example", advertiser_id=acme.pk)
    theirs = tracking_domain_create(host="trk.globex.example", advertiser_id=globex.pk)
    tracking_domain_create(host="trk.network.example")
    client = client_for(manager)
    page = client.get("/staff/tracking-domains/")
    assert [r.host for r in page.context["table"].page] == ["trk.acme.example"]
    assert [a.name for a in page.context["form"].fields["advertiser"].queryset] == ["Acme Shoes"]
    assert client.get(f"/tracking-domains/{theirs.pk}/remove/").status_code == 404
    client.post("/staff/tracking-domains/", {"host": "trk2.network.example"})
    assert not TrackingDomain.objects.filter(host="trk2.network.example").exists()  # admins only


def test_the_page_crawl_classifies_every_tracking_domain_route(pia, nadia, pixelpush) -> None:
    """What tests/portal_pages.py's crawl (the accessibility sweep's page list) finds for these
    routes: the pages swept, verify an action, the remove confirm a page."""
    tracking_domain_create(host="trk.pixelpush.example", publisher_id=pixelpush.pk)
    names = {n: r for n, r in route_names().items() if "tracking-domain" in n}
    assert len(names) == 4
    crawls = [crawl(client_for(user), role, names) for role, user in (("publisher", pia), ("staff", nadia))]
    assert uncovered(crawls, names) == []
    publisher, staff = crawls
    assert set(publisher.pages) == {
        "payouts_portal:tracking-domains",
        "payouts_portal:tracking-domain-remove",
    }
    assert set(publisher.actions) == {"payouts_portal:tracking-domain-verify"}
    assert "payouts_portal:staff-tracking-domains" in staff.pages
