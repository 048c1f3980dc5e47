"""The smart-link list on the one list helper (affiliates.portal.tables): search, filters,
sortable columns, pagination and the CSV of the same rows, for publishers (theirs), advertisers
(those they made) and staff (every link; account managers their accounts')."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from affiliates.models import Publisher
from affiliates.portal.tables import Column, Filter, ListSpec, model_choices
from affiliates.roles import Actor
from tracking.models import SmartLink
from tracking.smartlinks.services import smart_links_visible


def _paths(smart: SmartLink) -> str:
    return "; ".join(
        f"{p.label or p.offer.name}{' (catch-all)' if p.is_catch_all else ''}" for p in smart.paths.all()
    )


SMART_LINKS = ListSpec(
    columns=(
        Column("name", "Name", "name", value="name"),
        Column("publisher", "Publisher", "publisher__name", value="publisher.name"),
        Column("paths", "Paths", "n_paths", value=_paths),
        Column("mode", "Weights", "mode", value="get_mode_display"),
        Column("kpi", "KPI", "kpi", value="get_kpi_display"),
        Column("last_run", "Last run", "last_run_at", value="last_run_at"),
        Column("created", "Created", "created_at", value="created_at"),
        Column("link", "Link", value="tracking_url"),
    ),
    default_sort="-created",
    search=("name", "publisher__name", "token"),
    search_label="Name, publisher or link token",
    filters=(
        Filter("mode", "Weights", "mode", SmartLink.Mode.choices),
        Filter("kpi", "KPI", "kpi", SmartLink.Kpi.choices),
        Filter("publisher", "Publisher", "publisher_id", model_choices(Publisher.objects.all())),
    ),
    page_size=25,
)


def smart_links_listed(actor: Actor) -> QuerySet[SmartLink]:
    """The links the actor may see, with what the rows show (paths, their offers)."""
    return smart_links_visible(actor=actor).annotate(n_paths=Count("paths")).prefetch_related("paths__offer")
