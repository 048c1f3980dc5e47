"""The staff console's partner lists: what each shows, sorts and filters by (affiliates.portal.tables)
and the rows it reads, always through affiliates.roles.visible, so a narrower staff role later
narrows these pages too."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from affiliates.models import Advertiser, Coupon, Creative, FxRate, Offer, OfferAccess, Publisher
from affiliates.portal.tables import Column, Filter, ListSpec, model_choices
from affiliates.roles import Actor, scope, visible


def _statuses(choices: Any) -> list[tuple[str, str]]:
    return [(value, str(label).capitalize()) for value, label in choices]


ADVERTISERS = ListSpec(
    columns=(
        Column("name", "Advertiser", "name", value="name"),
        Column("status", "Status", "status", value="get_status_display"),
        Column("currency", "Currency", "currency", value="currency"),
        Column("offers", "Live offers", "live_offers", num=True, value="live_offers"),
        Column("created", "Since", "created_at", value="created_at"),
    ),
    default_sort="name",
    search=("name", "legal_name"),
    search_label="Name or legal name",
    filters=(
        Filter("status", "Status", "status", _statuses(Advertiser.Status.choices)),
        Filter("currency", "Currency", "currency", lambda actor: _values(Advertiser, "currency")),
    ),
)

PUBLISHERS = ListSpec(
    columns=(
        Column("name", "Publisher", "name", value="name"),
        Column("email", "Contact", "email", value="email"),
        Column("status", "Status", "status", value="get_status_display"),
        Column("method", "Payout method", "payout_method", value="get_payout_method_display"),
        Column("offers", "Offers", "running", num=True, value="running"),
        Column("created", "Signed up", "created_at", value="created_at"),
    ),
    default_sort="-created",
    search=("name", "email", "website"),
    search_label="Name, e-mail or website",
    filters=(
        Filter("status", "Status", "status", _statuses(Publisher.Status.choices)),
        Filter("method", "Payout method", "payout_method", Publisher.PayoutMethod.choices),
    ),
)

OFFERS = ListSpec(
    columns=(
        Column("name", "Offer", "name", value="name"),
        Column("advertiser", "Advertiser", "advertiser__name", value="advertiser.name"),
        Column("category", "Category", "category", value="category"),
        Column("visibility", "Visibility", "visibility", value="get_visibility_display"),
        Column("status", "Status", "status", value="get_status_display"),
        Column("publishers", "Publishers", "running", num=True, value="running"),
        Column("updated", "Changed", "updated_at", value="updated_at"),
    ),
    default_sort="name",
    search=("name", "category", "advertiser__name"),
    search_label="Offer, category or advertiser",
    filters=(
        Filter("status", "Status", "status", _statuses(Offer.Status.choices)),
        Filter("visibility", "Visibility", "visibility", Offer.Visibility.choices),
        Filter("advertiser", "Advertiser", "advertiser_id", model_choices(Advertiser.objects.all())),
    ),
)

ACCESSES = ListSpec(
    columns=(
        Column("publisher", "Publisher", "publisher__name", value="publisher.name"),
        Column("offer", "Offer", "offer__name", value="offer.name"),
        Column("advertiser", "Advertiser", "offer__advertiser__name", value="offer.advertiser.name"),
        Column("status", "Status", "status", value="get_status_display"),
        Column("applied", "Applied", "created_at", value="created_at"),
        Column("decided", "Decided", "decided_at", value="decided_at"),
        Column("decision", "Decision", num=True),
    ),
    default_sort="-applied",
    search=("publisher__name", "offer__name", "offer__advertiser__name"),
    search_label="Publisher, offer or advertiser",
    filters=(
        Filter("status", "Status", "status", _statuses(OfferAccess.Status.choices)),
        Filter("advertiser", "Advertiser", "offer__advertiser_id", model_choices(Advertiser.objects.all())),
        Filter("publisher", "Publisher", "publisher_id", model_choices(Publisher.objects.all())),
        Filter("offer", "Offer", "offer_id", model_choices(Offer.objects.all())),
    ),
)

ACTIVE = [("True", "Active"), ("False", "Inactive")]

COUPONS = ListSpec(
    columns=(
        Column("code", "Code", "code", value="code"),
        Column("offer", "Offer", "offer__name", value="offer.name"),
        Column("advertiser", "Advertiser", "offer__advertiser__name", value="offer.advertiser.name"),
        Column("publisher", "Publisher", "publisher__name", value="publisher.name"),
        Column("active", "Active", "active", value="active"),
        Column("created", "Created", "created_at", value="created_at"),
    ),
    default_sort="code",
    search=("code", "offer__name", "publisher__name"),
    search_label="Code, offer or publisher",
    filters=(
        Filter("active", "Active", "active", ACTIVE),
        Filter("advertiser", "Advertiser", "offer__advertiser_id", model_choices(Advertiser.objects.all())),
        Filter("publisher", "Publisher", "publisher_id", model_choices(Publisher.objects.all())),
    ),
)

CREATIVES = ListSpec(
    columns=(
        Column("name", "Creative", "name", value="name"),
        Column("kind", "Kind", "kind", value="get_kind_display"),
        Column("offer", "Offer", "offer__name", value="offer.name"),
        Column("advertiser", "Advertiser", "offer__advertiser__name", value="offer.advertiser.name"),
        Column(
            "size", "Size", "width", value=lambda r: f"{r.width}×{r.height}" if r.width and r.height else ""
        ),
        Column("active", "Active", "active", value="active"),
        Column("created", "Created", "created_at", value="created_at"),
    ),
    default_sort="name",
    search=("name", "offer__name", "offer__advertiser__name"),
    search_label="Creative, offer or advertiser",
    filters=(
        Filter("kind", "Kind", "kind", Creative.Kind.choices),
        Filter("active", "Active", "active", ACTIVE),
        Filter("advertiser", "Advertiser", "offer__advertiser_id", model_choices(Advertiser.objects.all())),
    ),
)

FX_RATES = ListSpec(
    columns=(
        Column("pair", "Pair", "base", value=lambda r: f"{r.base}/{r.quote}"),
        Column("quote", "Quote", "quote", value="quote"),
        Column("rate", "Rate", "rate", num=True, value="rate"),
        Column("valid_from", "In force from", "valid_from", value="valid_from"),
        Column("entered", "Entered", "created_at", value="created_at"),
    ),
    default_sort="-valid_from",
    filters=(
        Filter("base", "Base", "base", lambda actor: _values(FxRate, "base")),
        Filter("quote", "Quote", "quote", lambda actor: _values(FxRate, "quote")),
    ),
)


def _values(model: Any, name: str) -> list[tuple[str, str]]:
    """The distinct values a column holds, as filter options (currencies in use)."""
    values = model.objects.order_by(name).values_list(name, flat=True).distinct()
    return [(v, v) for v in values]


def advertisers_for(actor: Actor) -> QuerySet[Advertiser]:
    live = Count("offers", filter=Q(offers__status=Offer.Status.ACTIVE))
    return visible(Advertiser.objects.annotate(live_offers=live), actor)


def publishers_for(actor: Actor) -> QuerySet[Publisher]:
    running = Count("accesses", filter=Q(accesses__status=OfferAccess.Status.APPROVED))
    return visible(Publisher.objects.annotate(running=running), actor)


def offers_for(actor: Actor) -> QuerySet[Offer]:
    running = Count("accesses", filter=Q(accesses__status=OfferAccess.Status.APPROVED))
    return visible(Offer.objects.select_related("advertiser").annotate(running=running), actor)


def accesses_for(actor: Actor) -> QuerySet[OfferAccess]:
    qs = OfferAccess.objects.select_related("publisher", "offer", "offer__advertiser")
    return visible(qs, actor)


def fx_rates_for(actor: Actor) -> QuerySet[FxRate]:
    return FxRate.objects.all() if actor.is_staff else FxRate.objects.none()


def coupons_for(actor: Actor) -> QuerySet[Coupon]:
    return visible(Coupon.objects.select_related("offer", "offer__advertiser", "publisher"), actor)


def creatives_for(actor: Actor) -> QuerySet[Creative]:
    qs = Creative.objects.select_related("offer", "offer__advertiser")
    return scope(qs, actor, advertiser_path="offer__advertiser_id", publisher_path=None)
