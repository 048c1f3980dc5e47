"""Which VAT treatment a document states, from the parties' countries and the customer's VAT id.

The network sells a service (advertising) to advertisers and buys one from publishers. Between
two businesses in different EU member states the place of supply is the customer's country and
the customer accounts for the VAT (reverse charge, Article 196 of Directive 2006/112/EC), so the
document must say so and carry both VAT ids. Outside the EU, the supply is outside the scope of
EU VAT. Domestic supplies are taxed at the local rate, which this system does not compute: the
document says VAT is not included, and the accountant adds it.
"""

from __future__ import annotations

from stdnum.eu import vat

from affiliates.validators import eu_vat_prefix
from payouts.models import Document

T = Document.VatTreatment
# Member states by ISO 3166 code (stdnum lists Greece as "gr" and Northern Ireland as "xi",
# which is not a country code; its businesses are GB for everything but goods).
EU_COUNTRIES = frozenset(code.upper() for code in vat.MEMBER_STATES if code != "xi")

REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)."
)


def vat_id_valid(tax_id: str) -> bool:
    return bool(eu_vat_prefix(tax_id)) and vat.is_valid(tax_id)


def vat_treatment(*, issuer_country: str, customer_country: str, customer_tax_id: str) -> tuple[str, str]:
    """(treatment, the sentence the document prints)."""
    if not customer_country:
        return T.UNKNOWN, "VAT treatment to be confirmed: the customer's country is not on file."
    if customer_country == issuer_country:
        return (
            T.DOMESTIC,
            f"Domestic supply in {issuer_country}: amounts exclude VAT, which is added at the local rate.",
        )
    if issuer_country in EU_COUNTRIES and customer_country in EU_COUNTRIES:
        if vat_id_valid(customer_tax_id):
            return T.REVERSE_CHARGE, REVERSE_CHARGE_NOTE
        return T.UNKNOWN, "EU customer without a valid VAT id: VAT treatment to be confirmed."
    return (
        T.OUTSIDE_SCOPE,
        "Outside the scope of EU VAT: the place of supply is outside the issuer's country.",
    )
