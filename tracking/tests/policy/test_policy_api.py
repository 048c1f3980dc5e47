"""The traffic policy API (issue 14): CSV uploads checked row by row, role scopes, frequency
caps, naming templates and the report that splits a sub id by its template's parts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from affiliates.models import AuditEntry
from tracking.models import FrequencyCap, ListEntry, NamingTemplate
from tracking.models.reports import DailyStat

pytestmark = pytest.mark.django_db

BAD_CSV = (
    b"kind,value,note\nip_range,203.0.113.0/24,scrapers\nip_range,300.1.1.1,typo\nasn,AS15169,\ncolour,red,\n"
)


def upload(client, text: bytes, **fields):
    return client.post(
        "/api/v1/list-entries/upload/",
        {"file": SimpleUploadedFile("list.csv", text), **fields},
        format="multipart",
    )


def test_an_upload_with_bad_rows_is_refused_whole_with_the_reason_for_each_row(api_as, ada, shoes):
    response = upload(api_as(ada), BAD_CSV, offer=shoes.pk)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bad_csv"
    rows = {r["row"]: r["errors"] for r in body["fields"]["rows"]}
    assert set(rows) == {3, 4, 5}
    assert "CIDR" in rows[3]["value"]
    assert "organisation name" in rows[4]["value"]
    assert "Unknown kind" in rows[5]["kind"]
    assert not ListEntry.objects.exists()


def test_a_good_upload_is_normalised_and_replace_removes_what_the_file_lacks(api_as, ada, acme, shoes):
    client = api_as(ada)
    text = b"kind,value\nreferrer_domain,https://Ads.Spam.Example/path\nip_range,2001:DB8::1/32\nsource,popunder\n"
    first = upload(client, text, offer=shoes.pk)
    assert first.status_code == 200, first.json()
    assert first.json() == {"rows": 3, "added": 3, "removed": 0}
    values = set(ListEntry.objects.values_list("kind", "value"))
    assert values == {
        ("referrer_domain", "ads.spam.example"),
        ("ip_range", "2001:db8::/32"),
        ("source", "popunder"),
    }
    assert set(ListEntry.objects.values_list("advertiser_id", "offer_id")) == {(acme.pk, shoes.pk)}
    again = upload(client, b"kind,value\nsource,popunder\n", offer=shoes.pk, replace="true")
    assert again.json() == {"rows": 1, "added": 0, "removed": 2}
    assert list(ListEntry.objects.values_list("value", flat=True)) == ["popunder"]


def test_an_advertiser_manages_its_own_scope_only_and_publishers_none(api_as, ada, gus, pia, shoes, globex):
    client = api_as(ada)
    own = client.post("/api/v1/list-entries/", {"kind": "source", "value": "pop"}, format="json")
    assert own.status_code == 201, own.json()
    assert own.json()["scope"] == "advertiser"
    foreign = client.post(
        "/api/v1/list-entries/", {"kind": "source", "value": "x", "advertiser": globex.pk}, format="json"
    )
    assert foreign.status_code == 404
    assert (
        api_as(gus)
        .post("/api/v1/list-entries/", {"kind": "source", "value": "x", "offer": shoes.pk}, format="json")
        .json()["code"]
        == "does_not_exist"
    )
    assert api_as(gus).get("/api/v1/list-entries/").json()["count"] == 0
    assert api_as(pia).get("/api/v1/list-entries/").status_code == 403


def test_staff_set_a_network_cap_and_setting_it_again_changes_its_limit(api_as, nadia, ada):
    staff = api_as(nadia)
    created = staff.post("/api/v1/frequency-caps/", {"window_days": 7, "limit": 5}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["scope"] == "network"
    staff.post("/api/v1/frequency-caps/", {"window_days": 7, "limit": 3}, format="json")
    assert list(FrequencyCap.objects.values_list("limit", flat=True)) == [3]
    assert api_as(ada).get("/api/v1/frequency-caps/").json()["count"] == 0  # the network's is staff's
    bad = staff.post("/api/v1/frequency-caps/", {"window_days": 3, "limit": 5}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_choice"


def test_a_list_entry_and_a_cap_are_in_the_audit_log_with_who_made_them(api_as, ada, shoes):
    client = api_as(ada)
    entry_id = client.post(
        "/api/v1/list-entries/", {"kind": "sub_id", "value": "bad", "offer": shoes.pk}, format="json"
    ).json()["id"]
    client.delete(f"/api/v1/list-entries/{entry_id}/")
    ct = ContentType.objects.get_for_model(ListEntry)
    actions = list(AuditEntry.objects.filter(content_type=ct).order_by("id").values_list("action", "actor"))
    assert actions == [(AuditEntry.Action.CREATE, ada.pk), (AuditEntry.Action.DELETE, ada.pk)]
    client.post("/api/v1/frequency-caps/", {"window_days": 1, "limit": 2, "offer": shoes.pk}, format="json")
    cap_ct = ContentType.objects.get_for_model(FrequencyCap)
    assert AuditEntry.objects.get(content_type=cap_ct).advertiser_id == shoes.advertiser_id


def test_only_staff_define_naming_templates_and_a_template_needs_separated_parts(api_as, nadia, ada):
    data = {"name": "Channels", "field": "sub1", "pattern": "{channel}{campaign}"}
    assert (
        api_as(nadia).post("/api/v1/naming-templates/", data, format="json").json()["code"] == "bad_template"
    )
    data["pattern"] = "{channel}-{campaign}-{geo}"
    assert api_as(ada).post("/api/v1/naming-templates/", data, format="json").status_code == 403
    made = api_as(nadia).post("/api/v1/naming-templates/", data, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["parts"] == ["channel", "campaign", "geo"]
    assert api_as(ada).get("/api/v1/naming-templates/").json()["count"] == 1


def stat(shoes, pub, sub1: str, clicks: int, approved: int, revenue: str) -> None:
    DailyStat.objects.create(
        day=date(2026, 12, 1), advertiser_id=shoes.advertiser_id, offer=shoes, publisher=pub, currency="USD",
        country="NO", device="desktop", sub1=sub1, gross_clicks=clicks, conv_approved=approved,
        revenue=Decimal(revenue), payout=Decimal(revenue) / 2,
    )  # fmt: skip


def test_the_report_splits_sub1_by_its_template_parts_from_the_rollups(api_as, ada, pia, shoes, pixelpush):
    template = NamingTemplate.objects.create(name="c", field="sub1", pattern="{channel}-{campaign}-{geo}")
    stat(shoes, pixelpush, "fb-summer-no", 100, 3, "30")
    stat(shoes, pixelpush, "fb-winter-se", 50, 1, "10")
    stat(shoes, pixelpush, "tt-summer-no", 40, 2, "20")
    stat(shoes, pixelpush, "whatever", 5, 0, "0")
    url = f"/api/v1/naming-templates/{template.pk}/report/"
    params = {"group_by": "channel", "date_from": "2026-12-01", "date_to": "2026-12-01"}
    rows = api_as(ada).get(url, params).json()
    assert [(r["parts"]["channel"], r["clicks"], r["conversions"], r["revenue"]) for r in rows] == [
        ("fb", 150, 4, "40.0000"),
        ("tt", 40, 2, "20.0000"),
        ("(unmatched)", 5, 0, "0.0000"),
    ]
    by_geo = api_as(pia).get(url, {**params, "group_by": "geo,channel"}).json()
    assert by_geo[0]["parts"] == {"geo": "no", "channel": "fb"}
    assert "revenue" not in by_geo[0]  # a publisher's view has its payout only
    assert api_as(ada).get(url, {**params, "group_by": "colour"}).json()["code"] == "bad_group_by"


def test_the_schema_documents_the_policy_endpoints(api_as, nadia):
    paths = api_as(nadia).get("/api/schema/", {"format": "json"}).json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/list-entries/"])
    assert "post" in paths["/api/v1/list-entries/upload/"]
    assert {"get", "post"} <= set(paths["/api/v1/frequency-caps/"])
    assert "get" in paths["/api/v1/naming-templates/{id}/report/"]
