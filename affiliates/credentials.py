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
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    #: Safe methods only (GET, HEAD, OPTIONS); a write answers 403 key_read_only.
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    #: None: never expires. From this instant the key answers 401 key_expired.
    expires_at = models.DateTimeField(null=True, blank=True)
    #: Updated at most once a minute per key (accounts.keys.LAST_USED_RESOLUTION).
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
