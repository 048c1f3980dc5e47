"""Clicks and impressions: the highest-volume tables.

The click id is a UUIDv7 (time-ordered), so the primary-key index grows at its right edge like
a serial id does, and the id itself carries the click time. Foreign keys from clicks are kept
without database constraints: in production clicks are written in batches by the stream
consumer, and an FK check per row would cost more than the insert.

Plan for 100M+ rows (PostgreSQL; see README "Clicks at scale"):

- Rows are appended in time order (UUIDv7 ids, ``created_at`` = the id's millisecond), so the
  table is physically ordered by time. A BRIN index on ``created_at`` (a few pages for 100M
  rows, migration tracking 0002_triggers) serves every time-range scan: rollups, exports,
  retention deletes.
- B-trees only where reports filter first by something else: (offer, publisher, created_at)
  for per-offer and per-link reports and DB-mode caps, (publisher, created_at) for a
  publisher's own reports. The primary key doubles as the "newest first" index: ordering by
  ``-id`` is ordering by time (the admin does that instead of sorting on ``created_at``).
- Nothing else is indexed: each index costs every one of the ~1,000s of inserts per second.
  Uniqueness and flood counting live in Redis, not in indexes.
- Past ~1B rows or once retention matters, convert to monthly range partitions on
  ``created_at`` (primary key (id, created_at), detach + drop old months instead of DELETE);
  the batch writer's INSERT ... ON CONFLICT (id) works unchanged per partition because the
  id's time fixes its partition.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tracking.ids import new_click_id


class ClickReason(models.TextChoices):
    OK = "", "Redirected to the offer"
    OFFER_PAUSED = "offer_paused"
    OFFER_EXPIRED = "offer_expired"
    NOT_APPROVED = "not_approved"
    GEO_MISMATCH = "geo_mismatch"
    DEVICE_MISMATCH = "device_mismatch"
    CAP_REACHED = "cap_reached"
    # Issue 14: on a block list (or off an allow list) of the network, advertiser or offer; and
    # a visitor over a frequency cap across offers (tracking/models/policy.py).
    BLOCKED = "blocked"
    FREQUENCY_CAP = "frequency_cap"
    # Redis and the database were both unreachable and the link was not cached: the click was
    # spooled with its token and sent to the network's default fallback.
    UNAVAILABLE = "tracking_unavailable"


class ClickFlag(models.TextChoices):
    """Fraud flags a click or impression can carry. A flagged click or impression is invalid
    traffic: it earns nothing on CPC or CPM lines (payouts.traffic) and is counted apart in
    reports; conversions through a flagged click are held for review. Impressions carry the
    same codes (``duplicate_click``: a repeat view within the unique window)."""

    BOT = "bot_user_agent"
    DATACENTER = "datacenter_ip"
    DUPLICATE = "duplicate_click"
    FLOOD = "click_flood"
    # Judged invalid after it was recorded (staff, or an advertiser's dispute upheld by staff):
    # payouts.traffic.traffic_invalidate adds it and shrinks the day's line.
    INVALIDATED = "invalidated"


class TrafficFields(models.Model):
    """What clicks and impressions share: who sent it, from where, with which sub ids."""

    created_at = models.DateTimeField(default=timezone.now)
    # No index of their own: the composite indexes below lead with offer and publisher, and
    # every extra index is paid by each of the thousands of inserts a second.
    offer = models.ForeignKey(
        "affiliates.Offer", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    ip = models.CharField(max_length=64, blank=True, help_text="Full, truncated or hashed per IP_PRIVACY.")
    user_agent = models.CharField(max_length=512, blank=True)
    country = models.CharField(max_length=2, blank=True)
    device = models.CharField(max_length=16, blank=True)
    os = models.CharField(max_length=32, blank=True)
    sub1 = models.CharField(max_length=255, blank=True)
    sub2 = models.CharField(max_length=255, blank=True)
    sub3 = models.CharField(max_length=255, blank=True)
    sub4 = models.CharField(max_length=255, blank=True)
    sub5 = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=255, blank=True)

    class Meta:
        abstract = True


class Click(TrafficFields):
    id = models.UUIDField(primary_key=True, editable=False)
    referer = models.CharField(max_length=1024, blank=True)
    is_unique = models.BooleanField(default=True)
    reason = models.CharField(max_length=32, choices=ClickReason.choices, blank=True, default="")
    fraud_flags = models.JSONField(default=list, blank=True)
    # Where a refused click was sent instead, when that was the offer's fallback offer: a
    # conversion on that offer carrying this click id belongs to it, not to ``offer``.
    fallback_offer = models.ForeignKey(
        "affiliates.Offer",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # read only from the click itself, never searched by
        related_name="+",
    )
    # A smart link's click: the path it was sent to (its offer is ``offer``), and the paths
    # skipped before the draw with their reasons ("12:cap_reached 13:not_approved").
    smart_path_id = models.BigIntegerField(null=True, blank=True)
    path_skips = models.CharField(max_length=255, blank=True)
    # A holdout test's click: the test and the visitor's arm (tracking/models/holdouts.py).
    holdout_test_id = models.BigIntegerField(null=True, blank=True)
    holdout_arm = models.CharField(max_length=8, blank=True, default="")
    # An A/B test's click: the variant (landing page or creative) it was sent to.
    ab_variant_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["offer", "publisher", "created_at"], name="click_offer_pub_time"),
            models.Index(fields=["publisher", "created_at"], name="click_pub_time"),
            # The database fallback while Redis is down (clickpath/store.py) counts a visitor's
            # recent clicks and an offer's capped clicks per click: without these it scanned
            # the table (~6 clicks/s at 788k rows).
            models.Index(fields=["offer", "ip", "created_at"], name="click_offer_ip_time"),
            models.Index(
                fields=["offer", "created_at"], name="click_offer_time_ok", condition=models.Q(reason="")
            ),
        ]

    @property
    def converting_offer_id(self) -> int:
        """The offer a conversion through this click belongs to: the fallback offer it was sent
        to when the original offer refused it, otherwise the clicked offer."""
        return self.fallback_offer_id or self.offer_id


class Impression(TrafficFields):
    # A UUIDv7 like clicks, so a replayed stream entry or spool line is written once.
    id = models.UUIDField(primary_key=True, editable=False, default=new_click_id)
    # The same verdicts as a click's: a repeat view of the offer by the same visitor within the
    # offer's unique window is not unique; bots, datacenters and floods are flagged (ClickFlag).
    is_unique = models.BooleanField(default=True)
    fraud_flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["offer", "publisher", "created_at"], name="impression_offer_pub_time"),
        ]
