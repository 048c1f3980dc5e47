"""Validators for the shapes outside systems send us: landing URL templates, domains, CIDRs."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pycountry
from django.core.exceptions import ValidationError
from stdnum.eu import vat

LANDING_MACROS = frozenset(
    {"click_id", "offer_id", "publisher_id", "sub1", "sub2", "sub3", "sub4", "sub5", "source"}
)
MACRO_RE = re.compile(r"\{([^{}]*)\}")
_HOST_RE = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def validate_landing_url(value: str) -> None:
    """http/https only, a host, and no macro outside the contract's list."""
    unknown = sorted(set(MACRO_RE.findall(value)) - LANDING_MACROS)
    if unknown:
        raise ValidationError(
            "Unknown macro(s): %(names)s.", code="unknown_macro", params={"names": ", ".join(unknown)}
        )
    probe = MACRO_RE.sub("x", value)
    parts = urlsplit(probe)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError("Only absolute http or https URLs are allowed.", code="bad_url")
    if any(ch in value for ch in "\r\n\t "):
        raise ValidationError("URLs may not contain whitespace.", code="bad_url")


def validate_plain_url(value: str) -> None:
    if "{" in value:
        raise ValidationError("Macros are not allowed here.", code="bad_url")
    validate_landing_url(value)


def validate_domain_list(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and _HOST_RE.match(v) for v in value):
        raise ValidationError(
            "Give a list of lower-case host names (a leading '*.' allows subdomains).", code="bad_domain"
        )


def validate_cidr_list(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("Give a list of IP addresses or CIDR ranges.", code="bad_cidr")
    for item in value:
        try:
            ipaddress.ip_network(str(item), strict=False)
        except ValueError as exc:
            raise ValidationError(
                "%(item)s is not an IP address or CIDR range.", code="bad_cidr", params={"item": item}
            ) from exc


def validate_country_list(value: object) -> None:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and len(v) == 2 and pycountry.countries.get(alpha_2=v) for v in value
    ):
        raise ValidationError("Give a list of ISO 3166 alpha-2 country codes.", code="bad_country")


def validate_country(value: str) -> None:
    if value and not (len(value) == 2 and value.isupper() and pycountry.countries.get(alpha_2=value)):
        raise ValidationError("Give an ISO 3166 alpha-2 country code, e.g. DE.", code="bad_country")


def eu_vat_prefix(value: str) -> str:
    """The EU member-state prefix of a VAT id ("DE", "EL", "XI"...), or "" when it has none."""
    # Not vat.compact: it raises on a prefix it does not know, and a non-EU id is fine here.
    prefix = re.sub(r"[\s.,/-]", "", value or "")[:2].lower()
    # Greece writes EL on VAT ids, GR as its country code.
    return prefix.upper() if prefix in vat.MEMBER_STATES or prefix == "el" else ""


def validate_tax_id(value: str) -> None:
    """An EU VAT id (starting with a member state's prefix) must pass that state's check digits;
    tax ids elsewhere have no common shape and are kept as given."""
    if eu_vat_prefix(value) and not vat.is_valid(value):
        raise ValidationError(
            "%(value)s is not a valid EU VAT id.", code="bad_vat_id", params={"value": value}
        )


DEVICE_TYPES = frozenset({"desktop", "mobile", "tablet", "other"})
OS_FAMILIES = frozenset({"windows", "macos", "linux", "android", "ios", "chromeos", "other"})
# The traffic sources an offer may allow, as Everflow and Impact list them for publishers.
TRAFFIC_TYPES = {
    "content": "Content / blog",
    "coupon": "Coupon & deals",
    "cashback": "Cashback / loyalty",
    "email": "E-mail",
    "search": "Paid search",
    "brand_bidding": "Brand bidding",
    "social": "Social",
    "display": "Display",
    "native": "Native",
    "push": "Push",
    "pop": "Pop / redirect",
    "incentivized": "Incentivized",
    "sms": "SMS",
}


def _validate_choice_list(value: object, allowed: frozenset[str], code: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
        raise ValidationError(
            "Allowed values: %(allowed)s.", code=code, params={"allowed": ", ".join(sorted(allowed))}
        )


def validate_device_list(value: object) -> None:
    _validate_choice_list(value, DEVICE_TYPES, "bad_device")


def validate_os_list(value: object) -> None:
    _validate_choice_list(value, OS_FAMILIES, "bad_os")


def validate_traffic_list(value: object) -> None:
    _validate_choice_list(value, frozenset(TRAFFIC_TYPES), "bad_traffic_type")


def offer_measurement_errors(data: Mapping[str, Any], goal_codes: set[str] | None = None) -> dict[str, str]:
    """What is wrong with an offer form's view-through and assist settings (field -> message).

    ``goal_codes``: the offer's goals as the form will save them; None skips the goal check.
    The API validates the goal the same way (affiliates.api.serializers.OfferSerializer).
    """
    errors: dict[str, str] = {}
    hours = data.get("view_through_window_hours")
    if data.get("view_through_enabled") and not hours:
        errors["view_through_window_hours"] = "At least 1 hour when view-through is on."
    days = data.get("attribution_window_days")
    if hours and days and hours > days * 24:
        errors["view_through_window_hours"] = (
            f"At most the attribution window ({days * 24} hours): a view cannot outlast a click."
        )
    goal = data.get("view_through_goal")
    if goal and goal_codes is not None and goal not in goal_codes:
        errors["view_through_goal"] = "Not the code of one of this offer's goals."
    if data.get("assist_enabled") and not (data.get("assist_payout") or data.get("assist_revenue")):
        errors["assist_payout"] = "An assist earns or costs nothing: set its amounts, or turn assists off."
    if data.get("assist_daily_cap") == 0:
        errors["assist_daily_cap"] = "0 would allow no assist at all: leave it empty for no cap."
    return errors
