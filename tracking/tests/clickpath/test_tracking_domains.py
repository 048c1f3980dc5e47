"""Custom tracking domains (issue 16): links rendered on the owner's verified domain, clicks
served on it, other parties' links and unknown or unverified hosts refused with a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from affiliates.core.errors import DomainError
from affiliates.tests import factories as f
from affiliates.tracking_domains import (
    WELL_KNOWN_PATH,
    TrackingDomain,
    tracking_domain_create,
    tracking_domain_verify,
)
from tracking.models import Click

pytestmark = pytest.mark.django_db(transaction=True)  # the edge sees committed rows only

PUB_HOST = "trk.pixelpush.example"


def verified(**owner: Any) -> TrackingDomain:
    domain = tracking_domain_create(**owner)
    TrackingDomain.objects.filter(pk=domain.pk).update(verified_at="2026-01-01T00:00:00Z")
    domain.refresh_from_db()
    domain.save()  # as the admin's save: the caches drop their copy
    return domain


def click_on(edge: Any, host: str, token: str) -> Any:
    return edge.get(f"/c/{token}", HTTP_HOST=host)


def test_a_publishers_links_render_on_its_verified_domain(settings, shoes_link, pixelpush):
    settings.SITE_URL = "https://track.network.example"
    assert shoes_link.tracking_url() == f"https://track.network.example/c/{shoes_link.token}"
    domain = tracking_domain_create(host="TRK.PixelPush.example.", publisher_id=pixelpush.pk)
    assert domain.host == PUB_HOST
    assert shoes_link.tracking_url().startswith("https://track.network.example/")  # not verified yet
    verified(host="trk.network-default.example")
    assert shoes_link.tracking_url() == f"https://trk.network-default.example/c/{shoes_link.token}"
    domain.verified_at = timezone.now()
    domain.save()
    assert shoes_link.tracking_url() == f"https://{PUB_HOST}/c/{shoes_link.token}"


def test_an_advertisers_domain_renders_its_offers_links_and_the_api_shows_them(api_as, acme, ada, shoes_link):
    verified(host="go.acme.example", advertiser_id=acme.pk)
    response = api_as(ada).get("/api/v1/links/")
    assert response.status_code == 200
    urls = [row["url"] for row in response.json()["results"]]
    assert urls == [f"http://go.acme.example/c/{shoes_link.token}"]


def test_a_domain_is_verified_by_its_well_known_token_served_by_the_edge(edge, pixelpush):
    domain = tracking_domain_create(host=PUB_HOST, publisher_id=pixelpush.pk)

    def fetch(url: str) -> str:
        assert url == f"http://{PUB_HOST}{WELL_KNOWN_PATH}"
        return edge.get(WELL_KNOWN_PATH, HTTP_HOST=PUB_HOST).content.decode()

    assert tracking_domain_verify(domain=domain, fetch=fetch).verified_at is not None
    assert edge.get(WELL_KNOWN_PATH, HTTP_HOST="elsewhere.example").status_code == 404


def test_a_host_answering_another_token_stays_unverified(pixelpush):
    domain = tracking_domain_create(host=PUB_HOST, publisher_id=pixelpush.pk)
    with pytest.raises(DomainError) as refused:
        tracking_domain_verify(domain=domain, fetch=lambda url: "someone-elses-token")
    assert refused.value.code == "domain_unverified"
    domain.refresh_from_db()
    assert domain.verified_at is None


@pytest.mark.parametrize(
    ("host", "code"),
    [("not a host", "bad_host"), ("localhost:8000", "bad_host"), ("testserver.example", None)],
)
def test_hosts_are_checked_when_created(host, code, pixelpush, acme):
    if code is None:
        assert tracking_domain_create(host=host).host == host
        with pytest.raises(DomainError) as taken:
            tracking_domain_create(host=host)
        assert taken.value.code == "host_taken"
        return
    with pytest.raises(DomainError) as refused:
        tracking_domain_create(host=host)
    assert refused.value.code == code


def test_one_domain_has_one_owner(pixelpush, acme):
    with pytest.raises(DomainError) as refused:
        tracking_domain_create(host=PUB_HOST, publisher_id=pixelpush.pk, advertiser_id=acme.pk)
    assert refused.value.code == "two_owners"


def test_the_edge_serves_the_owners_links_on_a_verified_domain(edge, drain, pixelpush, shoes_link):
    verified(host=PUB_HOST, publisher_id=pixelpush.pk)
    response = click_on(edge, PUB_HOST, shoes_link.token)
    assert response.status_code == 302
    assert response["Location"].startswith("https://shoes.example.com/")
    drain()
    assert Click.objects.get().offer_id == shoes_link.offer_id
    # The network's own host still serves every link.
    assert click_on(edge, "testserver", shoes_link.token).status_code == 302


def test_another_publishers_link_on_a_publishers_domain_is_404(edge, drain, pixelpush, rival, shoes):
    verified(host=PUB_HOST, publisher_id=pixelpush.pk)
    theirs = f.OfferAccessFactory(offer=shoes, publisher=rival)
    response = click_on(edge, PUB_HOST, theirs.token)
    assert response.status_code == 404
    assert "Location" not in response
    assert drain() == 0
    assert not Click.objects.exists()


def test_an_advertisers_domain_serves_its_offers_only(edge, acme, globex, shoes_link, pixelpush):
    verified(host="go.acme.example", advertiser_id=acme.pk)
    other = f.OfferAccessFactory(offer=f.OfferFactory(advertiser=globex), publisher=pixelpush)
    assert click_on(edge, "go.acme.example", shoes_link.token).status_code == 302
    assert click_on(edge, "go.acme.example", other.token).status_code == 404


def test_the_networks_default_domain_serves_every_link(edge, shoes_link):
    verified(host="trk.network.example")
    assert click_on(edge, "trk.network.example", shoes_link.token).status_code == 302


def test_unverified_and_unknown_hosts_are_404(edge, pixelpush, shoes_link):
    tracking_domain_create(host=PUB_HOST, publisher_id=pixelpush.pk)  # not verified
    assert click_on(edge, PUB_HOST, shoes_link.token).status_code == 404
    assert click_on(edge, "evil.example", shoes_link.token).status_code == 404
    assert edge.get(f"/i/{shoes_link.token}", HTTP_HOST="evil.example").status_code == 404


def test_a_domain_outside_allowed_hosts_serves_clicks_but_not_djangos_pages(
    edge, settings, pixelpush, shoes_link
):
    """As in production: ALLOWED_HOSTS lists the network's own hosts only."""
    settings.ALLOWED_HOSTS = ["affiliates.example.com"]
    settings.SITE_URL = "https://affiliates.example.com"
    domain = verified(host=PUB_HOST, publisher_id=pixelpush.pk)
    assert click_on(edge, PUB_HOST, shoes_link.token).status_code == 302
    assert edge.get(WELL_KNOWN_PATH, HTTP_HOST=PUB_HOST).content.decode() == domain.token
    assert click_on(edge, "affiliates.example.com", shoes_link.token).status_code == 302
    assert click_on(edge, "testserver", shoes_link.token).status_code == 404  # no longer ours
    assert edge.get("/login/", HTTP_HOST=PUB_HOST).status_code == 400  # Django's host check
