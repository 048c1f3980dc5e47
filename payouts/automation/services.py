"""Writes of automation rules: saving a rule, checking it (and firing), and undoing a firing."""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from affiliates.core.db import MAX_INT
from affiliates.core.errors import Conflict, DomainError
from affiliates.roles import Actor
from payouts.automation import targets
from payouts.automation.alerts import alert_send
from payouts.automation.models import Action, Comparison, Firing, Metric, Rule, Scope
from payouts.automation.selectors import (
    VARIANT_UNMEASURED,
    metric_value,
    rule_measure,
    values_shown,
    window_for,
)
from payouts.automation.webhooks import webhook_enqueue
from tracking.models.smartlinks import SmartLink

log = logging.getLogger(__name__)

COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    Comparison.GT: operator.gt,
    Comparison.GTE: operator.ge,
    Comparison.LT: operator.lt,
    Comparison.LTE: operator.le,
}
# Metrics built on the publisher's payout: advertisers never see payout, so they cannot rule on it.
STAFF_ONLY_METRICS = frozenset({Metric.EPC, Metric.MARGIN})
EDITABLE = (
    "name",
    "scope",
    "offer",
    "publisher",
    "creative",
    "variant",
    "smart_path",
    "sub1",
    "source",
    "metric",
    "comparison",
    "threshold",
    "window_hours",
    "min_clicks",
    "min_conversions",
    "action",
    "cap_metric",
    "cap_period",
    "cap_limit",
    "weight",
    "webhook_url",
    "notify",
    "cooldown_minutes",
    "check_every_minutes",
    "is_active",
)


def _rule_check_fields(rule: Rule, actor: Actor) -> None:
    if actor.is_advertiser and rule.metric in STAFF_ONLY_METRICS:
        raise DomainError(
            f"{rule.get_metric_display()} is built on payouts, which only the network sees.",
            code="metric_not_allowed",
        )
    if rule.scope == Scope.CREATIVE and (rule.creative is None or rule.creative.offer_id != rule.offer_id):
        raise DomainError("Choose a creative of this offer.", code="bad_creative")
    if rule.scope == Scope.VARIANT:
        _variant_check(rule)
    if rule.scope == Scope.SMART_PATH:
        _smart_path_check(rule)
    if rule.scope == Scope.SOURCE:
        _source_check(rule)
    if rule.action == Action.SET_WEIGHT:
        _weight_check(rule)
    if rule.action in (Action.PAUSE, Action.RESUME) and not targets.pausable(rule):
        raise DomainError(
            "A sub id cannot be paused or resumed; alert or call a webhook.", code="not_pausable"
        )
    if rule.action == Action.SET_CAP and not (
        rule.cap_metric and rule.cap_period and rule.cap_limit is not None
    ):
        raise DomainError("Changing a cap needs its metric, period and new limit.", code="cap_incomplete")
    if rule.scope != Scope.CREATIVE:
        rule.creative = None
    if rule.scope != Scope.VARIANT:
        rule.variant = None
    if rule.scope != Scope.SMART_PATH:
        rule.smart_path = None
    if rule.scope != Scope.SOURCE:
        rule.source = ""
    if rule.action != Action.SET_WEIGHT:
        rule.weight = None
    if rule.scope == Scope.OFFER:
        rule.publisher = None


def _variant_check(rule: Rule) -> None:
    """A variant of an A/B test on the rule's offer, measured whole: its rollup has no publisher,
    sub id, sale amount or fraud flag."""
    if rule.variant is None or rule.variant.test.offer_id != rule.offer_id:
        raise DomainError("Choose a variant of an A/B test on this offer.", code="bad_variant")
    if rule.publisher is not None or rule.sub1:
        raise DomainError(
            "A variant is measured over all its traffic: leave publisher and sub1 empty.",
            code="variant_not_narrowed",
        )
    if rule.metric in VARIANT_UNMEASURED:
        raise DomainError(
            f"{rule.get_metric_display()} is not measured per variant; choose CPA, CVR, CPC, EPC, "
            "margin, clicks or conversions.",
            code="metric_not_available",
        )


def _smart_path_check(rule: Rule) -> None:
    """A path of a smart link to the rule's offer, measured whole from its daily rollup (which
    knows clicks, converting clicks, revenue and payout, per path)."""
    if rule.smart_path is None or rule.smart_path.offer_id != rule.offer_id:
        raise DomainError("Choose a smart link path that sends traffic to this offer.", code="bad_smart_path")
    if rule.publisher is not None or rule.sub1:
        raise DomainError(
            "A smart link's path is measured over all its traffic: leave publisher and sub1 empty.",
            code="smart_path_not_narrowed",
        )
    if rule.metric in VARIANT_UNMEASURED:
        raise DomainError(
            f"{rule.get_metric_display()} is not measured per path; choose CPA, CVR, CPC, EPC, "
            "margin, clicks or conversions.",
            code="metric_not_available",
        )


def _source_check(rule: Rule) -> None:
    """A traffic source on the rule's offer (optionally one publisher's), read from the hourly
    source cube; paused through the offer's negative list, which only blocks a source offer-wide."""
    if not rule.source:
        raise DomainError("Name the traffic source to watch.", code="source_required")
    if rule.sub1:
        raise DomainError(
            "A source is measured without sub ids: leave sub1 empty.", code="source_not_narrowed"
        )
    if rule.action == Action.SET_CAP:
        raise DomainError(
            "A source has no cap of its own; pause it, alert or call a webhook.", code="action_not_available"
        )
    if rule.action in (Action.PAUSE, Action.RESUME):
        if rule.publisher is not None:
            raise DomainError(
                "Pausing a source blocks it on the offer's negative list, which has no per-publisher "
                "entries: it would stop the source for every publisher, not only this one. Leave the "
                "publisher empty to pause it on the whole offer, or alert or call a webhook instead.",
                code="source_pause_not_exact",
            )
        if rule.source != rule.source.strip() or "\x00" in rule.source:
            raise DomainError(
                "Negative lists store a source without surrounding spaces, so this value could not "
                "be blocked exactly; alert or call a webhook instead.",
                code="source_pause_not_exact",
            )


def _weight_check(rule: Rule) -> None:
    """Weights belong to smart link paths and A/B variants; an optimised smart link sets its own."""
    if rule.scope not in (Scope.SMART_PATH, Scope.VARIANT):
        raise DomainError(
            "Only a smart link's path or an A/B variant has a weight to change.", code="no_weight"
        )
    if rule.weight is None or not 0 <= rule.weight <= MAX_INT:
        raise DomainError(
            f"Changing a weight needs the new weight, 0 to {MAX_INT}.", code="weight_incomplete"
        )
    if rule.scope == Scope.SMART_PATH and rule.smart_path is not None:
        # Read afresh: the path's cached link may predate a switch to optimised weights.
        link = SmartLink.objects.filter(pk=rule.smart_path.smart_link_id)
        mode = link.values_list("mode", flat=True).first()
        if mode != SmartLink.Mode.MANUAL:
            raise DomainError(
                "This smart link's optimiser sets its weights; switch it to manual weights, or pause "
                "the path instead.",
                code="weights_optimised",
            )


def _rule_save(rule: Rule, actor: Actor) -> Rule:
    rule.advertiser_id = rule.offer.advertiser_id
    _rule_check_fields(rule, actor)
    try:
        rule.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(f"{field}: {messages[0]}", code="invalid") from exc
    rule.next_check_at = timezone.now()
    rule.save()
    return rule


def rule_create(*, actor: Actor, created_by: Any, **fields: Any) -> Rule:
    rule = Rule(created_by=created_by, **{k: v for k, v in fields.items() if k in EDITABLE})
    return _rule_save(rule, actor)


def rule_update(*, rule: Rule, actor: Actor, **fields: Any) -> Rule:
    for name, value in fields.items():
        if name in EDITABLE:
            setattr(rule, name, value)
    return _rule_save(rule, actor)


def _quiet_reason(rule: Rule, values: dict[str, Any], value: Decimal | None, now: datetime) -> str:
    """Why the rule does not fire now; '' when it should."""
    if values["gross_clicks"] < rule.min_clicks or values["conversions"] < rule.min_conversions:
        return (
            f"below the minimum volume ({values['gross_clicks']} clicks, {values['conversions']} conversions)"
        )
    if value is None:
        return f"{rule.metric} is undefined in the window"
    if not COMPARE[rule.comparison](value, rule.threshold):
        return f"{rule.metric} {value} does not meet the condition"
    last = rule.firings.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None and now < last + timedelta(minutes=rule.cooldown_minutes):
        return f"cooling down until {(last + timedelta(minutes=rule.cooldown_minutes)):%H:%M} UTC"
    return ""


def _fire(rule: Rule, window: Any, value: Decimal, values: dict[str, Any], now: datetime) -> Firing:
    """Claim the window, then act; all or nothing (a claimed window without its action is never left)."""
    firing = Firing.objects.create(
        rule=rule,
        target=targets.target_key(rule),
        window_start=window.start,
        window_end=window.end,
        metric_value=value,
        values=values_shown(values),
        action=rule.action,
        created_at=now,
    )
    try:
        with transaction.atomic():
            firing.before, firing.after, firing.detail = targets.action_apply(rule)
    except (DomainError, ValidationError) as exc:
        firing.outcome, firing.detail = Firing.Outcome.FAILED, f"failed: {exc}"[:255]
    firing.save(update_fields=["before", "after", "detail", "outcome"])
    if rule.action == Action.WEBHOOK:
        webhook_enqueue(firing=firing)
    return firing


def _note(rule: Rule, now: datetime, result: str) -> None:
    Rule.objects.filter(pk=rule.pk).update(last_checked_at=now, last_result=result[:255])


def rule_check(*, rule_id: int, now: datetime | None = None) -> Firing | None:
    """Measure the rule's window in the rollups and fire if it should; the firing, or None.

    Idempotent: a window fires at most once (the unique constraint), so a repeated or
    concurrent check of the same window records nothing more.
    """
    now = now or timezone.now()
    rule = (
        Rule.objects.select_related(
            "offer", "publisher", "creative", "variant__test", "smart_path__smart_link", "created_by"
        )
        .filter(pk=rule_id)
        .first()
    )
    if rule is None or not rule.is_active:
        return None
    window = window_for(rule, now)
    values = rule_measure(rule=rule, window=window)
    value = metric_value(rule, values)
    quiet = _quiet_reason(rule, values, value, now)
    if (
        not quiet
        and Firing.objects.filter(
            rule=rule, target=targets.target_key(rule), window_start=window.start
        ).exists()
    ):
        quiet = "already fired in this window"
    if quiet:
        _note(rule, now, quiet)
        return None
    assert value is not None
    try:
        with transaction.atomic():
            firing = _fire(rule, window, value, values, now)
    except targets.NothingToDo as exc:
        _note(rule, now, f"condition met, nothing to do: {exc}")
        return None
    except IntegrityError:
        _note(rule, now, "already fired in this window")  # a concurrent check won the window
        return None
    _note(rule, now, f"fired: {firing.detail}")
    if rule.notify or rule.action == Action.ALERT:
        alert_send(firing=firing)  # e-mails are sent by a worker after commit, with retries
    return firing


def rules_due_claim(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """The active rules due for a check, each pushed to its next check time (claimed once)."""
    now = now or timezone.now()
    due = Rule.objects.filter(is_active=True, next_check_at__lte=now).values_list(
        "pk", "next_check_at", "check_every_minutes"
    )[:limit]
    claimed = []
    for pk, due_at, every in due:
        nxt = now + timedelta(minutes=every)
        if Rule.objects.filter(pk=pk, next_check_at=due_at).update(next_check_at=nxt):
            claimed.append(pk)
    return claimed


def firing_undo(*, firing: Firing, by: Any) -> Firing:
    """Restore what the firing changed; recorded on the firing (who, when, what was restored)."""
    if not firing.undoable:
        code = "already_undone" if firing.undone_at else "not_undoable"
        raise Conflict(
            "This firing was already undone."
            if firing.undone_at
            else "This firing changed nothing that can be undone.",
            code=code,
        )
    with transaction.atomic():
        now = timezone.now()
        if not Firing.objects.filter(pk=firing.pk, undone_at__isnull=True).update(
            undone_at=now, undone_by=by
        ):
            raise Conflict("This firing was already undone.", code="already_undone")
        detail = targets.state_restore(firing.before, firing.after)
        Firing.objects.filter(pk=firing.pk).update(undo_detail=detail[:255])
    firing.refresh_from_db()
    return firing
