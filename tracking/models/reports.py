"""Report rollups: additive counters per UTC hour and per UTC day, plus what keeps them fresh.

Grain. Both tables are keyed by time x offer x publisher x goal x currency x country x device x
sub1 (advertiser rides along, denormalised, so an advertiser's report is one index range).
Clicks and impressions are not per goal: their rows have ``goal`` NULL. Only additive
counters are stored; every ratio (CTR, EPC, CPA, ROAS...) is derived at read time from sums,
so any regrouping of rows stays exact.

Cardinality trade-off. sub1 is chosen by the publisher and can be anything, up to a click id
per click, and it multiplies the key space. Keeping it in the hourly key means an hour of
traffic with N distinct (offer, publisher, country, device, sub1) tuples costs N rows: with
sane sub ids that is a 10-100x reduction from raw clicks, with a unique sub1 per click it is
none. The daily table divides that by up to 24 and serves UTC-aligned reports; the hourly
one serves hour grouping and other time zones. Because diverse sub1/geo can leave those two
nearly as large as the raw tables, two coarse cubes (HourlyOfferStat, DailyOfferStat: time x
offer x publisher x goal) serve every report that does not group or filter by country, device
or sub1, which is most of them, and two geo cubes (HourlyGeoStat, DailyGeoStat: time x
advertiser x country x device) serve network- and advertiser-wide geo reports; reports pick the
smallest cube that has their dimensions.
sub2-sub5 are NOT rolled up (each would multiply the key space again); reports on them read
raw events in a bounded range.

Freshness (see payouts/reports/services.py): conversions and commissions mark their hour
dirty through database triggers, so a status change or an adjusted commission months later
is re-aggregated; clicks and impressions, whose hot path must not pay for a trigger, are
covered by re-aggregating a trailing window every run and the two previous days nightly.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from affiliates.core.money import MoneyField

# Counters summed by reports, in the order the rollup INSERT writes them.
ROLLUP_COUNTERS = (
    "impressions",
    "gross_clicks",
    "unique_clicks",
    "invalid_clicks",
    "flagged_clicks",
    "paid_clicks",
    "bot_clicks",
    "datacenter_clicks",
    "duplicate_clicks",
    "flood_clicks",
    "invalidated_clicks",
    "invalid_impressions",
    "conv_pending",
    "conv_approved",
    "conv_rejected",
    "conv_reversed",
    "conv_flagged",
    "leads",
    "sales",
)
ROLLUP_AMOUNTS = ("revenue", "payout", "sale_amount", "lead_revenue")


def goal_key() -> Coalesce:
    """The goal as a unique-key part: click and impression rows have no goal, and two such rows
    with the same other key parts are the same row. COALESCE makes NULL goals equal on both
    databases (SQLite has no NULLS NOT DISTINCT); goal ids start at 1, so 0 is free."""
    return Coalesce("goal", Value(0), output_field=models.BigIntegerField())


class CounterFields(models.Model):
    """The additive counters and amounts every rollup table carries."""

    impressions = models.BigIntegerField(default=0)
    gross_clicks = models.BigIntegerField(default=0)
    unique_clicks = models.BigIntegerField(default=0)
    invalid_clicks = models.BigIntegerField(default=0, help_text="Clicks not sent to the offer (reason set).")
    flagged_clicks = models.BigIntegerField(default=0, help_text="Clicks with fraud flags.")
    # Invalid traffic by reason (a click may carry several flags, so these overlap), and the
    # valid clicks CPC lines pay: redirected, unique, no flag (payouts.traffic). A database
    # default, so rollup SQL that does not name them still inserts (the geo-cube fill of the old
    # migration history did not).
    paid_clicks = models.BigIntegerField(
        default=0, db_default=0, help_text="Valid clicks: the ones CPC pays."
    )
    bot_clicks = models.BigIntegerField(default=0, db_default=0, help_text="Clicks flagged bot_user_agent.")
    datacenter_clicks = models.BigIntegerField(
        default=0, db_default=0, help_text="Clicks flagged datacenter_ip."
    )
    duplicate_clicks = models.BigIntegerField(
        default=0, db_default=0, help_text="Clicks not unique in the offer's window."
    )
    flood_clicks = models.BigIntegerField(default=0, db_default=0, help_text="Clicks flagged click_flood.")
    invalidated_clicks = models.BigIntegerField(
        default=0, db_default=0, help_text="Clicks judged invalid later."
    )
    invalid_impressions = models.BigIntegerField(
        default=0, db_default=0, help_text="Impressions not unique or flagged: CPM does not pay them."
    )
    conv_pending = models.BigIntegerField(default=0)
    conv_approved = models.BigIntegerField(default=0)
    conv_rejected = models.BigIntegerField(default=0)
    conv_reversed = models.BigIntegerField(default=0)
    conv_flagged = models.BigIntegerField(default=0, help_text="Conversions flagged or held for review.")
    leads = models.BigIntegerField(default=0, help_text="Pending or approved conversions on CPL goals.")
    sales = models.BigIntegerField(default=0, help_text="Earning commissions with a sale amount.")
    # Money from earning (pending or approved) commissions, in ``currency``.
    revenue = MoneyField(default=0)
    payout = MoneyField(default=0)
    sale_amount = MoneyField(default=0)
    lead_revenue = MoneyField(default=0)

    class Meta:
        abstract = True


class OfferKeyFields(CounterFields):
    """The coarse key shared by the offer cubes and the full rollups."""

    advertiser_id = models.BigIntegerField()
    offer = models.ForeignKey(
        "affiliates.Offer", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    goal = models.ForeignKey(
        "affiliates.Goal", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    currency = models.CharField(max_length=3)

    class Meta:
        abstract = True


class RollupFields(OfferKeyFields):
    """The full key: the coarse one plus visitor attributes and sub1."""

    country = models.CharField(max_length=2)
    device = models.CharField(max_length=16)
    sub1 = models.CharField(max_length=255)

    class Meta:
        abstract = True


class HourlyStat(RollupFields):
    hour = models.DateTimeField(help_text="UTC hour start.")

    class Meta:
        constraints = [
            # Re-aggregation deletes and re-inserts a window; this guarantees it never doubles a row.
            models.UniqueConstraint(
                "hour",
                "offer",
                "publisher",
                goal_key(),
                "currency",
                "country",
                "device",
                "sub1",
                name="hourlystat_unique_key",
            ),
        ]
        indexes = [
            models.Index(fields=["advertiser_id", "hour"], name="hourlystat_adv_hour"),
            models.Index(fields=["publisher", "hour"], name="hourlystat_pub_hour"),
            models.Index(fields=["offer", "hour"], name="hourlystat_offer_hour"),
        ]


class DailyStat(RollupFields):
    day = models.DateField(help_text="UTC day.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "day",
                "offer",
                "publisher",
                goal_key(),
                "currency",
                "country",
                "device",
                "sub1",
                name="dailystat_unique_key",
            ),
        ]
        indexes = [
            models.Index(fields=["advertiser_id", "day"], name="dailystat_adv_day"),
            models.Index(fields=["publisher", "day"], name="dailystat_pub_day"),
            models.Index(fields=["offer", "day"], name="dailystat_offer_day"),
        ]


class HourlyOfferStat(OfferKeyFields):
    """HourlyStat re-summed without country, device and sub1: the cube most reports read.

    Reports by time, offer, publisher and goal (dashboards, advertiser and staff summaries)
    do not need the visitor attributes, and dropping them shrinks the key space by orders of
    magnitude when sub1 or geo are diverse.
    """

    hour = models.DateTimeField(help_text="UTC hour start.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "hour",
                "offer",
                "publisher",
                goal_key(),
                "currency",
                name="hourlyofferstat_unique_key",
            ),
        ]
        indexes = [
            models.Index(fields=["advertiser_id", "hour"], name="hourlyofferstat_adv_hour"),
            models.Index(fields=["publisher", "hour"], name="hourlyofferstat_pub_hour"),
            models.Index(fields=["offer", "hour"], name="hourlyofferstat_offer_hour"),
        ]


class DailyOfferStat(OfferKeyFields):
    day = models.DateField(help_text="UTC day.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "day",
                "offer",
                "publisher",
                goal_key(),
                "currency",
                name="dailyofferstat_unique_key",
            ),
        ]
        indexes = [
            models.Index(fields=["advertiser_id", "day"], name="dailyofferstat_adv_day"),
            models.Index(fields=["publisher", "day"], name="dailyofferstat_pub_day"),
            models.Index(fields=["offer", "day"], name="dailyofferstat_offer_day"),
        ]


class HourlySourceStat(OfferKeyFields):
    """Hour x offer x publisher x goal x currency x traffic source (the click's ``source``, a
    conversion's ``source_id``): what automation rules on a source read.

    Source is not in the full rollups' key: it is free text chosen by the publisher like sub1,
    and crossing the two (with country and device) would multiply HourlyStat's rows. This cube
    has the offer cube's key plus source, so its size follows the distinct sources an offer
    and publisher send. The refresh adds it from the same fetch of new events as the other
    rollups (one more grouping column, no second read); a rebuilt hour reads its events once
    more, grouped by source. No daily table: rules read hours. CPC and CPM daily lines are not
    split by source (their shares carry country, device and sub ids): their money sits on
    source "" here.
    """

    hour = models.DateTimeField(help_text="UTC hour start.")
    source = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "hour",
                "offer",
                "publisher",
                goal_key(),
                "currency",
                "source",
                name="hourlysourcestat_unique_key",
            ),
        ]
        indexes = [
            # A rule on a source reads one offer's hours of one source (any or one publisher).
            models.Index(fields=["offer", "source", "hour"], name="hourlysourcestat_offer_src"),
        ]


class GeoKeyFields(CounterFields):
    """Advertiser x currency x country x device, without offer, publisher, goal or sub1.

    Network-wide and advertiser-wide geo reports (by country and device) would otherwise sum
    the full rollups, whose rows multiply by every offer, publisher and sub1 of a country: at
    10M clicks a week of staff "by country and device" read ~800k daily rows. This cube has a
    few hundred rows a day. Reports that also need an offer, publisher, goal or sub1 (a
    publisher's own geo report, filtered to its rows by index) read the full rollups.
    """

    advertiser_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    country = models.CharField(max_length=2)
    device = models.CharField(max_length=16)

    class Meta:
        abstract = True


class HourlyGeoStat(GeoKeyFields):
    hour = models.DateTimeField(help_text="UTC hour start.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "advertiser_id", "currency", "country", "device"],
                name="hourlygeostat_unique_key",
            ),
        ]
        indexes = [models.Index(fields=["advertiser_id", "hour"], name="hourlygeostat_adv_hour")]


class DailyGeoStat(GeoKeyFields):
    day = models.DateField(help_text="UTC day.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "advertiser_id", "currency", "country", "device"],
                name="dailygeostat_unique_key",
            ),
        ]
        indexes = [models.Index(fields=["advertiser_id", "day"], name="dailygeostat_adv_day")]


class ReportDirtyHour(models.Model):
    """An hour whose raw data changed after it may have been rolled up.

    Rows are appended by triggers on conversions and commissions and deleted by id once that
    hour was re-aggregated. There is deliberately no unique constraint: a mark written while
    its hour is being re-aggregated must survive to the next run, so marks are never merged
    into an existing row.
    """

    hour = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["hour"], name="reportdirty_hour")]


class ReportState(models.Model):
    """The rollup watermark: every hour before ``rolled_up_to`` has been aggregated once."""

    ROLLUPS = "rollups"  # the key of the rollups' row

    key = models.CharField(max_length=32, unique=True)
    rolled_up_to = models.DateTimeField(null=True, blank=True)
    settled_through = models.DateField(null=True, blank=True, help_text="Last UTC day of the nightly pass.")
    updated_at = models.DateTimeField(default=timezone.now)
