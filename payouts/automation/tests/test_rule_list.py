"""The rule list on the shared list helper: search, filters, sortable columns, pages and the CSV
of exactly the rows shown; an advertiser lists only the rules on its offers."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

import pytest

from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.automation.portal import lists, views

pytestmark = pytest.mark.django_db


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_rules_sort_search_filter_page_and_export_what_is_shown(
    client, nadia, ada, globex, make_rule, monkeypatch
) -> None:
    make_rule(name="Bravo stop-loss")
    make_rule(name="Alpha alert", is_active=False)
    make_rule(name="Charlie cap", action="pause")
    theirs = f.OfferFactory(advertiser=globex, name="Globex Gadgets")
    make_rule(name="Globex guard", offer=theirs)
    monkeypatch.setattr(views, "RULES", replace(lists.RULES, page_size=2))
    sign_in(client, nadia)

    first = client.get("/rules/?sort=name")
    assert first.status_code == 200
    assert first.context["table"].page.paginator.count == 4
    assert [r.name for r in first.context["table"].page] == ["Alpha alert", "Bravo stop-loss"]
    assert [r.name for r in client.get("/rules/?sort=name&page=2").context["table"].page] == [
        "Charlie cap",
        "Globex guard",
    ]
    assert [r.name for r in client.get("/rules/?q=gadgets").context["table"].page] == ["Globex guard"]
    paused = client.get("/rules/?active=False").context["table"]
    assert [r.name for r in paused.page] == ["Alpha alert"]
    assert client.get("/rules/?sort=-checked").status_code == 200

    rows = _csv(client.get("/rules/?action=alert&sort=-name&format=csv"))
    assert rows[0] == [
        "Rule", "Advertiser", "Watches", "When", "Then", "Last check", "Status"
    ]  # fmt: skip
    assert [r[0] for r in rows[1:]] == ["Globex guard", "Bravo stop-loss", "Alpha alert"]
    assert rows[1][1] == "Globex"  # names, never ids
    assert rows[1][3] == "CPC (cost per click) is above 25; last 24 h, after 0 clicks"
    assert rows[3][6] == "paused"

    sign_in(client, ada)
    own = client.get("/rules/?sort=name")
    assert [r.name for r in own.context["table"].page] == ["Alpha alert", "Bravo stop-loss", "Charlie cap"]
    assert "Advertiser" not in [h["label"] for h in own.context["table"].headers]
    assert "Globex" not in own.content.decode()
    assert _csv(client.get("/rules/?format=csv"))[0][1] == "Watches"
