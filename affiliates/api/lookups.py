"""The API's filter backends: what ``?search=``, ``?ordering=`` and id filters may touch.

A search or a sort is an oracle when it reaches a field the caller cannot read: an advertiser
who searches publishers for ``@gmail.com`` learns their hidden e-mail addresses one guess at a
time, and a publisher who sorts commissions by revenue learns the network's margin. So, for
every list endpoint (these are the project's DEFAULT_FILTER_BACKENDS), a non-staff caller's
search and ordering fields are narrowed to the fields of the very serializer that role gets:

- a field of that serializer (by its source, nested serializers included) is visible;
- ``<relation>__name`` (or ``__code``, ``__txn_id``) is visible when the relation itself is a
  field the role reads: the related object is then one the role may see (the queryset and the
  serializers are scoped by affiliates.roles), and these are its public face;
- anything else (``email`` for an advertiser, ``revenue`` for a publisher, a SerializerMethodField
  that shows a computed price rather than the column) is dropped, as an unknown field is.

Filters on a related id (``?offer=12``) never look the id up: every foreign key is filtered by
plain number, so an id the caller cannot see and an id that does not exist both answer 200 with
no rows (the list is already scoped to the caller's tenant). ``IdFilterSet`` is the base of every
filter set; the backend refuses to run one that is not.

Every datetime filter of such a set reads its value through ``UtcDateTimeField``: any ISO 8601
offset Python accepts (up to +-23:59) is turned into UTC before the query, since PostgreSQL
refuses offsets beyond +-15:59 (a 500 before) and SQLite stores UTC; a value that falls outside
the calendar once in UTC (year 1 with a positive offset) is a 400.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import django_filters as df
from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, serializers
from rest_framework.request import Request

from affiliates.core.db import MAX_ID
from affiliates.roles import actor_for

#: Fields of a related object every role that sees the relation may search and sort by.
PUBLIC_FACE = frozenset({"name", "code", "txn_id"})


class IdFilter(df.NumberFilter):
    """A related object's id as a plain positive integer: never looked up, so never an oracle."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, in UTC (naive ones are read in the current time zone)."""

    def to_python(self, value: Any) -> datetime | None:
        parsed: datetime | None = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("The date and time is out of range.", code="bad_datetime") from None


class IdFilterSet(df.FilterSet):
    """The base of every API filter set: foreign keys are filtered by id (IdFilter), date and
    times in UTC (UtcDateTimeField)."""

    FILTER_DEFAULTS = {
        **df.filterset.FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.OneToOneRel: {"filter_class": IdFilter},
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():  # this instance's copies: the class keeps its own
            if isinstance(filter_, df.DateTimeFilter):
                filter_.field_class = UtcDateTimeField


class ScopedFilterBackend(DjangoFilterBackend):
    filterset_base = IdFilterSet

    def get_filterset_class(self, view: Any, queryset: QuerySet[Any] | None = None) -> Any:
        filterset_class = super().get_filterset_class(view, queryset)
        if filterset_class is not None and not issubclass(filterset_class, IdFilterSet):
            raise ImproperlyConfigured(
                f"{filterset_class.__name__} must derive from affiliates.api.lookups.IdFilterSet."
            )
        return filterset_class


def _paths(serializer: serializers.BaseSerializer[Any], prefix: str = "") -> Iterator[tuple[str, bool]]:
    """(lookup path, is a relation) of every field the serializer reads from the model."""
    fields = getattr(serializer, "fields", {})
    for field in fields.values():
        if field.source == "*" or isinstance(field, serializers.SerializerMethodField):
            continue
        path = prefix + field.source.replace(".", "__")
        nested = field.child if isinstance(field, serializers.ListSerializer) else field
        if isinstance(nested, serializers.BaseSerializer):
            yield path, False
            yield from _paths(nested, path + "__")
            continue
        relation = isinstance(field, serializers.RelatedField | serializers.ManyRelatedField)
        yield path, relation


def visible_lookups(view: Any) -> tuple[frozenset[str], frozenset[str]]:
    """The lookup paths the requesting role reads through this view's serializer, and which of
    them are relations."""
    cached: tuple[frozenset[str], frozenset[str]] | None = getattr(view, "_visible_lookups", None)
    if cached is None:
        pairs = list(_paths(view.get_serializer()))
        cached = frozenset(p for p, _ in pairs), frozenset(p for p, rel in pairs if rel)
        view._visible_lookups = cached
    return cached


def lookup_allowed(view: Any, request: Request, lookup: str) -> bool:
    """May the requesting actor search or sort this view's rows by ``lookup``?"""
    if actor_for(request.user).is_staff:
        # Every staff role reads every field of the rows it gets; an account manager's rows are
        # already narrowed to their accounts (roles.scope), so a lookup only filters those.
        return True
    path = lookup.lstrip("^=@$-")
    fields, relations = visible_lookups(view)
    if path in fields:
        return True
    head, _, rest = path.rpartition("__")
    return head in relations and rest in PUBLIC_FACE


class RoleSearchFilter(filters.SearchFilter):
    def get_search_fields(self, view: Any, request: Request) -> Sequence[str] | None:
        declared: Sequence[str] | None = super().get_search_fields(view, request)
        if not declared or not self.get_search_terms(request):
            return declared  # nothing is searched: no need to build the role's serializer
        return [f for f in declared if lookup_allowed(view, request, f)]


class RoleOrderingFilter(filters.OrderingFilter):
    def get_valid_fields(
        self, queryset: QuerySet[Any], view: Any, context: Mapping[str, Any] = MappingProxyType({})
    ) -> list[tuple[str, str]]:
        valid: list[tuple[str, str]] = super().get_valid_fields(queryset, view, context)
        request = context.get("request")
        if request is None:
            return valid
        return [(name, label) for name, label in valid if lookup_allowed(view, request, name)]
