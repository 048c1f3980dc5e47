"""Negative lists in Chromium: the advertiser uploads a block list as CSV (a bad file is
refused with the reason per row), a visitor from the blocked source is sent to the fallback,
and the page shows the refused click with its reason."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP_UA, login, stream_drain
from tracking.models import Click, ListEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_uploaded_blocklist_refuses_a_click_and_the_page_shows_why(
    page, shot, edge, settings, ada, shoes, shoes_link
) -> None:
    settings.DEFAULT_FALLBACK_URL = "https://network.example.net/more"
    page.set_default_timeout(30_000)  # a loaded machine: the first page compiles templates
    login(page, "ada")
    page.goto("/policy/")
    form = page.get_by_role("form", name="Upload a list")
    form.get_by_label("Applies to").select_option(f"offer:{shoes.pk}")
    bad = b"kind,value\nsource,popunder\nip_range,300.0.0.0/8\n"
    form.get_by_label("CSV file").set_input_files({"name": "bad.csv", "mimeType": "text/csv", "buffer": bad})
    page.get_by_role("button", name="Upload CSV").click()
    page.wait_for_load_state()
    refused = page.get_by_role("table", name="Rows refused")
    assert refused.get_by_text("3", exact=True).is_visible()
    assert not ListEntry.objects.exists()
    shot("upload-refused")

    form.get_by_label("Applies to").select_option(f"offer:{shoes.pk}")
    good = b"kind,value,note\nsource,popunder,low quality\nip_range,203.0.113.0/24,scrapers\n"
    form.get_by_label("CSV file").set_input_files(
        {"name": "list.csv", "mimeType": "text/csv", "buffer": good}
    )
    page.get_by_role("button", name="Upload CSV").click()
    page.wait_for_load_state()
    assert page.get_by_text("2 rows: 2 added, 0 removed.", exact=False).is_visible()
    entries = page.get_by_role("table", name="List entries")
    assert entries.get_by_text("203.0.113.0/24").is_visible()
    assert entries.get_by_text(f"offer {shoes.pk} (Acme Shoes - Summer Sale)").first.is_visible()
    assert set(ListEntry.objects.values_list("offer_id", flat=True)) == {shoes.pk}

    answer = edge.get(
        f"/c/{shoes_link.token}?source=popunder", REMOTE_ADDR="8.8.8.8", HTTP_USER_AGENT=DESKTOP_UA
    )
    assert answer.status_code == 302
    assert answer["Location"] == "https://network.example.net/more"
    stream_drain()
    assert Click.objects.get().reason == "blocked"
    page.goto("/policy/")
    row = page.get_by_role("table", name="Refused clicks").get_by_role("row").nth(1)
    assert "blocked" in row.inner_text()
    assert "popunder" in row.inner_text()
    shot("blocked-click")
