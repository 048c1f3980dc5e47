"""The smart-link list on the shared list helper: search, filters, sortable columns, pages and
the CSV of exactly the rows shown, for each role within what it may see."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client

from affiliates.models import OfferAccess
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from tracking.models import SmartLink
from tracking.portal import smartlink_lists, smartlinks
from tracking.smartlinks.services import PathSpec, smart_link_create

pytestmark = pytest.mark.django_db


def _links(acme: Any, publisher: Any, names: list[str], mode: str = "manual") -> None:
    offers = []
    for name in ("a", "rest"):
        offer = f.OfferFactory(advertiser=acme, name=f"{publisher.name} {name}")
        f.OfferAccessFactory(offer=offer, publisher=publisher, status=OfferAccess.Status.APPROVED)
        offers.append(offer)
    for name in names:
        smart_link_create(
            actor=Actor(role=Role.STAFF),
            publisher=publisher,
            name=name,
            mode=mode,
            paths=[PathSpec(offer=offers[0], weight=100), PathSpec(offer=offers[1], is_catch_all=True)],
        )


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_smart_links_sort_search_filter_page_and_export_what_is_shown(
    nadia: Any, pia: Any, acme: Any, pixelpush: Any, rival: Any, monkeypatch: Any
) -> None:
    _links(acme, pixelpush, ["Spring", "Autumn", "Winter"])
    _links(acme, rival, ["Rival deals"], mode="auto")
    monkeypatch.setattr(smartlinks, "SMART_LINKS", replace(smartlink_lists.SMART_LINKS, page_size=2))
    staff = sign_in(Client(), nadia)

    first = staff.get("/smart-links/?sort=name")
    assert first.status_code == 200
    table = first.context["table"]
    assert table.page.paginator.count == 4
    assert [s.name for s in table.page] == ["Autumn", "Rival deals"]
    assert "page=2" in first.content.decode()
    assert [s.name for s in staff.get("/smart-links/?sort=name&page=2").context["table"].page] == [
        "Spring",
        "Winter",
    ]
    assert next(s.name for s in staff.get("/smart-links/?sort=-name").context["table"].page) == "Winter"
    assert [s.name for s in staff.get("/smart-links/?q=rival").context["table"].page] == ["Rival deals"]
    auto = staff.get("/smart-links/?mode=auto").context["table"]
    assert [s.name for s in auto.page] == ["Rival deals"]

    rows = _csv(staff.get(f"/smart-links/?sort=name&publisher={pixelpush.pk}&format=csv"))
    assert rows[0] == ["Name", "Publisher", "Paths", "Weights", "KPI", "Last run", "Created", "Link"]
    assert [r[0] for r in rows[1:]] == ["Autumn", "Spring", "Winter"]  # every page, same filter and sort
    assert rows[1][1] == "PixelPush Media"  # names, never ids
    assert rows[1][2] == "PixelPush Media a; PixelPush Media rest (catch-all)"
    assert rows[1][7].endswith("/c/" + SmartLink.objects.get(name="Autumn").token)

    # A publisher sees only theirs, and its filters offer only itself.
    own = sign_in(Client(), pia).get("/smart-links/?sort=name")
    assert own.status_code == 200
    assert {s.publisher_id for s in own.context["table"].page.paginator.object_list} == {pixelpush.pk}
    publisher_filter = next(x for x in own.context["table"].filters if x["key"] == "publisher")
    assert [name for _, name in publisher_filter["options"]] == ["PixelPush Media"]


def test_an_empty_list_says_none_yet_and_an_empty_search_says_nothing_matches(
    pia: Any, acme: Any, pixelpush: Any
) -> None:
    publisher = sign_in(Client(), pia)
    none_yet = publisher.get("/smart-links/").content.decode()
    assert "No smart links yet" in none_yet
    assert "Nothing matches" not in none_yet

    _links(acme, pixelpush, ["Spring"])
    missed = publisher.get("/smart-links/?q=autumn").content.decode()
    assert "Nothing matches this search or these filters" in missed
    assert "No smart links yet" not in missed
    assert publisher.get("/smart-links/?q=spring").context["table"].page.paginator.count == 1
