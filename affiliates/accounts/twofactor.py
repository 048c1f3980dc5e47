"""Two-factor authentication on django-otp: one TOTP device per user, plus single-use recovery
codes (a static device). Staff must have it (OTP_REQUIRED_FOR_STAFF); advertisers and
publishers may.

The session is verified by ``django_otp.login`` once a code is accepted; the gate
(accounts/gate.py) keeps a session that owes a code away from every other page. Wrong codes are
counted by django-axes like wrong passwords (affiliates.lockout), per IP and per account.
"""

from __future__ import annotations

from base64 import b32encode
from enum import StrEnum
from io import BytesIO
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from affiliates.core.audit import AuditChange, audit_log_changes
from affiliates.core.errors import DomainError
from affiliates.lockout import attempt_locked, attempt_record
from affiliates.notifications import notifications_create

RECOVERY_CODE_COUNT = 10
TOTP_DIGITS = 6  # django-otp's TOTPDevice default, which enrolment keeps
DEVICE_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


class Owed(StrEnum):
    """What a signed-in session still owes before it may see anything else."""

    NOTHING = ""
    CODE = "code"  # the user has 2FA on: a TOTP or recovery code
    ENROLMENT = "enrolment"  # staff without a device: set one up first


class CodeRefused(DomainError):
    status_code = 400


class LockedOut(DomainError):
    status_code = 429


def twofactor_enabled(*, user: Any) -> bool:
    return bool(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists())


def twofactor_required(*, user: Any) -> bool:
    return bool(user.is_staff and settings.OTP_REQUIRED_FOR_STAFF)


def twofactor_owed(*, user: Any) -> Owed:
    """Once per request at most (the answer is kept on the user object)."""
    if not user.is_authenticated:
        return Owed.NOTHING
    cached: Owed | None = getattr(user, "_affnet_otp_owed", None)
    if cached is not None:
        return cached
    if getattr(user, "is_verified", None) is not None and user.is_verified():
        owed = Owed.NOTHING
    elif twofactor_enabled(user=user):
        owed = Owed.CODE
    elif twofactor_required(user=user):
        owed = Owed.ENROLMENT
    else:
        owed = Owed.NOTHING
    user._affnet_otp_owed = owed
    return owed


def totp_pending(*, user: Any) -> TOTPDevice:
    """The unconfirmed device being set up (the same secret across reloads of the page)."""
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it by hand: base32, in groups of four."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code (no script, no external image)."""
    out = BytesIO()
    segno.make(device.config_url, error="m").save(
        out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title="Two-factor QR code"
    )
    return out.getvalue().decode()


def _code_clean(code: str) -> str:
    return "".join(code.split()).lower()[:32]


def _recovery_codes_new(*, user: Any) -> list[str]:
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def twofactor_enable(*, request: HttpRequest, device: TOTPDevice, code: str) -> list[str]:
    """Confirms the device being set up with a code from the app, verifies this session, and
    returns the new recovery codes (shown once). Other TOTP devices of the user go."""
    user: Any = request.user
    if device.user_id != user.pk or device.confirmed:
        raise CodeRefused("Start the set-up again.", code="otp_setup_stale")
    if not device.verify_token(_code_clean(code)):
        raise CodeRefused(
            "That code does not match. Check the phone's clock and try the newest code.", code="otp_invalid"
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_new(user=user)
    _session_verified(request, device)
    return codes


def _session_verified(request: HttpRequest, device: Any) -> None:
    # A new session key once the second factor is in (as Django's login does after the
    # password): a key planted or seen before the session was verified is worth nothing.
    request.session.cycle_key()
    django_otp.login(request, device)
    user: Any = request.user
    user._affnet_otp_owed = Owed.NOTHING


def twofactor_verify(*, request: HttpRequest, code: str) -> django_otp.models.Device:
    """Checks a TOTP or recovery code for the signed-in user and verifies the session.

    A locked-out IP or account is refused before the code is looked at; a wrong code counts
    toward the lockout (per IP and per account) like a wrong password. A recovery code works
    once (django-otp deletes it)."""
    user: Any = request.user
    account = user.get_username()
    if attempt_locked(request=request, account=account):
        raise LockedOut("Too many failed attempts.", code="locked_out")
    token = _code_clean(code)
    # Six digits are an app's code, anything else a recovery code (8 characters): each goes to
    # its own kind of device only, so a recovery code does not count against the app's back-off.
    model: Any = (
        TOTPDevice if len(token) == TOTP_DIGITS and token.isascii() and token.isdigit() else StaticDevice
    )
    device: Any = None
    for candidate in model.objects.filter(user_id=user.pk, confirmed=True) if token else ():
        device = django_otp.verify_token(user, candidate.persistent_id, token)
        if device is not None:
            break
    if device is None:
        attempt_record(request=request, account=account)
        raise CodeRefused(
            "That code is not valid. Try the newest code, or a recovery code.", code="otp_invalid"
        )
    _session_verified(request, device)
    return device


def twofactor_code_check(*, request: HttpRequest, code: str) -> None:
    """A code for a sensitive change (disable, new recovery codes) on a verified session."""
    twofactor_verify(request=request, code=code)


def twofactor_disable(*, request: HttpRequest, code: str) -> None:
    """Turns 2FA off for an advertiser or publisher user (staff must keep it). The code is
    checked outside the transaction: a wrong one's lockout count must not roll back."""
    user: Any = request.user
    if twofactor_required(user=user):
        raise DomainError("Network staff must keep two-factor authentication on.", code="otp_required")
    twofactor_code_check(request=request, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk).delete()
        StaticDevice.objects.filter(user_id=user.pk).delete()


def recovery_codes_regenerate(*, request: HttpRequest, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), after a current code."""
    twofactor_code_check(request=request, code=code)
    with transaction.atomic():
        return _recovery_codes_new(user=request.user)


def recovery_codes_left(*, user: Any) -> int:
    return int(StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count())


class AdminOnly(DomainError):
    status_code = 403


def twofactor_reset(*, user: Any, by: Any) -> int:
    """A network admin turns another user's 2FA off (a lost phone and lost recovery codes):
    their devices and recovery codes go, the change is in the audit log under the user, and
    the user is told in-app. Staff users must set it up again at their next sign-in (the gate
    sends them to enrolment). Returns the devices removed (0: the user had none)."""
    if not getattr(by, "is_superuser", False):
        raise AdminOnly("Only a network admin may reset two-factor authentication.", code="admin_only")
    if by.pk == user.pk:
        raise DomainError(
            "Reset your own two-factor authentication from your account page.", code="otp_reset_self"
        )
    with transaction.atomic():
        removed: int = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).count()
        TOTPDevice.objects.filter(user_id=user.pk).delete()
        StaticDevice.objects.filter(user_id=user.pk).delete()
        audit_log_changes(
            [AuditChange(instance=user, changes={"two_factor": ("on" if removed else "off", "reset")})],
            by=by,
        )
        notifications_create(
            recipients=[user],
            title="Your two-factor authentication was reset",
            body=(
                f"A network admin ({by.get_username()}) turned two-factor authentication off for "
                "your account. Set it up again from your account page; if you did not ask for "
                "this, tell the network and change your password."
            ),
            link=reverse("portal:otp-manage"),
        )
    return removed
