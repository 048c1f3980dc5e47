"""Named API keys: the model only (affiliates.accounts.keys issues, checks and revokes them).

Kept out of models.py so the key services can import it without a cycle; affiliates.models
imports it, so Django registers it with the app as usual.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    """One named API key of one user. The key itself is never stored: ``prefix`` (its first
    characters, shown in the portal and used to find the row) and ``key_hash`` (SHA-256 of the
    whole key: the key carries 256 random bits, so a fast hash cannot be brute-forced)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. “nightly report sync”.")
    prefix = models.CharField(
        max_length=16, unique=True, help_text="The key's first 12 characters, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole key (hex).")
    #: Safe methods only (GET, HEAD, OPTIONS); a write answers 403 key_read_only.
    read_only = models.BooleanField(default=False, help_text="Safe methods only: a write answers 403.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the key was made (UTC).")
    #: None: never expires. From this instant the key answers 401 key_expired.
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="From this instant the key is refused; null: never expires."
    )
    #: Updated at most once a minute per key (accounts.keys.LAST_USED_RESOLUTION).
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="The last request with the key, to the minute; null: never used."
    )
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was revoked; null: not revoked."
    )

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
