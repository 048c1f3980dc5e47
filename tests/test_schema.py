"""The OpenAPI schema is valid OpenAPI 3 and documents every field; the docs work offline."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict[str, Any]:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


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
