"""``{{ c.reason|reason_text }}``: a conversion's reason code as a sentence for the portals'
lists (the code stays beside it: it is what the API, the CSV and support speak)."""

from __future__ import annotations

from django import template

from tracking.reasons import Reason

register = template.Library()

# The reasons a stored conversion can carry; the 4xx/5xx ones never reach a list.
REASON_TEXT: dict[str, str] = {
    Reason.UNKNOWN_CLICK: "No click of yours matches this conversion.",
    Reason.UNKNOWN_COUPON: "The coupon code is not one of the offer's.",
    Reason.WINDOW_EXPIRED: "It came after the offer's attribution window closed.",
    Reason.CAP_REACHED: "The offer's cap was reached when it arrived.",
    Reason.OFFER_INACTIVE: "The offer was paused or ended when it arrived.",
    Reason.NOT_APPROVED: "You were not approved for this offer at the time.",
    Reason.ADVERTISER_REJECTED: "The advertiser rejected it.",
    Reason.HELD_FOR_REVIEW: "Held for fraud review.",
    Reason.NOT_UPDATABLE: "Our rules rejected it; later updates cannot change that.",
    Reason.STATUS_FINAL: "Its status is final.",
    Reason.NETWORK_DECISION: "The network decided it (fraud review or staff).",
    Reason.INVALID_TRANSITION: "An update the conversion's status does not allow.",
    Reason.CLICK_ALREADY_CONVERTED: "The click had already converted on a goal that pays once.",
    Reason.CLICK_TO_CONVERSION_TOO_SLOW: "Too long between the click and the conversion.",
    Reason.HOLDOUT_CONTROL: "The visitor was in an incrementality test's control group.",
}


@register.filter
def reason_text(code: str) -> str:
    return REASON_TEXT.get(code, "") if code else ""
