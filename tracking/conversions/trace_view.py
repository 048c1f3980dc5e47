"""A conversion's trace as one role may see it: the one rendering the API and the portals use.

The trace (services.conversion_prepare) is written for the network: it holds the revenue, the
publisher's payout, the advertiser server's address, the visitor's IP and the other clicks that
were considered, some of them other publishers'. Each role sees only what its other views show:

- an advertiser: revenue (never the payout), the clicks on its offer, the visitor data the
  conversion page shows it; never the address its own server posted from as we recorded it;
- a publisher: its payout (never revenue or the revenue rate), its own clicks only (another
  publisher's click id and id are dropped), no visitor IP or user agent, no sender address;
- staff: everything, as stored.

The shape below is an allowlist: a key it does not name (a new trace field, the demo's extra
keys) is shown to staff only until someone decides who may see it. That is what keeps a new
field from leaking by default.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from affiliates.roles import Actor, Role

Who = frozenset[Role]
#: A leaf decided by the row it sits in: ``(row, actor) -> shown?``.
When = Callable[[Mapping[str, Any], Actor], bool]


@dataclass(frozen=True)
class Each:
    """A list of rows of one shape; ``keep`` drops whole rows the actor may not see."""

    shape: Mapping[str, Rule]
    keep: When | None = None


Rule: TypeAlias = Who | When | Mapping[str, "Rule"] | Each

BOTH: Who = frozenset({Role.ADVERTISER, Role.PUBLISHER})
ADVERTISER: Who = frozenset({Role.ADVERTISER})
PUBLISHER: Who = frozenset({Role.PUBLISHER})
STAFF_ONLY: Who = frozenset()

# Fraud rules whose reason quotes the visitor's IP or user agent (tracking/conversions/fraud.py):
# the publisher sees that they fired (fraud_flags), not the visitor data behind them.
VISITOR_DATA_RULES = frozenset({"bot_user_agent", "datacenter_asn"})


def _own_click(row: Mapping[str, Any], actor: Actor) -> bool:
    """Another publisher's click considered for first-click attribution is not this one's."""
    return not actor.is_publisher or row.get("publisher_id") == actor.publisher_id


def _own_touch(row: Mapping[str, Any], actor: Actor) -> bool:
    """A journey's touch by another publisher shows a publisher that it happened (its role,
    time and credit), never whose it was nor its ids or sub ids."""
    return not actor.is_publisher or row.get("publisher_id") == actor.publisher_id


def _rule_reason(row: Mapping[str, Any], actor: Actor) -> bool:
    return actor.is_advertiser or row.get("rule") not in VISITOR_DATA_RULES


def _cap_amount(row: Mapping[str, Any], actor: Actor) -> bool:
    """A revenue cap's counts are revenue, a payout cap's are payout."""
    hidden = "revenue" if actor.is_publisher else "payout" if actor.is_advertiser else ""
    return row.get("metric") != hidden


CLICK: Mapping[str, Rule] = {"click_id": BOTH, "publisher_id": BOTH, "click_time": BOTH}

SHAPE: Mapping[str, Rule] = {
    # sender_ip: the advertiser server's address as recorded (behind proxies, ours): staff only.
    "request": {
        "via": BOTH,
        "auth": ADVERTISER,
        "received_at": BOTH,
        "txn_id": BOTH,
        "goal": BOTH,
        "amount": BOTH,
    },
    "attribution": {
        "model": BOTH,
        "by": BOTH,
        **CLICK,
        "alternatives": Each(CLICK, keep=_own_click),
        "note": BOTH,
        "impression_id": BOTH,
        "impression_time": BOTH,
    },
    "click_id_reported": ADVERTISER,
    "coupon": BOTH,
    "goal": {"id": BOTH, "code": BOTH, "payout_type": BOTH, "default": BOTH},
    # source names the goal or custom payout priced from: staff only, as on commissions.
    "price": {
        "payout_type": BOTH,
        "payout_rate": PUBLISHER,
        "revenue_rate": ADVERTISER,
        "sale_amount": BOTH,
        "sale_currency": BOTH,
        "fx_rate": BOTH,
        "currency": BOTH,
        "payout": PUBLISHER,
        "revenue": ADVERTISER,
        "note": BOTH,
    },
    "rules_checked": BOTH,
    "rules": Each({"rule": BOTH, "reason": _rule_reason}),
    "rejection": {"reason": BOTH, "detail": BOTH},
    "caps": Each(
        {
            "cap_id": BOTH,
            "metric": BOTH,
            "period": BOTH,
            "scope": BOTH,
            "period_start": BOTH,
            "limit": BOTH,
            "amount": _cap_amount,
            "used_after": _cap_amount,
            "ok": BOTH,
        }
    ),
    "verdict": {"status": BOTH, "reason": BOTH, "held_for_review": BOTH},
    "demo": BOTH,
    # Computed by the journey job (tracking/journeys/trace.py); credits are fractions of the
    # conversion, so they carry neither revenue nor payout.
    "journey": {
        "computed_at": BOTH,
        "view_through": BOTH,
        "publishers": BOTH,
        "touches": Each(
            {
                "position": BOTH,
                "kind": BOTH,
                "at": BOTH,
                "role": BOTH,
                "paid": BOTH,
                "linked_by": BOTH,
                "publisher_id": _own_touch,
                "click_id": _own_touch,
                "impression_id": _own_touch,
                "sub1": _own_touch,
                "source": _own_touch,
                "credit": BOTH,
            }
        ),
    },
}


def _shown(rule: Rule, row: Mapping[str, Any], actor: Actor) -> bool:
    if isinstance(rule, frozenset):
        return actor.role in rule
    if isinstance(rule, Mapping | Each):
        return True  # a nested shape or list: its own keys decide
    return rule(row, actor)


def _fits(rule: Rule, value: Any) -> bool:
    """A value of another shape than the rule expects (an old or hand-written trace) is not
    shown at all: what it holds was never decided."""
    if isinstance(rule, Each):
        return isinstance(value, list)
    if isinstance(rule, Mapping):
        return isinstance(value, Mapping)
    return True


def _apply(rule: Rule, value: Any, actor: Actor) -> Any:
    if isinstance(rule, Each):
        return [
            _narrow(rule.shape, row, actor)
            for row in value
            if isinstance(row, Mapping) and (rule.keep is None or rule.keep(row, actor))
        ]
    if isinstance(rule, Mapping):
        return _narrow(rule, value, actor)
    return value


def _narrow(shape: Mapping[str, Rule], data: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    return {
        key: _apply(shape[key], value, actor)
        for key, value in data.items()
        if key in shape and _fits(shape[key], value) and _shown(shape[key], data, actor)
    }


def trace_for(trace: Mapping[str, Any] | None, actor: Actor) -> dict[str, Any]:
    """The trace as ``actor`` may see it: staff all of it, other roles the allowlisted parts."""
    if actor.is_staff:  # any staff role reads whole traces of the conversions it may see (scope)
        return dict(trace or {})
    if actor.role not in BOTH:
        return {}
    return _narrow(SHAPE, trace or {}, actor)


def trace_steps(trace: Mapping[str, Any] | None, actor: Actor) -> list[tuple[str, str]]:
    """The actor's trace as (label, value) lines in the order attribution wrote them."""
    steps: list[tuple[str, str]] = []
    for key, value in trace_for(trace, actor).items():
        text = json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value
        steps.append((str(key).replace("_", " "), str(text)))
    return steps
