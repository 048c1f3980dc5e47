"""/api/v1/tracking-domains/: members manage their account's domains, staff those of the accounts
they see (the network's own: admins), each refusal a 4xx with a code; verifying fetches the host
through the SSRF-safe client, never a private address."""

from __future__ import annotations

from typing import Any

import pytest

from affiliates.models import TrackingDomain
from affiliates.team_models import AccountAssignment, AdvertiserMember, StaffMember, StaffRole, TeamRole
from affiliates.tests import factories as f
from affiliates.tracking_domains import tracking_domain_create
from affiliates.tracking_domains_access import DOMAINS_PER_ACCOUNT
from payouts import tracking_domains as verifying
from payouts.callbacks import addresses
from payouts.callbacks.client import Outcome

pytestmark = pytest.mark.django_db
URL = "/api/v1/tracking-domains/"


def staff_as(role: str) -> Any:
    user = f.UserFactory(username=f"staff-{role}", is_staff=True)
    StaffMember.objects.create(user=user, role=role)
    return user


def test_a_publisher_adds_reads_and_removes_its_own_domain(api_as, pia, pixelpush) -> None:
    client = api_as(pia)
    made = client.post(URL, {"host": "TRK.PixelPush.example."}, format="json")
    assert made.status_code == 201
    body = made.json()
    assert (body["host"], body["owner"], body["publisher"], body["status"]) == (
        "trk.pixelpush.example",
        "publisher",
        pixelpush.pk,
        "pending",
    )
    assert body["well_known_url"] == "http://trk.pixelpush.example/.well-known/affnet-tracking-domain"
    assert len(body["token"]) >= 32
    assert [d["host"] for d in client.get(URL).json()["results"]] == ["trk.pixelpush.example"]
    assert client.delete(f"{URL}{body['id']}/").status_code == 204
    assert not TrackingDomain.objects.exists()


def test_a_member_cannot_add_for_another_account_nor_see_one(api_as, pia, ada, acme, rival) -> None:
    # A member's domain is its own account's, whatever owner it names.
    made = api_as(ada).post(URL, {"host": "trk.acme.example", "publisher": rival.pk}, format="json")
    assert made.status_code == 201
    assert (made.json()["owner"], made.json()["advertiser"]) == ("advertiser", acme.pk)
    theirs = made.json()["id"]
    pia_client = api_as(pia)
    assert pia_client.get(URL).json()["results"] == []
    assert pia_client.get(f"{URL}{theirs}/").status_code == 404
    assert pia_client.post(f"{URL}{theirs}/verify/").status_code == 404
    assert pia_client.delete(f"{URL}{theirs}/").status_code == 404


@pytest.mark.parametrize(
    ("host", "code"),
    [("not a host", "bad_host"), ("testserver.example", None), ("localhost", "bad_host")],
)
def test_bad_hosts_are_a_400_with_a_code(api_as, pia, host, code) -> None:
    answer = api_as(pia).post(URL, {"host": host}, format="json")
    if code is None:
        assert answer.status_code == 201
        assert api_as(pia).post(URL, {"host": host}, format="json").json()["code"] == "host_taken"
    else:
        assert (answer.status_code, answer.json()["code"]) == (400, code)


def test_an_account_has_a_bounded_number_of_domains(api_as, pia) -> None:
    client = api_as(pia)
    for n in range(DOMAINS_PER_ACCOUNT):
        assert client.post(URL, {"host": f"t{n}.pixelpush.example"}, format="json").status_code == 201
    refused = client.post(URL, {"host": "one-more.pixelpush.example"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "too_many_domains")


def test_read_only_members_read_but_may_not_write(api_as, acme) -> None:
    viewer = f.UserFactory(username="acme-viewer")
    AdvertiserMember.objects.create(advertiser=acme, user=viewer, role=TeamRole.READ_ONLY)
    client = api_as(viewer)
    assert client.get(URL).status_code == 200
    refused = client.post(URL, {"host": "trk.acme.example"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "role_not_allowed")


def test_staff_add_for_an_account_and_only_admins_for_the_network(api_as, nadia, acme, globex) -> None:
    admin = api_as(nadia)
    network = admin.post(URL, {"host": "trk.network.example"}, format="json")
    assert (network.status_code, network.json()["owner"]) == (201, "network")
    manager = staff_as(StaffRole.ACCOUNT_MANAGER)
    AccountAssignment.objects.create(manager=manager, advertiser=acme)
    client = api_as(manager)
    ours = client.post(URL, {"host": "trk.acme.example", "advertiser": acme.pk}, format="json")
    assert ours.status_code == 201
    other = client.post(URL, {"host": "trk.globex.example", "advertiser": globex.pk}, format="json")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    own_network = client.post(URL, {"host": "trk2.network.example"}, format="json")
    assert (own_network.status_code, own_network.json()["code"]) == (403, "role_not_allowed")
    # Their list: their account's domain, never the network's.
    assert [d["host"] for d in client.get(URL).json()["results"]] == ["trk.acme.example"]
    finance = api_as(staff_as(StaffRole.FINANCE))
    refused = finance.post(URL, {"host": "trk.x.example", "advertiser": acme.pk}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "role_not_allowed")


def test_verify_marks_a_domain_that_answers_its_token(api_as, pia, pixelpush, monkeypatch) -> None:
    domain = tracking_domain_create(host="trk.pixelpush.example", publisher_id=pixelpush.pk)
    asked: list[str] = []

    def answer(*, method: str, url: str, timeout: float) -> Outcome:
        asked.append(url)
        return Outcome(ok=True, status_code=200, excerpt=domain.token + "\n")

    monkeypatch.setattr(verifying, "send", answer)
    verified = api_as(pia).post(f"{URL}{domain.pk}/verify/")
    assert verified.status_code == 200
    assert verified.json()["status"] == "verified"
    assert asked == ["http://trk.pixelpush.example/.well-known/affnet-tracking-domain"]


def test_verify_never_fetches_a_private_address(api_as, pia, pixelpush, monkeypatch) -> None:
    domain = tracking_domain_create(host="trk.pixelpush.example", publisher_id=pixelpush.pk)
    monkeypatch.setattr(
        addresses, "_getaddrinfo", lambda host, port, **kw: [(2, 1, 6, "", ("169.254.169.254", port))]
    )
    refused = api_as(pia).post(f"{URL}{domain.pk}/verify/")
    assert (refused.status_code, refused.json()["code"]) == (400, "domain_unverified")
    domain.refresh_from_db()
    assert domain.verified_at is None


def test_the_schema_documents_the_endpoints() -> None:
    from django.test import Client

    paths = Client().get("/api/schema/", {"format": "json"}).json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/tracking-domains/"])
    assert {"get", "delete"} <= set(paths["/api/v1/tracking-domains/{id}/"])
    assert "post" in paths["/api/v1/tracking-domains/{id}/verify/"]


def test_a_suspended_account_adds_no_domain(api_as, pia, pixelpush) -> None:
    pixelpush.status = "suspended"
    pixelpush.save(update_fields=["status"])
    refused = api_as(pia).post(URL, {"host": "trk.pixelpush.example"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "account_suspended")
    assert not TrackingDomain.objects.exists()
