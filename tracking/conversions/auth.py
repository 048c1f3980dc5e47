"""Who is posting a conversion: a postback token, or an HMAC signature with a timestamp.

How the advertiser is identified (contract section 3 is silent on it):
- ``token``: the token itself. Only its SHA-256 digest is stored, so the lookup is by digest,
  followed by a constant-time comparison.
- ``sig`` + ``ts``: the secret cannot be found from the signature, so the advertiser comes from
  an ``advertiser`` parameter (its id, included in the signed string like every parameter), or
  else from the offer of the click or coupon being converted. An unknown click with no
  ``advertiser`` parameter cannot be verified: 401 ``unknown_advertiser``.
Replays of a signature are refused when the conversion is written (services), so a postback
that failed to store does not burn its signature.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings

from affiliates.models import Advertiser
from tracking.conversions.catalog import AdvertiserInfo, advertiser_by_id, advertiser_by_token
from tracking.conversions.outcome import PostbackError
from tracking.conversions.params import ConversionInput
from tracking.reasons import Reason


@dataclass(frozen=True)
class Authenticated:
    advertiser: AdvertiserInfo
    method: str  # "token" or "signature"


def signature_base(raw: dict[str, str]) -> str:
    """Every parameter but ``sig``, sorted by name, as ``k=v`` joined by ``&`` (values as
    received, not percent-encoded)."""
    return "&".join(f"{key}={raw[key]}" for key in sorted(raw) if key != "sig")


def signature_for(secret: str, raw: dict[str, str]) -> str:
    return hmac.new(secret.encode(), signature_base(raw).encode(), hashlib.sha256).hexdigest()


def _by_signature(inp: ConversionInput, advertiser_hint: int | None, now: float) -> AdvertiserInfo:
    advertiser_id = inp.advertiser_id or advertiser_hint
    info = advertiser_by_id(advertiser_id) if advertiser_id else None
    if info is None:
        raise PostbackError(
            401, Reason.UNKNOWN_ADVERTISER, "A signed postback needs a known click or coupon, or advertiser."
        )
    fresh = inp.ts.isascii() and inp.ts.isdigit() and len(inp.ts) <= 18  # "²".isdigit() too
    if not fresh or abs(now - int(inp.ts)) > settings.POSTBACK_SIG_TOLERANCE_SECONDS:
        raise PostbackError(401, Reason.STALE_TIMESTAMP, "ts is missing or outside the allowed window.")
    expected = signature_for(info.hmac_secret, inp.raw)
    if not hmac.compare_digest(expected, inp.sig):
        raise PostbackError(401, Reason.BAD_SIGNATURE, "The signature does not match.")
    return info


def postback_authenticate(
    *, inp: ConversionInput, ip: str, advertiser_hint: int | None, now: float
) -> Authenticated:
    """Establish the advertiser or raise 401/403. ``advertiser_hint`` is the advertiser of the
    offer the click or coupon belongs to, when known."""
    if inp.sig:
        auth = Authenticated(_by_signature(inp, advertiser_hint, now), "signature")
    elif inp.token:
        info = advertiser_by_token(inp.token)
        if info is None:
            raise PostbackError(401, Reason.BAD_TOKEN, "The postback token is not valid.")
        auth = Authenticated(info, "token")
    else:
        raise PostbackError(401, Reason.MISSING_CREDENTIALS, "Send token, or ts and sig.")
    if auth.advertiser.status == Advertiser.Status.SUSPENDED:
        raise PostbackError(403, Reason.ADVERTISER_SUSPENDED, "This advertiser is suspended.")
    if not auth.advertiser.ip_allowed(ip):
        raise PostbackError(403, Reason.IP_NOT_ALLOWED, f"{ip} is not on the advertiser's allowlist.")
    if inp.advertiser_id and inp.advertiser_id != auth.advertiser.id:
        raise PostbackError(403, Reason.WRONG_ADVERTISER, "advertiser does not match the credentials.")
    return auth
