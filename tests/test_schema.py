"""The OpenAPI schema is valid OpenAPI 3 and documents every field; the docs work offline."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema_once(module_db: None, django_db_blocker: Any) -> dict[str, Any]:
    """The schema an anonymous client reads, fetched once for the module: drf-spectacular
    generates it anew on each request, which was most of each test's time."""
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    parsed: dict[str, Any] = response.json()
    return parsed


@pytest.fixture
def schema(schema_once: dict[str, Any]) -> dict[str, Any]:
    """Each test its own copy, so none sees what another changed."""
    return copy.deepcopy(schema_once)


def test_the_schema_is_valid_openapi_3(schema) -> None:
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 JSON schema


def test_every_field_of_every_component_is_documented(schema) -> None:
    undocumented = [
        f"{name}.{field}"
        for name, component in schema["components"]["schemas"].items()
        for field, spec in (component.get("properties") or {}).items()
        if not (spec.get("description") or "").strip()
    ]
    assert undocumented == []


def test_every_affiliates_resource_is_in_the_schema(schema) -> None:
    for resource in [
        "advertisers",
        "publishers",
        "offers",
        "goals",
        "custom-payouts",
        "caps",
        "coupons",
        "accesses",
        "links",
    ]:
        assert f"/api/v1/{resource}/" in schema["paths"]
    assert "/api/v1/publishers/{id}/approve/" in schema["paths"]
    assert "/api/v1/advertisers/{id}/rotate_postback_token/" in schema["paths"]


def test_the_docs_page_renders_from_local_static_files(client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html


# --- Error responses (issue 13: schemathesis's status_code_conformance) ----------------------

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_every_operation_documents_the_errors_it_can_answer(schema) -> None:
    missing = []
    for method, path, operation in _operations(schema):
        expected = {"400", "401", "403", "404", "429"} | ({"409"} if method != "GET" else set())
        expected |= {"415"} if method in {"post", "put", "patch"} else set()
        lacking = expected - set(operation["responses"])
        if lacking:
            missing.append(f"{method} {path}: {sorted(lacking)}")
    assert missing == []


def test_errors_are_documented_in_the_shape_the_exception_handler_sends(schema, nadia, api_as) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message"}
    assert set(error["properties"]) == {"code", "message", "fields"}
    responses = schema["paths"]["/api/v1/offers/{id}/"]["patch"]["responses"]
    for code in ["400", "401", "403", "404", "409", "415", "429"]:
        body = responses[code]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Error"}, code
        assert responses[code]["description"]
    # The handler's real answers have that shape.
    assert set(api_as(nadia).get("/api/v1/offers/abc/").json()) == {"code", "message"}
    invalid = api_as(nadia).post("/api/v1/offers/", {}, format="json").json()
    assert set(invalid) == {"code", "message", "fields"}


def test_ids_in_paths_are_documented_as_digits(schema) -> None:
    parameter = next(
        p for p in schema["paths"]["/api/v1/offers/{id}/"]["get"]["parameters"] if p["name"] == "id"
    )
    assert parameter["schema"]["type"] == "integer"


def test_fields_that_are_null_or_blank_in_answers_are_documented_so(schema) -> None:
    components = schema["components"]["schemas"]
    access = components["OfferAccess"]["properties"]
    # OpenAPI 3.1 (for its webhooks section): null is one of the types, JSON Schema's way.
    assert "null" in access["token"]["type"]
    assert "null" in access["url"]["type"]
    hold_reason = components["Payout"]["properties"]["hold_reason"]
    refs = {choice.get("$ref") for choice in hold_reason.get("oneOf", [])}
    assert "#/components/schemas/BlankEnum" in refs


def test_report_id_filters_are_documented_as_integers(schema) -> None:
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/reports/"]["get"]["parameters"]}
    for name in ["advertiser", "offer", "publisher", "goal"]:
        assert parameters[name]["schema"]["items"]["type"] == "integer", name
        assert parameters[name]["explode"] is False
    assert parameters["country"]["schema"]["type"] == "string"
    filters = schema["components"]["schemas"]["Report"]["properties"]["filters"]
    assert {"type": "integer"} in filters["additionalProperties"]["items"]["oneOf"]


def test_fields_that_depend_on_the_role_are_not_required_in_answers(schema) -> None:
    components = schema["components"]["schemas"]
    for name in ["Offer", "Goal", "Publisher", "CustomPayout", "Commission"]:
        assert set(components[name].get("required", [])) <= {"id"}, name
    # Requests still say what a write needs.
    assert "name" in components["OfferRequest"]["required"]


def test_a_blank_url_in_an_answer_is_documented(ada, api_as) -> None:
    # The schema an advertiser reads has its read-only publisher shape, whose website may be "".
    schema = api_as(ada).get("/api/schema/", {"format": "json"}).json()
    website = schema["components"]["schemas"]["PublisherPublic"]["properties"]["website"]
    assert {"maxLength": 0} in website["anyOf"]
    assert "format" not in website


def _resolved(schema: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return body


def test_no_error_answer_requires_fields_which_only_validation_errors_carry(schema) -> None:
    """Schemathesis (make fuzz) found POST /api/v1/api-keys/ documenting ``fields`` as required
    on its 400 while a refused expiry answers ``{code, message}``: every error answer is the
    exception handler's one shape, where ``fields`` is optional."""
    offenders = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("4"):
                    continue
                body = response.get("content", {}).get("application/json", {}).get("schema")
                if body and "fields" in _resolved(schema, body).get("required", []):
                    offenders.append(f"{method.upper()} {path} {status}")
    assert offenders == []


def test_a_refused_api_key_expiry_answers_in_the_documented_shape(nadia, api_as) -> None:
    response = api_as(nadia).post("/api/v1/api-keys/", {"name": "old", "expires_at": "2000-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert response.json()["code"] == "expiry_past"
    assert set(response.json()) == {"code", "message"}


def test_a_body_in_a_media_type_an_action_does_not_read_is_a_documented_415(
    schema, nadia, api_as, shoes_link
):
    # Schemathesis sent a body in a media type no parser reads and got an undocumented 415.
    url = f"/api/v1/accesses/{shoes_link.pk}/approve/"
    answer = api_as(nadia).post(url, data="approve", content_type="text/plain")
    assert (answer.status_code, answer.json()["code"]) == (415, "unsupported_media_type")
    assert "415" in schema["paths"]["/api/v1/accesses/{id}/approve/"]["post"]["responses"]


def _unbounded_integers(schema: dict[str, Any], node: Any, where: str, seen: frozenset[str]) -> list[str]:
    components = schema["components"]["schemas"]
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen, where, node = seen | {name}, name, components[name]
    types = node.get("type")
    found = []
    integer = types == "integer" or (isinstance(types, list) and "integer" in types)
    if integer and "maximum" not in node and "enum" not in node:
        found.append(where)
    for key in ("allOf", "anyOf", "oneOf"):
        for part in node.get(key, []):
            found += _unbounded_integers(schema, part, where, seen)
    for name, prop in node.get("properties", {}).items():
        found += _unbounded_integers(schema, prop, f"{where}.{name}", seen)
    if isinstance(node.get("items"), dict):
        found += _unbounded_integers(schema, node["items"], f"{where}[]", seen)
    if isinstance(node.get("additionalProperties"), dict):
        found += _unbounded_integers(schema, node["additionalProperties"], f"{where}{{}}", seen)
    return found


def test_every_integer_a_request_body_carries_has_a_maximum(schema) -> None:
    """A plain serializer's IntegerField has no bound of its own: without one, a number past the
    column reached the INSERT and PostgreSQL answered 500 (tests/test_input_bounds.py). Related
    ids are documented as bigints (affiliates.api.schema.AutoSchema)."""
    found = []
    for method, path, operation in _operations(schema):
        for content in operation.get("requestBody", {}).get("content", {}).values():
            found += _unbounded_integers(schema, content["schema"], f"{method} {path}", frozenset())
    assert sorted(set(found)) == []


def test_lists_answered_whole_are_documented_as_lists_not_pages(schema, nadia, shoes, api_as) -> None:
    """make fuzz (100 examples): two actions on paginated viewsets answered a plain list while
    the schema, following the viewset, documented a page with page and search parameters."""
    api = api_as(nadia)
    template = api.post(
        "/api/v1/naming-templates/", {"name": "Channels", "field": "sub1", "pattern": "{channel}-{geo}"}
    )
    assert template.status_code == 201, template.content
    answers = {
        "/api/v1/holdout-tests/modelled/": api.get("/api/v1/holdout-tests/modelled/", {"offer": shoes.pk}),
        "/api/v1/naming-templates/{id}/report/": api.get(
            f"/api/v1/naming-templates/{template.json()['id']}/report/", {"group_by": "channel"}
        ),
    }
    for path, response in answers.items():
        assert response.status_code == 200, response.content
        assert isinstance(response.json(), list)
        operation = schema["paths"][path]["get"]
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
        assert not {"page", "page_size", "search"} & {p["name"] for p in operation["parameters"]}
