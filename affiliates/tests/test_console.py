"""The staff console's partner lists (affiliates.portal.tables, views_console): search, filters
and sorting only on what a page declares, pagination, staff only, and the detail pages'
actions through the services."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import Client

from affiliates.models import Advertiser, Offer, Publisher
from affiliates.notifications import Notification
from affiliates.portal import console_lists as lists
from affiliates.portal.tables import model_choices, table_build, table_query
from affiliates.roles import Actor, Role
from affiliates.staff_notes import StaffNote
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in

STAFF = Actor(role=Role.STAFF, user_id=1)


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def names(qs) -> list[str]:
    return [p.name for p in qs]


@pytest.fixture
def three(db) -> list[Publisher]:
    return [
        f.PublisherFactory(name="Bravo Deals", email="b@bravo.example", status="active"),
        f.PublisherFactory(name="Alpha Cashback", email="a@alpha.example", status="pending"),
        f.PublisherFactory(name="Charlie Media", email="c@charlie.example", status="suspended"),
    ]


def test_it_sorts_by_a_declared_column_either_way(three):
    qs = lists.publishers_for(STAFF)
    assert names(table_query(qs, lists.PUBLISHERS, {"sort": "name"}, actor=STAFF)) == [
        "Alpha Cashback",
        "Bravo Deals",
        "Charlie Media",
    ]
    assert names(table_query(qs, lists.PUBLISHERS, {"sort": "-name"}, actor=STAFF))[0] == "Charlie Media"


def test_it_ignores_a_sort_or_filter_on_a_field_the_page_does_not_declare(three):
    qs = lists.publishers_for(STAFF)
    default = names(table_query(qs, lists.PUBLISHERS, {}, actor=STAFF))
    # payout_details is stored but not shown: sorting or filtering by it must change nothing.
    assert names(table_query(qs, lists.PUBLISHERS, {"sort": "payout_details"}, actor=STAFF)) == default
    assert (
        names(table_query(qs, lists.PUBLISHERS, {"payout_details__account": "a@alpha.example"}, actor=STAFF))
        == default
    )
    # A declared filter with a value outside its options is dropped, not applied.
    assert len(table_query(qs, lists.PUBLISHERS, {"status": "nonsense"}, actor=STAFF)) == 3


def test_it_filters_and_searches_the_declared_fields(three):
    qs = lists.publishers_for(STAFF)
    assert names(table_query(qs, lists.PUBLISHERS, {"status": "pending"}, actor=STAFF)) == ["Alpha Cashback"]
    assert names(table_query(qs, lists.PUBLISHERS, {"q": "charlie.example"}, actor=STAFF)) == [
        "Charlie Media"
    ]
    assert names(table_query(qs, lists.PUBLISHERS, {"q": str(three[0].pk)}, actor=STAFF)) == ["Bravo Deals"]


def test_a_default_filter_applies_until_the_viewer_clears_it(db):
    spec = lists.ListSpec(
        columns=lists.PUBLISHERS.columns,
        default_sort="name",
        filters=(lists.Filter("status", "Status", "status", [("pending", "Pending")], default="pending"),),
    )
    f.PublisherFactory(name="Waiting", status="pending")
    f.PublisherFactory(name="Running", status="active")
    qs = lists.publishers_for(STAFF)
    assert names(table_query(qs, spec, {}, actor=STAFF)) == ["Waiting"]
    assert names(table_query(qs, spec, {"status": ""}, actor=STAFF)) == ["Running", "Waiting"]
    table = table_build(qs, spec, QueryDict("status="), actor=STAFF)
    assert "status=" in table.query  # the next page keeps it cleared


def test_the_page_headers_link_to_the_other_direction_and_say_which_is_current(three):
    table = table_build(
        lists.publishers_for(STAFF), lists.PUBLISHERS, QueryDict("sort=name&status=active"), actor=STAFF
    )
    name = next(h for h in table.headers if h.get("label") == "Publisher")
    assert name["aria_sort"] == "ascending"
    assert "sort=-name" in name["url"]
    assert "status=active" in name["url"]
    assert table.active == {"status": "active"}


def test_the_publishers_page_sorts_filters_and_pages(nadia):
    for i in range(55):
        f.PublisherFactory(name=f"Pub {i:02d}", status="active" if i % 5 else "pending")
    client = client_for(nadia)
    first = client.get("/staff/publishers/all/?sort=name")
    assert first.status_code == 200
    assert first.context["table"].page.paginator.count == 55
    assert len(first.context["table"].page.object_list) == 50
    body = first.content.decode()
    assert body.index("Pub 00") < body.index("Pub 01")
    assert "page=2" in body
    second = client.get("/staff/publishers/all/?sort=name&page=2")
    assert [p.name for p in second.context["table"].page] == [f"Pub {i}" for i in range(50, 55)]
    pending = client.get("/staff/publishers/all/?status=pending")
    assert pending.context["table"].page.paginator.count == 11


@pytest.mark.parametrize(
    "url",
    [
        "/staff/advertisers/",
        "/staff/publishers/all/",
        "/staff/offers/",
        "/staff/accesses/",
        "/staff/fx-rates/",
    ],
)
def test_partner_lists_are_for_staff_only(url, nadia, ada, pia, shoes_link):
    assert client_for(nadia).get(url).status_code == 200
    assert client_for(ada).get(url).status_code == 404
    assert client_for(pia).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page


def test_the_offers_list_filters_by_advertiser(nadia, shoes, globex):
    f.OfferFactory(advertiser=globex, name="Globex Gadgets")
    table = client_for(nadia).get(f"/staff/offers/?advertiser={globex.pk}").context["table"]
    assert [o.name for o in table.page] == ["Globex Gadgets"]


YES = {"confirm": "yes"}


def test_staff_suspend_a_publisher_through_the_transition_service(nadia, pixelpush):
    response = client_for(nadia).post(f"/staff/publishers/{pixelpush.pk}/act/suspend/", YES)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/publishers/{pixelpush.pk}/"
    pixelpush.refresh_from_db()
    assert pixelpush.status == "suspended"
    assert pixelpush.status_changed_by == nadia
    # A transition its status does not allow is refused with the service's message.
    client_for(nadia).post(f"/staff/publishers/{pixelpush.pk}/act/reject/", YES)
    pixelpush.refresh_from_db()
    assert pixelpush.status == "suspended"


def test_pausing_an_offer_tells_the_publishers_running_it(nadia, pia, shoes_link):
    client_for(nadia).post(f"/staff/offers/{shoes_link.offer_id}/pause/", YES)
    assert Offer.objects.get(pk=shoes_link.offer_id).status == "paused"
    assert Notification.objects.filter(recipient=pia, kind="offer_paused").exists()


def test_an_unknown_action_or_a_non_staff_user_changes_nothing(nadia, ada, acme):
    assert client_for(nadia).post(f"/staff/advertisers/{acme.pk}/delete/").status_code == 404
    assert client_for(ada).post(f"/staff/advertisers/{acme.pk}/suspend/").status_code == 404
    acme.refresh_from_db()
    assert acme.status == "active"
    client_for(nadia).post(f"/staff/advertisers/{acme.pk}/pause/", YES)
    acme.refresh_from_db()
    assert acme.status == "paused"


def test_staff_add_notes_and_an_empty_one_is_refused(nadia, ada, acme):
    client = client_for(nadia)
    client.post(f"/staff/notes/advertiser/{acme.pk}/", {"body": "  Wants a higher cap in May.  "})
    client.post(f"/staff/notes/advertiser/{acme.pk}/", {"body": "   "})
    assert client_for(ada).post(f"/staff/notes/advertiser/{acme.pk}/", {"body": "hi"}).status_code == 404
    note = StaffNote.objects.get()
    assert (note.advertiser_id, note.author_id) == (acme.pk, nadia.pk)
    assert note.body == "Wants a higher cap in May."
    assert str(note).startswith(f"Note on advertiser {acme.pk}")


def test_a_search_for_an_id_too_long_for_any_row_finds_nothing(three):
    qs = lists.publishers_for(STAFF)
    assert names(table_query(qs, lists.PUBLISHERS, {"q": "9" * 30}, actor=STAFF)) == []


def test_an_id_filter_offers_only_the_names_the_viewer_may_see(acme, globex):
    read = model_choices(Advertiser.objects.all())
    assert [name for _, name in read(STAFF)] == ["Acme Shoes", "Globex"]
    own = Actor(role=Role.ADVERTISER, user_id=2, advertiser_id=acme.pk)
    assert read(own) == [(str(acme.pk), "Acme Shoes")]


def test_a_destructive_action_says_what_it_will_do_and_waits_for_the_tick(nadia, pixelpush):
    client = client_for(nadia)
    url = f"/staff/publishers/{pixelpush.pk}/act/suspend/"
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Suspend PixelPush Media?" in text
    assert "its payouts in the next run are held" in text
    assert 'name="confirm" value="yes" id="id_confirm" required' in text
    # The page's form posted without the tick: asked again, nothing done.
    again = client.post(url, {"confirming": "1"})
    assert again.status_code == 400
    assert "Tick the box to confirm" in again.content.decode()
    pixelpush.refresh_from_db()
    assert pixelpush.status == "active"
    assert client.post(url, {"confirming": "1", "confirm": "yes"}).status_code == 302
    pixelpush.refresh_from_db()
    assert pixelpush.status == "suspended"


def test_activate_needs_no_confirmation_and_a_get_never_acts(nadia, acme):
    client = client_for(nadia)
    acme.status = "paused"
    acme.save()
    assert client.get(f"/staff/advertisers/{acme.pk}/activate/").status_code == 404
    assert client.post(f"/staff/advertisers/{acme.pk}/activate/").status_code == 302
    acme.refresh_from_db()
    assert acme.status == "active"
