"""The audit log as each role may read it, and the affiliates models it covers.

Each app registers its own models in its ``ready()`` (tracking: offer targets; payouts:
commissions, payouts, payout runs, postback endpoints), with whose they are and which fields
each role may read: the fields of the serializer that role gets from the API for that model
(affiliates/api/serializers.py, payouts/api/serializers.py), never more. A field the spec does
not name is shown to staff only, so a field added later does not leak by default.

- staff read every entry and every field, and search the changes' text;
- an advertiser reads the entries about its account, its offers and their parts (goals, caps,
  custom payouts, coupons, creatives, targets), the accesses to its offers and the commissions
  on them: never a commission's payout, never a publisher's account;
- a publisher reads the entries about its account, its accesses, custom payouts, payouts,
  postback endpoints and commissions: never revenue, never the advertiser's fields.

Who made a change is shown to another role only as "network" or "system"; a member's own
team's changes show the member's e-mail and address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from affiliates import models as m
from affiliates import team_models as tm
from affiliates.core.audit import SPECS, AuditEntry, AuditSpec, audit_register
from affiliates.core.db import db_id
from affiliates.credentials import ApiKey
from affiliates.roles import Actor, scope

PARTY = ("legal_name", "address", "country", "tax_id")
OFFER_FIELDS = (
    "name",
    "description",
    "category",
    "status",
    "starts_at",
    "ends_at",
    "visibility",
    "landing_url",
    "preview_url",
    "deep_links_allowed",
    "allowed_domains",
    "fallback_offer",
    "fallback_url",
    "currency",
    "attribution_window_days",
    "attribution_model",
    "hold_days",
    "unique_click_window_hours",
    "min_click_to_conversion_seconds",
    "max_click_to_conversion_seconds",
    "slow_conversion_action",
    "max_sale_amount",
    "target_countries",
    "target_devices",
    "target_os",
    "allowed_traffic",
    "terms",
    "created_at",
)
ACTIONS = {
    "create": AuditEntry.Action.CREATE,
    "update": AuditEntry.Action.UPDATE,
    "delete": AuditEntry.Action.DELETE,
}
ACTION_NAMES = {v: k for k, v in ACTIONS.items()}


def register() -> None:
    """The affiliates models' audit specs (AffiliatesConfig.ready)."""
    # API keys: made and revoked (staff-only entries); never the hash, and not each use.
    audit_register(ApiKey, label="api key", exclude=["key_hash", "last_used_at"])
    audit_register(
        m.Advertiser,
        label="advertiser",
        advertiser="id",
        advertiser_fields=(
            "name",
            "status",
            "currency",
            "postback_token_hint",
            "ip_allowlist",
            "value_horizon_days",
            *PARTY,
        ),
        # The HMAC key of its customers' ids: a secret, never logged.
        exclude=["customer_key"],
    )
    audit_register(
        m.Publisher,
        label="publisher",
        publisher="id",
        publisher_fields=(
            "name",
            "email",
            "status",
            "website",
            "payout_method",
            "payout_details",
            "payout_currency",
            "minimum_payout",
            "status_changed_at",
            *PARTY,
        ),
    )
    audit_register(
        m.Offer,
        label="offer",
        advertiser="advertiser_id",
        advertiser_fields=OFFER_FIELDS,
        exclude=["updated_at"],
    )
    offer_part = "offer.advertiser_id"  # an offer's parts belong to its advertiser
    goal_fields = (
        "offer",
        "code",
        "name",
        "payout_type",
        "payout",
        "revenue",
        "is_default",
        "allow_multiple",
    )
    audit_register(m.Goal, label="goal", advertiser_fields=goal_fields, advertiser=offer_part)
    audit_register(
        m.Cap,
        label="cap",
        advertiser_fields=("offer", "metric", "period", "scope", "publisher", "limit"),
        advertiser=offer_part,
    )
    audit_register(
        m.CustomPayout,
        label="custom payout",
        publisher="publisher_id",
        advertiser_fields=("publisher", "offer", "goal", "countries", "min_sale_amount", "payout", "revenue"),
        publisher_fields=("offer", "goal", "countries", "min_sale_amount", "payout"),
        advertiser=offer_part,
    )
    audit_register(
        m.Coupon,
        label="coupon",
        advertiser_fields=("code", "publisher", "offer", "active"),
        advertiser=offer_part,
    )
    audit_register(
        m.OfferAccess,
        label="access",
        publisher="publisher_id",
        advertiser_fields=("offer", "publisher", "status", "note", "decided_at"),
        publisher_fields=("offer", "status", "note", "decided_at", "token"),
        advertiser=offer_part,
    )
    audit_register(
        m.Creative,
        label="creative",
        advertiser_fields=("offer", "name", "kind", "image_url", "body", "width", "height", "active"),
        advertiser=offer_part,
    )
    audit_register(m.FxRate, label="fx rate")
    audit_register(m.NetworkTerms, label="network terms")
    audit_register(
        m.OfferTarget,
        label="offer target",
        advertiser="offer.advertiser_id",
        advertiser_fields=("period", "conversions"),
        exclude=["updated_at"],
    )
    # Teams and staff roles (affiliates.team, affiliates.staff): each invitation, member, role
    # and assignment change. Members read their own team's entries; staff roles are staff-only.
    audit_register(
        tm.AdvertiserMember,
        label="advertiser team member",
        advertiser="advertiser_id",
        advertiser_fields=("user", "role"),
    )
    audit_register(
        tm.PublisherMember,
        label="publisher team member",
        publisher="publisher_id",
        publisher_fields=("user", "role"),
    )
    invite_fields = ("email", "role", "expires_at", "accepted_at", "revoked_at")
    audit_register(
        tm.TeamInvite,
        label="team invitation",
        advertiser="advertiser_id",
        publisher="publisher_id",
        advertiser_fields=invite_fields,
        publisher_fields=invite_fields,
        exclude=["token_digest"],
    )
    domain_fields = ("host", "verified_at")
    audit_register(
        m.TrackingDomain,
        label="tracking domain",
        advertiser="advertiser_id",
        publisher="publisher_id",
        advertiser_fields=domain_fields,
        publisher_fields=domain_fields,
    )
    audit_register(tm.StaffMember, label="staff role", exclude=["updated_at"])
    audit_register(tm.AccountAssignment, label="account assignment")
    # Users: only what code logs about them (an admin's 2FA reset), staff-only entries; their
    # saves are not logged (every login writes last_login).
    audit_register(get_user_model(), label="user", signals=False)
    # The log itself: the retention job's prunes (affiliates/core/audit_retention.py).
    audit_register(AuditEntry, label="audit log", signals=False)


# --- reading -------------------------------------------------------------------------------


def object_types(actor: Actor) -> dict[str, str]:
    """The object types the actor may filter by: label -> model label."""
    return {
        spec.label: model_label
        for model_label, spec in sorted(SPECS.items(), key=lambda kv: kv[1].label)
        if actor.is_staff or _fields_for(spec, actor)
    }


def _fields_for(spec: AuditSpec, actor: Actor) -> frozenset[str]:
    if actor.is_advertiser:
        return spec.advertiser_fields
    if actor.is_publisher:
        return spec.publisher_fields
    return frozenset()


def _content_types(model_labels: Iterable[str]) -> list[int]:
    out = []
    for label in model_labels:
        app_label, model_name = label.split(".")
        out.append(ContentType.objects.get_by_natural_key(app_label, model_name.lower()).pk)
    return out


def audit_entries_visible(actor: Actor) -> QuerySet[AuditEntry]:
    """The entries the actor may read at all (their fields are narrowed by ``entry_changes``)."""
    qs: QuerySet[AuditEntry] = AuditEntry.objects.select_related("actor", "content_type").order_by(
        "-timestamp", "-id"
    )
    if actor.is_staff:
        # Account managers: their accounts' entries (network-wide ones are not theirs).
        return scope(qs, actor, advertiser_path="advertiser_id", publisher_path="publisher_id")
    types = _content_types(label for label, spec in SPECS.items() if _fields_for(spec, actor))
    if actor.is_advertiser:
        return qs.filter(advertiser_id=actor.advertiser_pk, content_type_id__in=types)
    if actor.is_publisher:
        return qs.filter(publisher_id=actor.publisher_pk, content_type_id__in=types)
    return qs.none()


@dataclass(frozen=True)
class AuditFilters:
    object_type: str = ""  # a label from object_types()
    object_id: int | None = None
    actor: str = ""  # a user id, or part of an e-mail or username (staff only)
    action: str = ""  # create, update, delete
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""


def audit_entries(*, actor: Actor, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The entries the actor may read, narrowed by ``filters``. A filter on something the
    actor may not see answers as one on something that does not exist: no rows."""
    qs: QuerySet[AuditEntry] = audit_entries_visible(actor)
    f = filters
    if f.object_type:
        model_label = object_types(actor).get(f.object_type)
        if model_label is None:
            return qs.none()
        qs = qs.filter(content_type_id__in=_content_types([model_label]))
    if f.object_id is not None:
        qs = qs.filter(object_id=f.object_id)
    if f.action:
        qs = qs.filter(action=ACTIONS[f.action]) if f.action in ACTIONS else qs.none()
    if f.since is not None:
        qs = qs.filter(timestamp__gte=f.since)
    if f.until is not None:
        qs = qs.filter(timestamp__lt=f.until)
    if f.actor and actor.is_staff:
        who = Q(actor__email__icontains=f.actor) | Q(actor__username__icontains=f.actor)
        if (actor_id := db_id(f.actor)) is not None:
            who |= Q(actor_id=actor_id)
        if f.actor.lower() == "system":
            who = Q(actor__isnull=True)
        qs = qs.filter(who)
    if f.text:
        # Others search the object's name only: the changes' text holds fields they cannot read.
        text = Q(object_repr__icontains=f.text)
        if actor.is_staff:
            text |= Q(changes__icontains=f.text) | Q(source__icontains=f.text)
        qs = qs.filter(text)
    return qs


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class EntryRow:
    """One entry as the reader may see it: the API's and the portals' rendering."""

    id: int
    timestamp: datetime
    object_type: str
    object_id: int | None
    object_repr: str
    action: str
    actor: str
    remote_addr: str
    source: str
    changes: list[FieldChange]


def entry_rows(entries: Iterable[AuditEntry], actor: Actor) -> list[EntryRow]:
    team = _team_user_ids(actor)
    return [
        EntryRow(
            id=e.pk,
            timestamp=e.timestamp,
            object_type=_spec_label(e),
            object_id=e.object_id,
            object_repr=e.object_repr,
            action=ACTION_NAMES.get(e.action, "access"),
            actor=_actor_shown(e, actor, team),
            remote_addr=(e.remote_addr or "") if actor.is_staff or e.actor_id in team else "",
            source=e.source,
            changes=entry_changes(e, actor),
        )
        for e in entries
    ]


def entry_changes(entry: AuditEntry, actor: Actor) -> list[FieldChange]:
    """The entry's field changes the actor may read, before -> after."""
    changes: dict[str, Any] = entry.changes if isinstance(entry.changes, dict) else {}
    spec = SPECS.get(_model_label(entry))
    allowed = None if actor.is_staff else _fields_for(spec, actor) if spec else frozenset()
    out = []
    for name, pair in sorted(changes.items()):
        if allowed is not None and name not in allowed:
            continue
        before, after = ([*pair, None, None][:2]) if isinstance(pair, list) else (None, pair)
        if _shown(before) in BLANK and _shown(after) in BLANK:
            continue  # a create's empty fields: nothing to read
        out.append(FieldChange(name, _shown(before), _shown(after)))
    return out


BLANK = frozenset({"", "[]", "{}"})


def _shown(value: Any) -> str:
    return "" if value in (None, "None") else str(value)


def _model_label(entry: AuditEntry) -> str:
    ct = entry.content_type
    model = ct.model_class()
    return model._meta.label if model is not None else f"{ct.app_label}.{ct.model}"


def _spec_label(entry: AuditEntry) -> str:
    spec = SPECS.get(_model_label(entry))
    return spec.label if spec else entry.content_type.model


def _actor_shown(entry: AuditEntry, actor: Actor, team: frozenset[int]) -> str:
    """Who made the change, as the reader may know it: another role's people are "network"."""
    user = entry.actor
    if user is None:
        if entry.actor_email:  # the user was deleted since
            return entry.actor_email if actor.is_staff else "network"
        return f"system ({entry.source})" if entry.source else "system"
    if actor.is_staff or user.pk in team:
        return str(user.email or user.get_username())
    return "network" if user.is_staff else "another account"


def _team_user_ids(actor: Actor) -> frozenset[int]:
    if actor.is_advertiser:
        through: Any = m.Advertiser.members.through
        rows = through.objects.filter(advertiser_id=actor.advertiser_pk)
    elif actor.is_publisher:
        through = m.Publisher.members.through
        rows = through.objects.filter(publisher_id=actor.publisher_pk)
    else:
        return frozenset()
    return frozenset(rows.values_list("user_id", flat=True))
