"""Writes of frequency caps, negative lists and naming templates.

Who may write what: staff any scope; an advertiser its own scope and its own offers' (never
the network's); publishers none. Every row is saved one by one, so the audit log records each
(tracking/audit.py). A committed change tells this process's click path to reload its policy
before its next click; other processes reload within CLICK_POLICY_REFRESH_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.db import models, transaction
from django.db.models import QuerySet
from rest_framework import status

from affiliates.core.errors import DomainError
from affiliates.models import Advertiser, Offer, Publisher
from affiliates.roles import Actor, may_manage, visible
from tracking.clickpath import policy
from tracking.models.policy import FrequencyCap, ListEntry, NamingTemplate
from tracking.policy.csvlists import BadValue, csv_rows, value_clean
from tracking.policy.naming import TemplateError, template_parts

M = TypeVar("M", bound=models.Model)


class BadUpload(DomainError):
    """A CSV with bad rows: nothing was written; ``rows`` says what is wrong with each."""

    code = "bad_csv"

    def __init__(self, rows: list[dict[str, object]]) -> None:
        super().__init__(f"{len(rows)} row(s) refused; nothing was written.")
        self.rows = rows


@dataclass(frozen=True)
class Scope:
    advertiser: Advertiser | None = None
    offer: Offer | None = None


def scope_resolve(*, actor: Actor, advertiser: Advertiser | None, offer: Offer | None) -> Scope:
    """The scope a write names, checked against who writes it (an offer implies its advertiser)."""
    if offer is not None:
        if advertiser is not None and advertiser.pk != offer.advertiser_id:
            raise DomainError("The offer belongs to another advertiser.", code="bad_scope")
        advertiser = offer.advertiser
    if actor.is_account_manager and (advertiser is None or not may_manage(actor, advertiser)):
        # Network-wide rows and unassigned advertisers are not an account manager's to write.
        raise DomainError(
            "Not your offer or account.", code="not_found", status_code=status.HTTP_404_NOT_FOUND
        )
    if actor.is_staff:
        return Scope(advertiser, offer)
    if not actor.is_advertiser:
        raise DomainError(
            "Only staff and advertisers manage lists and caps.", code="forbidden", status_code=403
        )
    if advertiser is None:
        advertiser = Advertiser.objects.get(pk=actor.advertiser_pk)
    if advertiser.pk != actor.advertiser_pk:
        raise DomainError(
            "Not your offer or account.", code="not_found", status_code=status.HTTP_404_NOT_FOUND
        )
    return Scope(advertiser, offer)


def _changed() -> None:
    transaction.on_commit(policy.policy_stale)


def _publishers(actor: Actor) -> set[int]:
    return set(visible(Publisher.objects.all(), actor).values_list("pk", flat=True))


def _scoped(qs: QuerySet[M], scope: Scope) -> QuerySet[M]:
    return qs.filter(advertiser=scope.advertiser, offer=scope.offer)


@transaction.atomic
def list_entry_add(
    *, actor: Actor, scope: Scope, mode: str, kind: str, value: str, note: str = ""
) -> ListEntry:
    try:
        clean = value_clean(kind, value, publishers=_publishers(actor))
    except BadValue as exc:
        raise DomainError(str(exc), code="bad_value") from exc
    entry, _ = ListEntry.objects.get_or_create(
        advertiser=scope.advertiser,
        offer=scope.offer,
        mode=mode,
        kind=kind,
        value=clean,
        defaults={"note": note},
    )
    _changed()
    return entry


@transaction.atomic
def list_entries_upload(
    *, actor: Actor, scope: Scope, text: str, default_mode: str = "block", replace: bool = False
) -> dict[str, int]:
    """Apply a CSV to the scope's lists: all of it, or (any bad row) none of it. ``replace``:
    the scope's entries of the modes the file names that are not in the file are removed."""
    rows, errors = csv_rows(text, default_mode=default_mode, publishers=_publishers(actor))
    if errors:
        raise BadUpload(errors)
    existing = {(e.mode, e.kind, e.value): e for e in _scoped(ListEntry.objects.all(), scope)}
    added = 0
    for row in rows:
        if (row.mode, row.kind, row.value) in existing:
            continue
        ListEntry.objects.create(
            advertiser=scope.advertiser,
            offer=scope.offer,
            mode=row.mode,
            kind=row.kind,
            value=row.value,
            note=row.note,
        )
        added += 1
    removed = 0
    if replace:
        keep = {(r.mode, r.kind, r.value) for r in rows}
        modes = {r.mode for r in rows} or {default_mode}
        for key, entry in existing.items():
            if key[0] in modes and key not in keep:
                entry.delete()  # one by one: each removal is in the audit log
                removed += 1
    _changed()
    return {"rows": len(rows), "added": added, "removed": removed}


@transaction.atomic
def list_entry_delete(*, entry: ListEntry) -> None:
    entry.delete()
    _changed()


@transaction.atomic
def frequency_cap_set(*, scope: Scope, window_days: int, limit: int) -> FrequencyCap:
    """Create or change the scope's cap for this window (one per scope and window)."""
    if window_days not in FrequencyCap.Window.values:
        raise DomainError("The window is 1, 7 or 14 days.", code="bad_window")
    if limit < 1:
        raise DomainError("The limit is at least 1.", code="bad_limit")
    cap = _scoped(FrequencyCap.objects.select_for_update(), scope).filter(window_days=window_days).first()
    if cap is None:
        cap = FrequencyCap(advertiser=scope.advertiser, offer=scope.offer, window_days=window_days)
    cap.limit = limit
    cap.save()
    _changed()
    return cap


@transaction.atomic
def frequency_cap_delete(*, cap: FrequencyCap) -> None:
    cap.delete()
    _changed()


def naming_template_save(
    *, template: NamingTemplate | None, name: str, field: str, pattern: str
) -> NamingTemplate:
    try:
        template_parts(pattern)
    except TemplateError as exc:
        raise DomainError(str(exc), code="bad_template") from exc
    taken = NamingTemplate.objects.filter(field=field)
    if template is not None:
        taken = taken.exclude(pk=template.pk)
    if taken.exists():
        raise DomainError(f"{field} has a template already.", code="conflict", status_code=409)
    template = template or NamingTemplate()
    template.name, template.field, template.pattern = name, field, pattern
    template.save()
    return template
