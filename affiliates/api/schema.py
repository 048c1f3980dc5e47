"""The OpenAPI schema's error responses: every operation documents the errors it can answer, in
the one shape the exception handler (affiliates.api.base) gives them.

- 400: bad input (a field, a filter, a page size; text with a NUL byte: ``bad_encoding``);
- 401: no credentials, or a token that is not valid;
- 403: the role or the account's status does not allow it;
- 404: the object, or the page of a list, is not there or not the caller's to see; any
  operation answers 404 to a ``?format=`` it does not render (DRF's format override);
- 409: a write that conflicts with another record or with the object's state;
- 429: too many failed attempts from this address (``locked_out``), with Retry-After.

A serializer whose fields depend on the caller's role (``role_shaped = True``: a publisher's offer
has no revenue, an advertiser's commission no payout, and a publisher reads offers in the
marketplace's shape) documents its response fields as optional, ``id`` excepted: the schema is
one for every role, and each field's description says who sees it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from rest_framework import serializers

from affiliates.api.routers import ID_PATTERN
from affiliates.core.db import MAX_ID

ERRORS = {
    "400": "Bad input: `code` names the problem, `fields` the fields at fault.",
    "401": "No credentials, or a token that is not valid.",
    "403": "Not allowed for this role or account status (`code`: `permission_denied`, `account_*`).",
    "404": "Not found, not visible to the caller, a page past the last, or an unknown `?format=`.",
    "409": "Conflicts with another record or with the object's status.",
    "415": "A body in a media type the operation does not read (`unsupported_media_type`): send JSON.",
    "429": "Locked out after too many failed attempts from this address (`locked_out`); see Retry-After.",
}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODIES = frozenset({"POST", "PUT", "PATCH"})


class ErrorSerializer(serializers.Serializer[Any]):
    """Every API error: a machine-readable code, a sentence, and for bad input the fields."""

    code = serializers.CharField(help_text="Machine-readable: `invalid`, `not_found`, `bad_encoding`, ...")
    message = serializers.CharField(help_text="A sentence for people.")
    # DRF's metaclass moves declared fields out of the class, so this does not shadow .fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        required=False,
        child=serializers.JSONField(),
        help_text="400 only: the messages per field (`non_field_errors` for the whole input).",
    )


class AutoSchema(openapi.AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404"]
        if self.method in WRITES:
            codes.append("409")
        if self.method in BODIES:
            codes.append("415")  # schemathesis sent multipart to a JSON-only action
        return [*codes, "429"]

    def _resolve_path_parameters(self, variables: Any) -> list[dict[str, Any]]:
        """An id in a path (the routers' ID_PATTERN) is an integer, not a string of digits."""
        parameters: list[dict[str, Any]] = super()._resolve_path_parameters(variables)  # type: ignore[no-untyped-call]
        for parameter in parameters:
            if parameter["schema"].get("pattern") == f"^{ID_PATTERN}$":
                parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}
        return parameters

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        """A related object's id in a request is a bigint: documented with its maximum, like every
        other integer a request carries (a number past it is a 400 ``does_not_exist``)."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)  # type: ignore[no-untyped-call]
        related = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
        if direction == "request" and isinstance(related, serializers.PrimaryKeyRelatedField):
            target = schema.get("items", schema)
            types = target.get("type")
            if types == "integer" or (isinstance(types, list) and "integer" in types):
                target.setdefault("maximum", MAX_ID)
        return schema

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)  # type: ignore[no-untyped-call]
        if direction == "response":
            # A URL in an answer may be "" (a blank URLField; read-only fields lose allow_blank).
            for name, prop in list(schema.get("properties", {}).items()):
                if prop.get("format") == "uri":
                    prop = {k: v for k, v in prop.items() if k != "format"}
                    schema["properties"][name] = {**prop, "anyOf": [{"format": "uri"}, {"maxLength": 0}]}
        if direction == "response" and getattr(serializer, "role_shaped", False) and "required" in schema:
            required = [name for name in schema["required"] if name == "id"]
            schema = {k: v for k, v in schema.items() if k != "required"}
            if required:
                schema["required"] = required
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    ErrorSerializer, code, None, direction
                )
                responses[code] = {**response, "description": ERRORS[code]}
        return responses
