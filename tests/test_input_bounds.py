"""Numbers a client types reach the database only when the database can hold them (issue 13,
found by probing as make fuzz does): a 4xx with its ``code``, never PostgreSQL's 500.

Two classes, each fixed at its root and guarded here for the whole code base:

- a plain serializer's IntegerField has no bound of its own, so a weight or a limit past
  2**31 - 1 reached the INSERT (``integer out of range`` on PostgreSQL): every integer a request
  body carries now has a maximum, and the schema says so (tests/test_schema.py checks all of them);
- ``str.isdigit()`` is true for "²" and for 5,000 digits, and int() refuses both: every id typed
  as text goes through affiliates.core.db.db_id (ASCII digits within a bigint).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from affiliates.core.db import MAX_INT, db_id
from affiliates.models import Offer, OfferAccess
from tracking.models import SmartLink, SmartPath

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
TOO_BIG = MAX_INT + 1


def _bad(response: Any, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert field in body["fields"], body
    return body


@pytest.fixture
def smart(nadia: Any, shoes: Offer, shoes_link: OfferAccess, api_as: Any) -> SmartLink:
    paths = [{"offer": shoes.pk}, {"offer": shoes.pk, "is_catch_all": True}]
    body = {"publisher": shoes_link.publisher_id, "name": "Boots", "paths": paths}
    response = api_as(nadia).post("/api/v1/smart-links/", body, format="json")
    assert response.status_code == 201, response.content
    return SmartLink.objects.get(pk=response.json()["id"])


# --- integers past an integer column --------------------------------------------------------


def test_a_frequency_cap_past_an_integer_column_is_a_400(nadia: Any, api_as: Any) -> None:
    api = api_as(nadia)
    too_many = api.post("/api/v1/frequency-caps/", {"window_days": 1, "limit": TOO_BIG}, format="json")
    _bad(too_many, "max_value", "limit")
    ok = api.post("/api/v1/frequency-caps/", {"window_days": 1, "limit": MAX_INT}, format="json")
    assert ok.status_code == 201, ok.content


def test_a_smart_path_weight_daily_cap_or_landing_url_past_its_column_is_a_400(
    nadia: Any, shoes: Offer, shoes_link: OfferAccess, api_as: Any
) -> None:
    for path, code in (
        ({"offer": shoes.pk, "weight": TOO_BIG}, "max_value"),
        ({"offer": shoes.pk, "daily_cap": TOO_BIG}, "max_value"),
        ({"offer": shoes.pk, "landing_url": "https://shop.example.com/?" + "a" * 2048}, "max_length"),
    ):
        paths = [path, {"offer": shoes.pk, "is_catch_all": True}]
        body = {"publisher": shoes_link.publisher_id, "name": "Boots", "paths": paths}
        _bad(api_as(nadia).post("/api/v1/smart-links/", body, format="json"), code, "paths")
    assert not SmartLink.objects.exists()


def test_hand_set_weights_take_path_ids_and_weights_the_database_holds(
    nadia: Any, smart: SmartLink, api_as: Any
) -> None:
    path = smart.paths.first()
    assert path is not None
    url = f"/api/v1/smart-links/{smart.pk}/weights/"
    _bad(api_as(nadia).post(url, {"weights": {str(path.pk): TOO_BIG}}, format="json"), "max_value", "weights")
    for key in ("²", "1" * 5000, "x"):
        _bad(api_as(nadia).post(url, {"weights": {key: 5}}, format="json"), "bad_path_id", "weights")
    assert api_as(nadia).post(url, {"weights": {str(path.pk): 7}}, format="json").status_code == 200
    assert SmartPath.objects.get(pk=path.pk).weight == 7


def test_an_ab_variant_weight_past_an_integer_column_is_a_400(nadia: Any, shoes: Offer, api_as: Any) -> None:
    variants = [{"label": "A", "is_control": True}, {"label": "B", "weight": TOO_BIG}]
    body = {"offer": shoes.pk, "name": "Buttons", "hypothesis": "Blue sells more.", "variants": variants}
    _bad(api_as(nadia).post("/api/v1/ab-tests/", body, format="json"), "max_value", "variants")


# --- ids typed as text ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["²", "1" * 5000, "-1", " 1", ""])
def test_db_id_reads_ascii_digits_within_a_bigint_only(raw: str) -> None:
    assert db_id(raw) is None


def test_db_id_reads_an_id() -> None:
    assert (db_id("42"), db_id(42), db_id("9" * 18)) == (42, 42, int("9" * 18))


@pytest.mark.parametrize("raw", ["²", "1" * 5000])
def test_ids_in_query_parameters_that_int_refuses_are_a_4xx(raw: str, nadia: Any, api_as: Any) -> None:
    api = api_as(nadia)
    _bad(api.get("/api/v1/holdout-tests/modelled/", {"offer": raw}), "invalid", "offer")
    _bad(api.get("/api/v1/holdout-tests/modelled/", {"offer": "1", "days": raw}), "invalid", "days")
    _bad(api.get("/api/v1/budget-shift-settings/", {"advertiser": raw}), "required", "advertiser")
    statement = api.get("/api/v1/statements/", {"publisher": raw, "period": "2026-01"})
    assert (statement.status_code, statement.json()["code"]) == (400, "publisher_required")
    audit = api.get("/api/v1/audit-log/", {"actor": raw})
    if len(raw) > 200:  # longer than any name searched for
        _bad(audit, "max_length", "actor")
    else:
        assert audit.status_code == 200, audit.content


def test_no_code_reads_a_number_with_isdigit_alone() -> None:
    """``x.isdigit()`` then ``int(x)`` is the 500 above: text goes through db_id, or checks
    isascii() on the same line."""
    offenders = []
    for package in ("affiliates", "tracking", "payouts", "config"):
        for path in (ROOT / package).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if re.search(r"\.isdigit\(\)", code) and "isascii()" not in code:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_no_integer_query_parameter_past_a_bigint_gives_a_5xx(nadia: Any, ada: Any, api_as: Any) -> None:
    """Every GET's integer query parameters, each set past a bigint, for staff and an advertiser:
    a 4xx with its code, or the parameter ignored, never a 500. make fuzz found
    GET /api/v1/balances/?advertiser=<39 digits> answering 500: the schema documented the
    bigint maximum, but the serializer reading the parameter did not enforce it."""
    schema = api_as(nadia).get("/api/schema/", {"format": "json"}).json()
    checked, failures = 0, []
    for path, item in schema["paths"].items():
        params = [
            p["name"]
            for p in item.get("get", {}).get("parameters", [])
            if p["in"] == "query" and p.get("schema", {}).get("type") == "integer"
        ]
        url = re.sub(r"\{[^}]+\}", "1", path)
        for name in params:
            for user in (nadia, ada):
                status = api_as(user).get(url, {name: "9" * 39}).status_code
                checked += 1
                if status >= 500:
                    failures.append(f"{status} GET {url}?{name}=<39 digits> as {user.username}")
    assert checked > 20
    assert failures == []


def test_an_id_in_a_path_past_a_bigint_is_a_404(ada: Any, nadia: Any, api_as: Any) -> None:
    """make fuzz found DELETE /api/v1/team/members/<35 digits>/ answering 500."""
    huge = "3" * 35
    assert api_as(ada).delete(f"/api/v1/team/members/{huge}/").status_code == 404
    assert api_as(ada).delete(f"/api/v1/team/invites/{huge}/").status_code == 404
    assert api_as(nadia).put(f"/api/v1/staff-roles/{huge}/", {"role": "admin"}).status_code == 404
    assert api_as(nadia).delete(f"/api/v1/account-assignments/{huge}/").status_code == 404
    assert api_as(ada).delete("/api/v1/team/members/999999/").status_code == 404
