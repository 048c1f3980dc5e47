"""Offers created and edited in the staff console (views_console_offers): the advertiser
portal's form and formsets, custom payouts under the API's price rules, the audit log, and the
CSV of a list exactly as shown."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.test import Client

from affiliates.core.audit import AuditEntry
from affiliates.models import CustomPayout, Goal, Offer
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def _fields(form: Any, data: dict[str, Any]) -> None:
    """A form's fields as a browser posts them untouched."""
    for field in form:
        value = field.value()
        if value is None or value is False:
            continue
        data[field.html_name] = (
            value
            if isinstance(value, list) and field.field.widget.allow_multiple_selected
            else field.field.prepare_value(value)
            if hasattr(field.field, "prepare_value")
            else value
        )


def form_data(response: Any) -> dict[str, Any]:
    """What the rendered form would post untouched: every field's value, every formset's
    management form and forms (extra ones too: their selects post their first choice)."""
    data: dict[str, Any] = {}
    _fields(response.context["form"], data)
    for name in ("goals", "caps", "creatives", "custom"):
        formset = response.context[name]
        _fields(formset.management_form, data)
        for form in formset.forms:
            _fields(form, data)
    return data


def errors(response: Any) -> Any:
    """The form's and formsets' errors, for a failing assertion's message."""
    if response.status_code != 200:
        return response.status_code
    ctx = response.context
    return [ctx["form"].errors] + [ctx[n].errors for n in ("goals", "caps", "creatives", "custom")]


def goal(data: dict[str, Any], i: int, code: str, payout_type: str, payout: str, revenue: str) -> None:
    data |= {
        f"goals-{i}-code": code,
        f"goals-{i}-name": code.title(),
        f"goals-{i}-payout_type": payout_type,
        f"goals-{i}-payout": payout,
        f"goals-{i}-revenue": revenue,
    }


def test_staff_create_an_offer_with_two_goals_and_it_is_audited(nadia, acme):
    client = client_for(nadia)
    assert "Acme" in client.get("/staff/offers/new/").content.decode()  # the advertiser first
    page = client.get(f"/staff/offers/new/?advertiser={acme.pk}")
    data = form_data(page) | {"name": "Acme Boots", "landing_url": "https://acme.example/?c={click_id}"}
    goal(data, 0, "lead", "cpl", "2.00", "3.00")
    goal(data, 1, "sale", "cps", "8", "12")

    response = client.post(f"/staff/offers/new/?advertiser={acme.pk}", data)

    assert response.status_code == 302, errors(response)
    offer = Offer.objects.get(name="Acme Boots")
    assert response["Location"] == f"/staff/offers/{offer.pk}/"
    assert (offer.advertiser_id, offer.currency) == (acme.pk, acme.currency)
    goals = list(offer.goals.order_by("code").values_list("code", "payout_type", "is_default"))
    assert goals == [("lead", "cpl", True), ("sale", "cps", False)]
    created = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Offer), object_id=offer.pk
    )
    assert (created.action, created.actor) == (AuditEntry.Action.CREATE, nadia)
    goal_entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Goal))
    assert goal_entries.filter(actor=nadia).count() == 2


def test_custom_payouts_follow_the_apis_price_rules(nadia, shoes, pixelpush):
    sale = shoes.goals.get(code="sale")  # CPS: a percentage of the sale
    client = client_for(nadia)
    url = f"/staff/offers/{shoes.pk}/edit/"
    data = form_data(client.get(url))
    data |= {"custom-0-publisher": pixelpush.pk, "custom-0-goal": sale.pk, "custom-0-payout": "101"}

    refused = client.post(url, data)

    assert refused.status_code == 200
    assert "A CPS percentage must be between 0 and 100." in refused.content.decode()
    assert not CustomPayout.objects.exists()
    # Every goal of an offer mixing percentages and amounts: no single unit, as the API says.
    data |= {"custom-0-goal": "", "custom-0-payout": "5"}
    assert "choose the goal this custom payout" in client.post(url, data).content.decode()
    data |= {"custom-0-goal": sale.pk, "custom-0-payout": "9.5"}
    assert client.post(url, data).status_code == 302
    custom = CustomPayout.objects.get()
    assert (custom.publisher_id, custom.goal_id, str(custom.payout.normalize())) == (
        pixelpush.pk,
        sale.pk,
        "9.5",
    )
    entry = AuditEntry.objects.get(content_type=ContentType.objects.get_for_model(CustomPayout))
    assert entry.actor == nadia


def test_a_change_is_audited_with_its_before_and_after(nadia, shoes):
    client = client_for(nadia)
    url = f"/staff/offers/{shoes.pk}/edit/"
    data = form_data(client.get(url)) | {"hold_days": "14"}
    assert client.post(url, data).status_code == 302
    entry = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Offer),
        object_id=shoes.pk,
        action=AuditEntry.Action.UPDATE,
    ).last()
    assert entry is not None
    assert entry.actor == nadia
    assert entry.changes_dict["hold_days"][1] == "14"


def test_only_staff_reach_the_offer_form(ada, shoes):
    assert client_for(ada).get(f"/staff/offers/{shoes.pk}/edit/").status_code in (403, 404)
    assert client_for(ada).get("/staff/offers/new/").status_code in (403, 404)


def test_a_lists_csv_is_every_row_shown_under_the_filters_with_names(nadia, acme, globex):
    for n in range(3):
        f.OfferFactory(advertiser=acme, name=f"Acme {n}", status="active")
    f.OfferFactory(advertiser=globex, name="Globex Paused", status="paused")
    f.OfferFactory(advertiser=acme, name="=HYPERLINK(1)", status="active")
    client = client_for(nadia)

    response = client.get(f"/staff/offers/?advertiser={acme.pk}&sort=-name&format=csv")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Offer", "Advertiser", "Category", "Visibility", "Status", "Publishers", "Changed"]
    names = [r[0] for r in rows[1:]]
    shown = [
        o.name for o in client.get(f"/staff/offers/?advertiser={acme.pk}&sort=-name").context["table"].page
    ]
    assert names == [n if not n.startswith("=") else "'" + n for n in shown]
    assert all(r[1] == acme.name for r in rows[1:])  # the name, never the id
    assert "Globex Paused" not in names


def test_coupons_and_creatives_are_listed_searched_and_filtered(nadia, shoes, pixelpush, rival):
    f.CouponFactory(code="SUMMER10", offer=shoes, publisher=pixelpush)
    f.CouponFactory(code="RIVAL5", offer=shoes, publisher=rival, active=False)
    shoes.creatives.create(
        name="Banner 300", kind="banner", image_url="https://cdn.example/b.png", width=300, height=250
    )
    shoes.creatives.create(name="Old text", kind="text", body="Buy {tracking_link}", active=False)
    client = client_for(nadia)

    active = client.get("/staff/coupons/?active=True").context["table"]
    assert [c.code for c in active.page] == ["SUMMER10"]
    assert [c.code for c in client.get("/staff/coupons/?q=rival").context["table"].page] == ["RIVAL5"]
    creatives = client.get("/staff/creatives/?sort=-name").context["table"]
    assert [c.name for c in creatives.page] == ["Old text", "Banner 300"]
    body = b"".join(client.get("/staff/creatives/?kind=banner&format=csv").streaming_content).decode()
    assert body.splitlines()[1].split(",")[:5] == [
        "Banner 300",
        "Banner image",
        shoes.name,
        shoes.advertiser.name,
        "300×250",
    ]


def test_the_offer_form_reads_its_custom_payout_options_once_whatever_the_rows(nadia, shoes):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(nadia)
    f.CustomPayoutFactory(offer=shoes)
    client.get(f"/staff/offers/{shoes.pk}/edit/")  # warm: sessions, caches
    with CaptureQueriesContext(connection) as one:
        first = client.get(f"/staff/offers/{shoes.pk}/edit/")
    for _ in range(4):
        f.CustomPayoutFactory(offer=shoes)
    with CaptureQueriesContext(connection) as five:
        again = client.get(f"/staff/offers/{shoes.pk}/edit/")
    assert (first.status_code, again.status_code) == (200, 200)
    assert len(five) == len(one)
    # Every row (and the blank one) still offers every publisher, its own selected.
    body = again.content.decode()
    chosen = CustomPayout.objects.filter(offer=shoes).first()
    assert body.count(f">{chosen.publisher.name}</option>") >= 6  # five rows and the blank one
    assert f'<option value="{chosen.publisher_id}" selected>{chosen.publisher.name}</option>' in body
