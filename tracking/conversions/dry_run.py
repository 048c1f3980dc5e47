"""The advertiser's test-conversion tool: what a postback would do right now, kept nowhere.

A test click for the chosen publisher is written, a signed postback for it runs through the
real pipeline (authentication, attribution, fraud rules, caps, pricing), and the whole
database transaction is rolled back. The advertiser sees the verdict and the trace exactly as a
live postback would produce them, and no conversion, cap usage or money is left behind.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from affiliates.core.errors import DomainError
from affiliates.models import Offer, Publisher
from tracking.conversions.auth import signature_for
from tracking.conversions.intake import postback_receive
from tracking.ids import new_click_id
from tracking.models import Click, Conversion

# A plain desktop browser, so the bot rule judges the visitor, not the tool.
TEST_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


class _Rollback(Exception):
    pass


def _sender_ip(allowlist: list[str]) -> str:
    """An address the advertiser's allowlist accepts, so the test exercises the rest."""
    if not allowlist:
        return "203.0.113.10"
    return str(ipaddress.ip_network(allowlist[0], strict=False).network_address)


def conversion_dry_run(
    *, offer: Offer, goal_code: str, publisher: Publisher, amount: Decimal | None
) -> Conversion:
    """Run a signed test postback for a fresh click and return the conversion it would record
    (unsaved: the transaction is rolled back), with its status, reason, flags and trace."""
    advertiser = offer.advertiser
    now = timezone.now()
    # Clicked a moment before any minimum click-to-conversion time, inside the window.
    lead = timedelta(seconds=(offer.min_click_to_conversion_seconds or 0) + 60)
    click_at = now - lead
    result: Conversion | None = None
    try:
        with transaction.atomic():
            click = Click.objects.create(
                id=new_click_id(int(click_at.timestamp() * 1000)),
                created_at=click_at,
                offer=offer,
                publisher=publisher,
                user_agent=TEST_USER_AGENT,
                source="integration-test",
            )
            params = {
                "click_id": click.id.hex,
                "goal": goal_code,
                "txn_id": f"test-{uuid.uuid4().hex[:12]}",
                "advertiser": str(advertiser.pk),
                "ts": str(int(time.time())),
            }
            if amount is not None:
                params["amount"] = str(amount)
            params["sig"] = signature_for(advertiser.hmac_secret, params)
            outcome = postback_receive(params, ip=_sender_ip(advertiser.ip_allowlist), now=now)
            if outcome.conversion_id is None:
                raise DomainError(
                    outcome.message or f"The postback was refused: {outcome.reason}.",
                    code=str(outcome.reason or "refused"),
                )
            result = Conversion.objects.select_related("goal", "offer", "publisher").get(
                pk=outcome.conversion_id
            )
            raise _Rollback
    except _Rollback:
        pass
    assert result is not None
    return result
