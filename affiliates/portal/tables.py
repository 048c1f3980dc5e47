"""One list helper for every staff list page: search, filters, sortable columns, pagination.

A page declares a ``ListSpec``: the columns it shows (each sortable one names the ORM field it
sorts by), the fields free text searches and the filters it offers. Only what the spec names is
ever applied, so a query string cannot sort or filter on a field the page does not show (a
hidden field used as a sort key would leak its order, one page at a time). Unknown or malformed
parameters are ignored, never an error: a list always renders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import F, Model, Q, QuerySet
from django.http import HttpRequest, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify

from affiliates.core.db import db_id
from affiliates.core.spreadsheet import csv_lines
from affiliates.roles import Actor, actor_for, visible

Choices = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    #: The ORM field the column sorts by; None: not sortable.
    order_by: str | None = None
    num: bool = False
    #: The CSV cell: a dotted path on the row (``advertiser.name``, ``get_status_display``) or a
    #: callable of the row. Names, never raw ids where a name exists. "": the column is an
    #: action (buttons), not data, and the CSV leaves it out.
    value: str | Callable[[Any], Any] = ""


@dataclass(frozen=True)
class Filter:
    key: str
    label: str
    #: The ORM lookup the chosen value is matched with (``status``, ``offer__advertiser_id``).
    lookup: str
    #: (value, label) pairs, or a callable giving the viewer's (read per request, e.g. the
    #: advertisers the viewer may see: a narrower staff role is offered fewer names).
    choices: Choices | Callable[[Actor], Choices] = ()
    #: Applied when the parameter is absent; ``?key=`` (empty) means "any".
    default: str = ""

    def options(self, actor: Actor) -> Choices:
        return self.choices(actor) if callable(self.choices) else self.choices


@dataclass(frozen=True)
class ListSpec:
    columns: tuple[Column, ...]
    #: A column key, "-" in front for descending.
    default_sort: str
    #: Fields free text is matched against (icontains); a whole number also matches the id.
    search: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    search_label: str = "Search"
    #: "icontains", or "exact" where a table is too big to scan (conversions: txn id, sub1).
    search_lookup: str = "icontains"
    page_size: int = 50

    def sortable(self) -> dict[str, str]:
        return {c.key: c.order_by for c in self.columns if c.order_by}


@dataclass
class Table:
    page: Page[Any]
    headers: list[dict[str, Any]]
    filters: list[dict[str, Any]]
    q: str
    searchable: bool
    search_label: str
    #: The query string without the page number, for the pager's links.
    query: str
    #: The same list as CSV (every page, same search, filters and sort).
    csv_url: str = ""
    active: dict[str, str] = field(default_factory=dict)
    #: A search or a filter other than its default narrows the list: an empty page then says
    #: "nothing matches", not the list's own "nothing here yet".
    narrowed: bool = False


def _sort(params: Mapping[str, str], spec: ListSpec) -> tuple[str, bool]:
    """The sort key and direction asked for, if the spec allows it, else the default."""
    sortable = spec.sortable()
    raw = params.get("sort", "") or spec.default_sort
    key, descending = raw.removeprefix("-"), raw.startswith("-")
    if key not in sortable:
        key, descending = spec.default_sort.removeprefix("-"), spec.default_sort.startswith("-")
    return key, descending


def _chosen(params: Mapping[str, str], spec: ListSpec, actor: Actor) -> dict[str, str]:
    """The filter values asked for, each one of its filter's options (else dropped)."""
    chosen: dict[str, str] = {}
    for flt in spec.filters:
        value = params.get(flt.key, flt.default)
        if value and value in {v for v, _ in flt.options(actor)}:
            chosen[flt.key] = value
    return chosen


def _nullable(model: type[Model], path: str) -> bool:
    """Whether the column a sort path ends at may hold NULL: a nullable field, or a nullable
    relation on the way (an annotation counts as nullable). Only such a sort says where NULLs
    go: "DESC NULLS LAST" on a NOT NULL column does not match its index's order, so PostgreSQL
    sorted the whole table for every page of a list (conversions, commissions) by date."""
    current: Any = model
    try:
        for name in path.split("__"):
            field = current._meta.get_field(name)
            if getattr(field, "null", True):
                return True
            if field.is_relation:
                current = field.related_model
    except FieldDoesNotExist:
        return True
    return False


def table_query(
    qs: QuerySet[Any], spec: ListSpec, params: Mapping[str, str], *, actor: Actor
) -> QuerySet[Any]:
    """``qs`` searched, filtered and sorted as ``params`` ask, within what ``spec`` allows."""
    lookups = {f.key: f.lookup for f in spec.filters}
    for key, value in _chosen(params, spec, actor).items():
        qs = qs.filter(**{lookups[key]: value})
    q = params.get("q", "").strip()[:100]
    if q and spec.search:
        match = Q()
        for name in spec.search:
            match |= Q(**{f"{name}__{spec.search_lookup}": q})
        if (pk := db_id(q)) is not None:  # an id, within a bigint
            match |= Q(pk=pk)
        qs = qs.filter(match)
    key, descending = _sort(params, spec)
    path = spec.sortable()[key]
    expr = F(path)
    if _nullable(qs.model, path):  # empty values last, whichever way
        ordered = expr.desc(nulls_last=True) if descending else expr.asc(nulls_last=True)
    else:
        ordered = expr.desc() if descending else expr.asc()
    # The primary key breaks ties, so a page boundary never splits equal rows differently.
    return qs.order_by(ordered, "-pk" if descending else "pk")


def table_build(qs: QuerySet[Any], spec: ListSpec, get: QueryDict, *, actor: Actor) -> Table:
    """Apply ``table_query`` and cut the page; headers and filters are ready for the template."""
    params = {k: get.get(k, "") for k in get}
    rows = table_query(qs, spec, params, actor=actor)
    page = Paginator(rows, spec.page_size).get_page(get.get("page"))
    key, descending = _sort(params, spec)
    chosen = _chosen(params, spec, actor)
    headers = []
    for col in spec.columns:
        current = col.key == key
        link = get.copy()
        link.pop("page", None)
        link["sort"] = f"-{col.key}" if current and not descending else col.key
        headers.append(
            {
                "label": col.label,
                "num": col.num,
                "url": f"?{link.urlencode()}" if col.order_by else "",
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    filters = [
        {"key": f.key, "label": f.label, "options": f.options(actor), "value": chosen.get(f.key, "")}
        for f in spec.filters
    ]
    query = get.copy()
    query.pop("page", None)
    for f in spec.filters:  # a default filter the viewer cleared stays cleared across pages
        if f.default:
            query.setdefault(f.key, chosen.get(f.key, ""))
    return Table(
        page=page,
        headers=headers,
        filters=filters,
        q=params.get("q", ""),
        searchable=bool(spec.search),
        search_label=spec.search_label,
        query=query.urlencode(),
        csv_url=_csv_url(query),
        active=chosen,
        narrowed=bool(params.get("q", "").strip())
        or any(chosen.get(f.key, "") != f.default for f in spec.filters),
    )


def _csv_url(query: QueryDict) -> str:
    link = query.copy()
    link["format"] = "csv"
    return f"?{link.urlencode()}"


def model_choices(qs: QuerySet[Model], label: str = "name") -> Callable[[Actor], Choices]:
    """Options for an id filter (``?advertiser=3``): the ids and names of the rows the viewer
    may see (affiliates.roles.visible), read per request."""

    def read(actor: Actor) -> Choices:
        rows = visible(qs, actor).order_by(label).values_list("pk", label)
        return [(str(pk), name) for pk, name in rows]

    return read


def cell(row: Any, value: str | Callable[[Any], Any]) -> Any:
    """One CSV cell of ``row``: a dotted path followed (None anywhere: empty), or a callable."""
    if callable(value):
        return value(row)
    current = row
    for part in value.split("."):
        current = getattr(current, part, None)
        if current is None:
            return ""
        if callable(current):  # get_status_display
            current = current()
    if isinstance(current, datetime):
        return timezone.localtime(current).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(current, date):
        return current.isoformat()
    if isinstance(current, bool):
        return "yes" if current else "no"
    return current


def table_rows_csv(rows: QuerySet[Any], spec: ListSpec) -> Iterator[str]:
    """Every row of ``rows`` (all pages), the data columns in the page's order, line by line."""
    columns = [c for c in spec.columns if c.value]
    # iterator(): a big list streams in chunks instead of loading into memory at once.
    body = ([cell(row, c.value) for c in columns] for row in rows.iterator(chunk_size=2000))
    return csv_lines([c.label for c in columns], body)


def table_csv(
    qs: QuerySet[Any], spec: ListSpec, get: QueryDict, *, actor: Actor, label: str
) -> StreamingHttpResponse:
    """The list as CSV: the rows the page shows under the same search, filters and sort."""
    params = {k: get.get(k, "") for k in get}
    rows = table_query(qs, spec, params, actor=actor)
    response = StreamingHttpResponse(table_rows_csv(rows, spec), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{slugify(label)}-{stamp}.csv"'
    return response


def table_render(
    request: HttpRequest, qs: QuerySet[Any], spec: ListSpec, *, label: str, rows: str, **extra: Any
) -> HttpResponseBase:
    """A whole list page: ``rows`` is the template of one row (``row`` in its context); with
    ``?format=csv`` the same list as a CSV download (every page)."""
    actor = actor_for(request.user)
    if request.GET.get("format") == "csv":
        return table_csv(qs, spec, request.GET, actor=actor, label=label)
    context = {
        "table": table_build(qs, spec, request.GET, actor=actor),
        "label": label,
        "rows": rows,
        **extra,
    }
    return render(request, "portal/console/list.html", context)
