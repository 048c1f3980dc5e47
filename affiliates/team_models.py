"""Who acts for whom, and with which role: staff roles and their account assignments, the
members of advertisers and publishers with their team roles, and pending team invitations.

The models only; ``affiliates.roles`` decides what each role may do, ``affiliates.team`` and
``affiliates.staff`` change them. ``affiliates.models`` imports this module so Django registers
the models, and points ``Advertiser.members`` / ``Publisher.members`` at the member tables
(the many-to-many tables those fields always had, now with a role column).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class StaffRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    ACCOUNT_MANAGER = "account_manager", "Account manager"
    FINANCE = "finance", "Finance"
    FRAUD_ANALYST = "fraud_analyst", "Fraud analyst"
    READ_ONLY = "read_only", "Read-only"


class TeamRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    ANALYST = "analyst", "Analyst"
    READ_ONLY = "read_only", "Read-only"


class AdvertiserMember(models.Model):
    """A user acting for an advertiser. ``role`` defaults to owner: the one user an advertiser
    was made with (the admin, the demo, sign-up) owns it; invited members get their role."""

    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(
        max_length=16, choices=TeamRole.choices, default=TeamRole.OWNER, help_text="What the member may do."
    )

    class Meta:
        db_table = "affiliates_advertiser_members"  # the table the plain many-to-many had
        unique_together = [("advertiser", "user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) at {self.advertiser}"


class PublisherMember(models.Model):
    """A user acting for a publisher (see AdvertiserMember)."""

    publisher = models.ForeignKey("affiliates.Publisher", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(
        max_length=16, choices=TeamRole.choices, default=TeamRole.OWNER, help_text="What the member may do."
    )

    class Meta:
        db_table = "affiliates_publisher_members"
        unique_together = [("publisher", "user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) at {self.publisher}"


class StaffMember(models.Model):
    """A staff user's role. A staff user without a row is read-only (a superuser is always
    admin): a new staff account gets nothing it was not given. The migration that introduced
    roles made every existing staff user admin."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_member"
    )
    role = models.CharField(max_length=16, choices=StaffRole.choices, help_text="What the staff user may do.")
    updated_at = models.DateTimeField(default=timezone.now, help_text="When the role was last set.")

    class Meta:
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class AccountAssignment(models.Model):
    """An account manager's advertiser or publisher: exactly one of the two is set. An account
    manager sees and manages only the accounts assigned to them."""

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_assignments"
    )
    advertiser = models.ForeignKey(
        "affiliates.Advertiser", null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher", null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(advertiser__isnull=True) ^ Q(publisher__isnull=True),
                name="assignment_one_account",
            ),
            models.UniqueConstraint(
                fields=["manager", "advertiser"],
                name="assignment_advertiser_once",
                condition=Q(advertiser__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["manager", "publisher"],
                name="assignment_publisher_once",
                condition=Q(publisher__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.manager} manages {self.advertiser or self.publisher}"


class TeamInvite(models.Model):
    """An invitation to join an advertiser's or a publisher's team. Only a digest of its token
    is kept: the token travels in the e-mail and is spent on acceptance."""

    advertiser = models.ForeignKey(
        "affiliates.Advertiser", null=True, blank=True, on_delete=models.CASCADE, related_name="invites"
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher", null=True, blank=True, on_delete=models.CASCADE, related_name="invites"
    )
    email = models.EmailField(help_text="Where the invitation was sent.")
    role = models.CharField(max_length=16, choices=TeamRole.choices, help_text="The role on acceptance.")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(help_text="After this the link no longer works.")
    accepted_at = models.DateTimeField(null=True, blank=True, help_text="When it was accepted.")
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="When it was withdrawn.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(advertiser__isnull=True) ^ Q(publisher__isnull=True), name="invite_one_account"
            ),
        ]

    def __str__(self) -> str:
        return f"invite {self.email} as {self.role} to {self.advertiser or self.publisher}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()
