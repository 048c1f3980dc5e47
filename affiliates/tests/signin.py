"""Signing test clients in the way production does, second factor included.

Staff must pass two-factor authentication (OTP_REQUIRED_FOR_STAFF). ``sign_in`` logs a test
client in and verifies its session with the user's TOTP device (staff get one if they have
none), as the code prompt would; the requirement itself stays on in every test.
"""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

#: The test staff's TOTP secret (hex, as django-otp stores it).
STAFF_TOTP_KEY = "3132333435363738393031323334353637383930"


def totp_device(user: Any, *, key: str = STAFF_TOTP_KEY) -> TOTPDevice:
    """The user's confirmed TOTP device, made with ``key`` if it has none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test phone", key=key, confirmed=True)
    return device


def totp_code(device: TOTPDevice) -> str:
    """The code the user's phone shows now. The device's replay guard is reset first, so a test
    may sign the same user in twice within one 30-second step."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def sign_in(client: Client, user: Any) -> Client:
    """``client.force_login(user)``, then the second factor when the user has or needs one."""
    client.force_login(user)
    has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if user.is_staff or has_device:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
        session.save()
    return client
