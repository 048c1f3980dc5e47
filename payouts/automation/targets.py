"""What a rule acts on, and how each action is done and undone.

Pauses and resumes save the object through ``affiliates.services.instance_update`` (a model
save), exactly as a staff edit does: the click path's signal receivers evict the link
snapshots of every affected token, so the next click sees the change. A paused offer sends
clicks to its fallback (``offer_paused``); a paused publisher access is a rejected one
(``not_approved``); a paused creative is inactive and no longer offered to publishers; a
paused A/B variant gets no more clicks (the test's other variants share them), as when a
decision pauses a loser; a paused smart-link path is skipped (``path_paused`` on the click) and
its share goes to the link's other paths. A paused traffic source is a block entry for it on
the offer's negative list (``ListEntry``, kind source): the click path refuses its clicks with
reason ``blocked`` once its policy reloads (this process at once, others within
CLICK_POLICY_REFRESH_SECONDS); resuming deletes that entry. Lists block a source per offer, not
per publisher on an offer, so only a rule watching the source over the whole offer may pause or
resume it (services refuse the rest). A weight change on a path is recorded as a manual
``SmartRun``, so the smart link's page shows it beside the optimiser's runs.

Each ``apply`` returns (before, after, detail): ``before`` is what undo writes back.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from django.db import transaction

from affiliates.core.errors import DomainError
from affiliates.models import Cap, Creative, Offer, OfferAccess
from affiliates.services import access_decide, instance_update, offer_update
from payouts.automation.models import Action, Rule, Scope
from tracking.clickpath.policy import policy_stale
from tracking.models import AbVariant, ListEntry
from tracking.models.smartlinks import SmartPath
from tracking.smartlinks.services import smart_run_manual_record

Change = tuple[dict[str, Any], dict[str, Any], str]


class NothingToDo(Exception):
    """The target is already in the state the action would set: no firing is recorded."""


def target_key(rule: Rule) -> str:
    if rule.scope == Scope.CREATIVE:
        return f"creative:{rule.creative_id}"
    if rule.scope == Scope.VARIANT:
        return f"variant:{rule.variant_id}"
    if rule.scope == Scope.PUBLISHER:
        return f"access:{rule.offer_id}:{rule.publisher_id}"
    if rule.scope == Scope.SUB_ID:
        return f"sub1:{rule.offer_id}:{rule.publisher_id or '*'}"
    if rule.scope == Scope.SMART_PATH:
        return f"smart_path:{rule.smart_path_id}"
    if rule.scope == Scope.SOURCE:
        key = f"source:{rule.offer_id}:{rule.publisher_id or '*'}:{rule.source}"
        if len(key) > 64:  # Firing.target's size: a long source is named by a digest of it
            digest = hashlib.sha256(rule.source.encode()).hexdigest()[:16]
            key = f"source:{rule.offer_id}:{rule.publisher_id or '*'}:#{digest}"
        return key
    return f"offer:{rule.offer_id}"


def pausable(rule: Rule) -> bool:
    """A sub id has no switch of its own: a negative list's sub id entry blocks the value offer-wide,
    for every publisher and in any of sub1-sub5, wider than the sub1 the rule measures."""
    return rule.scope != Scope.SUB_ID


def _source_entries(offer_id: int, source: str) -> Any:
    """The offer's own block entries for the source (network and advertiser lists are not the rule's)."""
    return ListEntry.objects.filter(
        offer_id=offer_id, mode=ListEntry.Mode.BLOCK, kind=ListEntry.Kind.SOURCE, value=source
    )


def _source_block(offer: Offer, source: str, note: str) -> int:
    entry = ListEntry.objects.create(
        advertiser_id=offer.advertiser_id,
        offer=offer,
        mode=ListEntry.Mode.BLOCK,
        kind=ListEntry.Kind.SOURCE,
        value=source,
        note=note[:255],
    )
    transaction.on_commit(policy_stale)  # this process's click path reloads before its next click
    return entry.pk


def _source_unblock(entries: Any) -> int:
    removed = 0
    for entry in entries:
        entry.delete()  # one by one: each removal is in the audit log
        removed += 1
    transaction.on_commit(policy_stale)
    return removed


def _set_source(rule: Rule, blocked: bool) -> Change:
    entry = _source_entries(rule.offer_id, rule.source).first()
    state = {"kind": "source_block", "offer": rule.offer_id, "source": rule.source}
    label = f"source {rule.source!r} on offer {rule.offer.name}"
    if blocked:
        if entry is not None:
            raise NothingToDo("the source is already blocked on the offer")
        pk = _source_block(rule.offer, rule.source, f"Automation rule: {rule.name}")
        return {**state, "entry": None}, {**state, "entry": pk}, f"{label} blocked"
    if entry is None:
        raise NothingToDo("the source is not blocked on the offer")
    before = {**state, "entry": entry.pk, "note": entry.note}
    _source_unblock(_source_entries(rule.offer_id, rule.source))
    return before, {**state, "entry": None}, f"{label} unblocked"


def _restore_source(before: dict[str, Any], after: dict[str, Any]) -> str:
    offer = Offer.objects.get(pk=before["offer"])
    label = f"source {before['source']!r} on offer {offer.name}"
    if before["entry"] is None:  # the rule blocked it: remove the entry it added, no other
        if not _source_unblock(ListEntry.objects.filter(pk=after["entry"])):
            return f"{label}: the block the rule added was already removed"
        return f"{label} unblocked again"
    if not _source_entries(offer.pk, before["source"]).exists():
        _source_block(offer, before["source"], before.get("note") or "Restored by undoing a rule's resume")
    return f"{label} blocked again"


def _set_offer(offer: Offer, status: str) -> Change:
    if offer.status == status:
        raise NothingToDo(f"the offer is already {status}")
    before = {"kind": "offer", "id": offer.pk, "status": offer.status}
    offer_update(offer=offer, status=status)  # publishers running it are told it paused
    return before, {**before, "status": status}, f"offer {offer.name} {status}"


def _set_access(rule: Rule, status: str) -> Change:
    access = OfferAccess.objects.filter(offer_id=rule.offer_id, publisher=rule.publisher).first()
    if access is None or access.status == status:
        raise NothingToDo(f"the publisher's access is already {status}" if access else "no access")
    before = {"kind": "access", "id": access.pk, "status": access.status}
    access_decide(
        offer=rule.offer,
        publisher=access.publisher,
        status=status,
        by=None,
        note=f"Automation rule: {rule.name}",
    )
    return before, {**before, "status": status}, f"publisher {access.publisher} {status} on the offer"


def _set_creative(creative: Creative, active: bool) -> Change:
    if creative.active == active:
        raise NothingToDo("the creative is already " + ("active" if active else "paused"))
    before = {"kind": "creative", "id": creative.pk, "active": creative.active}
    instance_update(instance=creative, active=active)
    return (
        before,
        {**before, "active": active},
        f"creative {creative.name} " + ("resumed" if active else "paused"),
    )


def _set_variant(variant: AbVariant, status: str) -> Change:
    if variant.status == status:
        raise NothingToDo(f"the variant is already {status}")
    if (
        status == AbVariant.Status.PAUSED
        and not variant.test.variants.filter(status=AbVariant.Status.ACTIVE).exclude(pk=variant.pk).exists()
    ):
        # Pausing the last live variant would end the test by the back door: end it instead.
        raise NothingToDo("the variant is its test's last active one")
    before = {"kind": "variant", "id": variant.pk, "status": variant.status}
    instance_update(instance=variant, status=status)
    return before, {**before, "status": status}, f"variant {variant.label} of {variant.test} {status}"


def _set_path(path: SmartPath, status: str) -> Change:
    if path.status == status:
        raise NothingToDo(f"the path is already {status}")
    live = SmartPath.objects.filter(smart_link_id=path.smart_link_id, status=SmartPath.Status.ACTIVE)
    if status == SmartPath.Status.PAUSED and not live.exclude(pk=path.pk).exists():
        # Every visitor would fall through to the link's fallback: that is for a person to decide.
        raise NothingToDo("the path is its smart link's last active one")
    before = {"kind": "smart_path", "id": path.pk, "status": path.status}
    instance_update(instance=path, status=status)
    return before, {**before, "status": status}, f"path {path} of {path.smart_link} {status}"


def _path_weight_write(path: SmartPath, weight: int, note: str) -> None:
    """A path's weight, with the manual run that shows it on the smart link's page."""
    before = {str(p.pk): p.weight for p in path.smart_link.paths.all()}
    path.weight = weight
    path.save(update_fields=["weight"])  # a save, so the link's snapshot is evicted
    after = {**before, str(path.pk): weight}
    smart_run_manual_record(smart=path.smart_link, before=before, after=after, note=note)


def _set_weight(rule: Rule) -> Change:
    weight = rule.weight if rule.weight is not None else 0
    if rule.scope == Scope.SMART_PATH:
        assert rule.smart_path is not None
        path = SmartPath.objects.select_related("smart_link").get(pk=rule.smart_path.pk)
        if path.smart_link.mode != path.smart_link.Mode.MANUAL:
            raise DomainError("the smart link's optimiser sets its weights now", code="weights_optimised")
        if path.weight == weight:
            raise NothingToDo(f"the path's weight is already {weight}")
        before: dict[str, Any] = {"kind": "path_weight", "id": path.pk, "weight": path.weight}
        _path_weight_write(path, weight, f"Automation rule {rule.name}: weight {path.weight} -> {weight}.")
        return before, {**before, "weight": weight}, f"path {path} weight set to {weight}"
    assert rule.variant is not None
    variant = rule.variant
    if variant.weight == weight:
        raise NothingToDo(f"the variant's weight is already {weight}")
    before = {"kind": "variant_weight", "id": variant.pk, "weight": variant.weight}
    instance_update(instance=variant, weight=weight)
    return before, {**before, "weight": weight}, f"variant {variant.label} weight set to {weight}"


def _switch(rule: Rule, on: bool) -> Change:
    if rule.scope == Scope.SOURCE:
        return _set_source(rule, blocked=not on)
    if rule.scope == Scope.CREATIVE:
        assert rule.creative is not None
        return _set_creative(rule.creative, on)
    if rule.scope == Scope.VARIANT:
        assert rule.variant is not None
        return _set_variant(rule.variant, AbVariant.Status.ACTIVE if on else AbVariant.Status.PAUSED)
    if rule.scope == Scope.SMART_PATH:
        assert rule.smart_path is not None
        return _set_path(rule.smart_path, SmartPath.Status.ACTIVE if on else SmartPath.Status.PAUSED)
    if rule.scope == Scope.PUBLISHER:
        return _set_access(rule, OfferAccess.Status.APPROVED if on else OfferAccess.Status.REJECTED)
    return _set_offer(rule.offer, Offer.Status.ACTIVE if on else Offer.Status.PAUSED)


def _set_cap(rule: Rule) -> Change:
    limit = rule.cap_limit if rule.cap_limit is not None else Decimal(0)
    publisher = rule.publisher if rule.scope != Scope.OFFER else None
    cap = Cap.objects.filter(
        offer_id=rule.offer_id,
        metric=rule.cap_metric,
        period=rule.cap_period,
        scope=Cap.Scope.OFFER,
        publisher=publisher,
    ).first()
    if cap is not None and cap.limit == limit:
        raise NothingToDo("the cap already has this limit")
    before: dict[str, Any] = {
        "kind": "cap",
        "id": cap.pk if cap else None,
        "limit": str(cap.limit) if cap else None,
    }
    if cap is None:
        cap = Cap(offer_id=rule.offer_id, metric=rule.cap_metric, period=rule.cap_period, publisher=publisher)
    cap.limit = limit
    cap.full_clean()
    cap.save()  # a save, so the click path's link snapshots are evicted
    after = {"kind": "cap", "id": cap.pk, "limit": str(limit)}
    return before, after, f"{rule.cap_period} {rule.cap_metric} cap set to {limit}"


@transaction.atomic
def action_apply(rule: Rule) -> Change:
    """Do the rule's state-changing action; alerts and webhooks change nothing here."""
    if rule.action in (Action.PAUSE, Action.RESUME):
        return _switch(rule, rule.action == Action.RESUME)
    if rule.action == Action.SET_CAP:
        return _set_cap(rule)
    if rule.action == Action.SET_WEIGHT:
        return _set_weight(rule)
    return {}, {}, "alert sent" if rule.action == Action.ALERT else "webhook queued"


def _restore_cap(before: dict[str, Any], after: dict[str, Any]) -> str:
    cap = Cap.objects.filter(pk=after["id"]).first()
    if cap is None:
        return "the cap no longer exists"
    if before["id"] is None:
        cap.delete()  # a delete, so the click path's snapshots are evicted
        return "the cap the rule added was removed"
    cap.limit = Decimal(before["limit"])
    cap.save()
    return f"cap limit restored to {before['limit']}"


@transaction.atomic
def state_restore(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Write a firing's ``before`` state back; what was restored, in words."""
    kind = before.get("kind")
    if kind == "offer":
        offer = Offer.objects.get(pk=before["id"])
        instance_update(instance=offer, status=before["status"])
        return f"offer {offer.name} back to {before['status']}"
    if kind == "access":
        access = OfferAccess.objects.select_related("publisher").get(pk=before["id"])
        access.status = before["status"]
        access.save(update_fields=["status"])  # a save, so the link snapshot is evicted
        return f"publisher {access.publisher} back to {before['status']}"
    if kind == "creative":
        creative = Creative.objects.get(pk=before["id"])
        instance_update(instance=creative, active=before["active"])
        return f"creative {creative.name} " + ("active again" if before["active"] else "paused again")
    if kind == "variant":
        variant = AbVariant.objects.select_related("test").get(pk=before["id"])
        instance_update(instance=variant, status=before["status"])
        return f"variant {variant.label} of {variant.test} back to {before['status']}"
    if kind == "cap":
        return _restore_cap(before, after)
    if kind == "source_block":
        return _restore_source(before, after)
    if kind == "smart_path":
        path = SmartPath.objects.select_related("smart_link").get(pk=before["id"])
        instance_update(instance=path, status=before["status"])
        return f"path {path} of {path.smart_link} back to {before['status']}"
    if kind == "path_weight":
        path = SmartPath.objects.select_related("smart_link").get(pk=before["id"])
        note = f"A rule's weight change undone: back to {before['weight']}."
        _path_weight_write(path, before["weight"], note)
        return f"path {path} weight back to {before['weight']}"
    if kind == "variant_weight":
        variant = AbVariant.objects.get(pk=before["id"])
        instance_update(instance=variant, weight=before["weight"])
        return f"variant {variant.label} weight back to {before['weight']}"
    raise DomainError("This firing changed nothing that can be undone.", code="not_undoable")
