"""Template helpers for the portals: per-role navigation, status badges and number formats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

from affiliates.notifications import notifications_unread_count
from affiliates.roles import Role, actor_for

register = template.Library()

# (url name, label) per role, in menu order. One list so every page shows the same menu.
NAV: dict[Role, list[tuple[str, str]]] = {
    Role.PUBLISHER: [
        ("payouts_portal:pub-home", "Dashboard"),
        ("tracking_portal:pub-marketplace", "Offers"),
        ("portal:pub-my-offers", "My offers"),
        ("tracking_portal:smart-links", "Smart links"),
        ("tracking_portal:pub-conversions", "Conversions"),
        ("payouts_portal:reports", "Reports"),
        ("payouts_portal:pub-payouts", "Payouts"),
        ("payouts_portal:pub-statements", "Statements"),
        ("payouts_portal:pub-callbacks", "Postbacks"),
        ("payouts_portal:webhooks", "Webhooks"),
        ("payouts_portal:tracking-domains", "Tracking domains"),
        ("portal:pub-profile", "Profile"),
        ("portal:pub-audit", "Activity"),
    ],
    Role.ADVERTISER: [
        ("payouts_portal:adv-home", "Dashboard"),
        ("tracking_portal:adv-offers", "Offers"),
        ("tracking_portal:adv-publishers", "Publishers"),
        ("tracking_portal:smart-links", "Smart links"),
        ("tracking_portal:adv-conversions", "Conversions"),
        ("payouts_portal:reports", "Reports"),
        ("payouts_portal:customers", "Customers"),
        ("payouts_portal:attribution", "Attribution"),
        ("tracking_portal:adv-integration", "Integration"),
        ("payouts_portal:webhooks", "Webhooks"),
        ("payouts_portal:tracking-domains", "Tracking domains"),
        ("automation_portal:rules", "Rules"),
        ("incrementality_portal:holdouts", "Holdout tests"),
        ("tracking_portal:policy", "Traffic policy"),
        ("experiments_portal:ab-tests", "A/B tests"),
        ("experiments_portal:budget-shifts", "Budget shifts"),
        ("payouts_portal:adv-invoices", "Invoices"),
        ("portal:adv-settings", "Settings"),
        ("portal:adv-audit", "Activity"),
    ],
    Role.STAFF: [
        ("payouts_portal:staff-home", "Overview"),
        ("portal:staff-advertisers", "Advertisers"),
        ("portal:staff-publisher-list", "Publishers"),
        ("portal:staff-offers", "Offers"),
        ("portal:staff-accesses", "Offer access"),
        ("portal:staff-coupons", "Coupons"),
        ("portal:staff-creatives", "Creatives"),
        ("portal:staff-publishers", "Publisher queue"),
        ("portal:staff-access", "Access requests"),
        ("tracking_portal:staff-conversions", "Conversions"),
        ("payouts_portal:staff-commissions", "Commissions"),
        ("tracking_portal:staff-fraud", "Fraud review"),
        ("tracking_portal:smart-links", "Smart links"),
        ("payouts_portal:staff-runs", "Payout runs"),
        ("payouts_portal:staff-payouts", "Payouts"),
        ("payouts_portal:staff-invoices", "Invoices & statements"),
        ("payouts_portal:staff-payments", "Advertiser payments"),
        ("portal:staff-fx-rates", "FX rates"),
        ("payouts_portal:reports", "Reports"),
        ("automation_portal:rules", "Rules"),
        ("incrementality_portal:holdouts", "Holdout tests"),
        ("tracking_portal:policy", "Traffic policy"),
        ("experiments_portal:ab-tests", "A/B tests"),
        ("experiments_portal:budget-shifts", "Budget shifts"),
        ("payouts_portal:webhooks", "Webhooks"),
        ("payouts_portal:staff-tracking-domains", "Tracking domains"),
        ("payouts_portal:customers", "Customers"),
        ("payouts_portal:attribution", "Attribution"),
        ("portal:staff-users", "Users"),
        ("portal:staff-lockouts", "Lockouts"),
        ("payouts_portal:staff-health", "System health"),
        ("portal:staff-audit", "Audit log"),
    ],
}

TONES = {
    "approved": "ok",
    "active": "ok",
    "paid": "ok",
    "delivered": "ok",
    "pending": "warn",
    "draft": "warn",
    "building": "info",
    "held": "warn",
    "rejected": "bad",
    "reversed": "bad",
    "failed": "bad",
    "suspended": "bad",
    "paused": "muted",
    "expired": "muted",
    "create": "ok",  # audit log actions
    "update": "info",
    "delete": "bad",
}


@register.inclusion_tag("portal/_nav.html", takes_context=True)
def portal_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    actor = actor_for(request.user)
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = [
        {"url": reverse(name), "label": label, "current": name == current}
        for name, label in NAV.get(actor.role, [])
    ]
    return {"items": items, "role": actor.role.value, "request": request}


@register.inclusion_tag("portal/_bell.html", takes_context=True)
def notification_bell(context: dict[str, Any]) -> dict[str, Any]:
    """The header's bell: a link to the notifications page with the unread count."""
    request = context["request"]
    return {"unread": notifications_unread_count(user=request.user)}


@register.simple_tag
def badge(status: str, label: str = "") -> str:
    tone = TONES.get(str(status), "muted")
    return format_html('<span class="badge badge-{}">{}</span>', tone, label or str(status).replace("_", " "))


@register.filter
def money(amount: Decimal | None, currency: str = "") -> str:
    """1234.5 -> "1,234.50 USD"; two places for display only, never for storing."""
    if amount is None:
        return "—"
    text = f"{Decimal(amount):,.2f}"
    return f"{text} {currency}".strip()


@register.filter
def pct(value: float | Decimal | None) -> str:
    return "—" if value is None else f"{float(value):.2f}%"


@register.filter
def intcomma0(value: int | None) -> str:
    return "0" if not value else f"{int(value):,}"


UNIT = {"cpc": "click", "cpm": "1000 impressions", "cpl": "lead", "cpa": "action", "cpi": "install"}


@register.filter
def goal_price(goal: Any, which: str = "payout") -> str:
    """A goal's payout (or revenue) as people say it: "8% of sale", "1.50 USD / lead"."""
    value = Decimal(getattr(goal, which))
    if goal.payout_type == "cps":
        return f"{value.normalize():f}% of sale"
    return f"{value:,.2f} {goal.offer.currency} / {UNIT.get(goal.payout_type, 'action')}"


@register.filter
def money_map(amounts: dict[str, Decimal] | None) -> str:
    """{"USD": 12.5, "EUR": 3} -> "12.50 USD · 3.00 EUR"; empty -> "0.00"."""
    if not amounts:
        return "0.00"
    return " · ".join(f"{Decimal(v):,.2f} {c}" for c, v in sorted(amounts.items()))


@register.filter
def fields(form: Any, names: str) -> list[Any]:
    """``{% for field in form|fields:"name status" %}``: those fields of the form, in its order
    (one pass over the named fields, not a test of every field per fieldset)."""
    wanted = set(names.split())
    return [form[name] for name in form.fields if name in wanted]


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


def _signed(value: Decimal, places: int, suffix: str = "") -> str:
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{abs(value):,.{places}f}{suffix}"


@register.filter
def figure(value: Decimal | int | float | None, kind: str = "int") -> str:
    """A dashboard figure by its kind (daterange.KpiRow.kind): int, pct, money or rate."""
    if value is None:
        return "—"
    if kind == "pct":
        return f"{float(value):.2f}%"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "rate":
        return f"{Decimal(value):,.4f}"
    return f"{int(value):,}"


@register.filter
def delta_text(delta: Any, kind: str = "int") -> str:
    """A change against the previous period, absolute then relative: "+12 (+4.1%)"; blank when
    there is nothing to compare."""
    if delta is None or delta.diff is None:
        return ""
    places = {"int": 0, "pct": 2, "money": 2, "rate": 4}.get(kind, 2)
    text = _signed(delta.diff, places, " pp" if kind == "pct" else "")
    return text if delta.pct is None else f"{text} ({_signed(delta.pct, 1, '%')})"
