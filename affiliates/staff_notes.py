"""Staff notes on an advertiser, a publisher or an offer: what the network's people tell each
other about a partner ("asked for a higher cap, call back Monday"). Only staff read or write them.
``affiliates.models`` imports the model so Django registers it here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from affiliates.core.errors import DomainError

MAX_LENGTH = 2000


class StaffNote(models.Model):
    advertiser = models.ForeignKey(
        "affiliates.Advertiser", null=True, blank=True, on_delete=models.CASCADE, related_name="staff_notes"
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher", null=True, blank=True, on_delete=models.CASCADE, related_name="staff_notes"
    )
    offer = models.ForeignKey(
        "affiliates.Offer", null=True, blank=True, on_delete=models.CASCADE, related_name="staff_notes"
    )
    body = models.TextField(max_length=MAX_LENGTH, help_text="The note, as written.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Exactly one subject: a note is about one advertiser, publisher or offer.
            models.CheckConstraint(
                condition=(
                    Q(advertiser__isnull=False, publisher__isnull=True, offer__isnull=True)
                    | Q(advertiser__isnull=True, publisher__isnull=False, offer__isnull=True)
                    | Q(advertiser__isnull=True, publisher__isnull=True, offer__isnull=False)
                ),
                name="staff_note_one_subject",
            ),
        ]

    def __str__(self) -> str:
        subject = (
            f"advertiser {self.advertiser_id}"
            if self.advertiser_id
            else f"publisher {self.publisher_id}"
            if self.publisher_id
            else f"offer {self.offer_id}"
        )
        return f"Note on {subject}: {self.body[:40]}"


SUBJECTS = ("advertiser", "publisher", "offer")


def staff_note_add(*, subject: Any, body: str, author: Any) -> StaffNote:
    """Add a note to ``subject`` (an Advertiser, Publisher or Offer)."""
    text = body.strip()
    if not text:
        raise DomainError("Write something first.", code="note_empty")
    if len(text) > MAX_LENGTH:
        raise DomainError(f"A note holds at most {MAX_LENGTH} characters.", code="note_too_long")
    kind = subject._meta.model_name
    if kind not in SUBJECTS:
        raise DomainError("Notes are for advertisers, publishers and offers.", code="note_subject")
    return StaffNote.objects.create(**{kind: subject}, body=text, author=author)


def staff_notes_for(*, subject: Any) -> QuerySet[StaffNote]:
    """The notes on ``subject``, newest first, with their authors."""
    kind = subject._meta.model_name
    return StaffNote.objects.filter(**{kind: subject}).select_related("author")
