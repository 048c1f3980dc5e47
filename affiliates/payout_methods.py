"""What each payout method needs, checked in one place: the portal's profile form and the API's
publisher serializer both call ``payout_details_clean``.

Bank numbers are checked with python-stdnum (IBAN checksum and country length, BIC shape, US
routing-number checksum) rather than hand-written rules: a typo caught here is a payout that
does not bounce a month later. Values are stored compacted (no spaces, upper case) so the payout
run's export and the statements print one spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from stdnum import bic, iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.us import rtn

from affiliates.core.errors import DomainError
from affiliates.models import Publisher

Method = Publisher.PayoutMethod


class PayoutDetailsError(DomainError):
    """Some details are missing or wrong; ``fields`` maps each detail's key to its message."""

    code = "bad_payout_details"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Check the payout details: " + "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _iban(value: str) -> str:
    try:
        return str(iban.validate(value))
    except StdnumError as exc:
        detail = str(exc).rstrip(".").lower()  # stdnum's reason: checksum, length, country
        raise ValueError(f"Not a valid IBAN ({detail}).") from exc


def _bic(value: str) -> str:
    try:
        return str(bic.validate(value))
    except StdnumError as exc:
        raise ValueError("Not a valid BIC / SWIFT code (8 or 11 letters and digits).") from exc


def _routing(value: str) -> str:
    try:
        return str(rtn.validate(value))
    except StdnumError as exc:
        raise ValueError("Not a valid 9-digit ABA routing number.") from exc


def _email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError as exc:
        raise ValueError("Enter the e-mail address of your PayPal account.") from exc
    return value.lower()


def _account_number(value: str) -> str:
    compact = value.replace(" ", "").replace("-", "")
    if not (compact.isascii() and compact.isalnum() and 4 <= len(compact) <= 34):
        raise ValueError("Use 4 to 34 letters and digits.")
    return compact


def _wallet(value: str) -> str:
    if not (value.isascii() and value.isalnum() and 20 <= len(value) <= 128):
        raise ValueError("A wallet address is 20 to 128 letters and digits.")
    return value


def _text(value: str) -> str:
    return value


@dataclass(frozen=True)
class Detail:
    key: str
    label: str
    check: Callable[[str], str] = _text
    required: bool = True
    help: str = ""
    max_length: int = 200


HOLDER = Detail("account_name", "Account holder", required=False)

# Per method, the details it asks for, in the order the form shows them.
DETAILS: dict[str, tuple[Detail, ...]] = {
    Method.PAYPAL: (Detail("email", "PayPal e-mail", _email, max_length=254),),
    Method.SEPA: (
        Detail("iban", "IBAN", _iban, help="e.g. DE89 3704 0044 0532 0130 00"),
        Detail("bic", "BIC / SWIFT", _bic, required=False),
        HOLDER,
    ),
    Method.WIRE: (
        Detail(
            "iban", "IBAN", _iban, required=False, help="Or an account number below, outside IBAN countries."
        ),
        Detail("account_number", "Account number", _account_number, required=False),
        Detail("bic", "BIC / SWIFT", _bic),
        Detail("account_name", "Account holder"),
        Detail("bank_name", "Bank name", required=False),
    ),
    Method.ACH: (
        Detail("routing_number", "Routing number (ABA)", _routing),
        Detail("account_number", "Account number", _account_number),
        Detail("account_name", "Account holder"),
    ),
    Method.CRYPTO: (
        Detail("wallet", "Wallet address", _wallet, max_length=128),
        Detail("network", "Network", help="e.g. USDT on Tron (TRC-20).", max_length=64),
    ),
    Method.CHECK: (
        Detail("payee", "Payee"),
        Detail("address", "Mailing address", max_length=500),
    ),
}


def payout_details_clean(
    *, method: str, details: Mapping[str, Any], allow_empty: bool = False
) -> dict[str, str]:
    """The details ``method`` needs, checked and normalised; other keys are dropped.

    ``allow_empty``: no details at all is fine (the API's staff create a publisher with a name
    and an e-mail; the payout run holds its money until details arrive). Raises
    PayoutDetailsError naming every bad or missing detail at once.
    """
    if allow_empty and not any(str(v).strip() for v in details.values()):
        return {}
    if method not in DETAILS:
        raise PayoutDetailsError({"payout_method": f"Unknown payout method {method!r}."})
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for spec in DETAILS[method]:
        raw = details.get(spec.key)
        value = raw.strip() if isinstance(raw, str) else ""
        if raw is not None and not isinstance(raw, str):
            errors[spec.key] = "Give text."
        elif not value:
            if spec.required:
                errors[spec.key] = "Required for this payout method."
        elif len(value) > spec.max_length:
            errors[spec.key] = f"At most {spec.max_length} characters."
        else:
            try:
                clean[spec.key] = spec.check(value)
            except ValueError as exc:
                errors[spec.key] = str(exc)
    if method == Method.WIRE and not errors and not (clean.get("iban") or clean.get("account_number")):
        errors["iban"] = "Give an IBAN or an account number."
    if errors:
        raise PayoutDetailsError(errors)
    return clean
