"""Traffic policy: frequency caps across offers, negative lists and naming templates (issue 14).

Each cap and list entry has a scope: the network (no advertiser, no offer), an advertiser (its
offers), or one offer. An offer-scoped row also carries the offer's advertiser, so an
advertiser's view of its rows is one ``advertiser_id`` filter. The click path compiles all of
them into one in-process snapshot (tracking/clickpath/policy.py), refreshed within seconds.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Scope(models.TextChoices):
    NETWORK = "network", "The whole network"
    ADVERTISER = "advertiser", "An advertiser's offers"
    OFFER = "offer", "One offer"


class ScopedFields(models.Model):
    advertiser = models.ForeignKey(
        "affiliates.Advertiser",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the whole network. Set (without an offer): all of this advertiser's offers.",
    )
    offer = models.ForeignKey(
        "affiliates.Offer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Set: this offer only (the advertiser is then the offer's).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def scope(self) -> str:
        if self.offer_id is not None:
            return Scope.OFFER
        return Scope.ADVERTISER if self.advertiser_id is not None else Scope.NETWORK

    @property
    def scope_label(self) -> str:
        if self.offer_id is not None:
            return f"offer {self.offer_id}"
        return f"advertiser {self.advertiser_id}" if self.advertiser_id is not None else "network"


# An offer row must name its offer's advertiser (services set it): scoping by advertiser_id
# then covers offer rows too.
_OFFER_HAS_ADVERTISER = Q(offer__isnull=True) | Q(advertiser__isnull=False)


class FrequencyCap(ScopedFields):
    """At most ``limit`` clicks of one visitor sent to the scope's offers in ``window_days``
    (a rolling window). Over it, a click goes to the fallback with reason ``frequency_cap``."""

    class Window(models.IntegerChoices):
        DAY = 1, "1 day"
        WEEK = 7, "7 days"
        FORTNIGHT = 14, "14 days"

    window_days = models.PositiveSmallIntegerField(choices=Window.choices, help_text="1, 7 or 14 days.")
    limit = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Clicks one visitor may be sent in the window."
    )

    class Meta:
        ordering = ["advertiser_id", "offer_id", "window_days"]
        constraints = [
            models.CheckConstraint(condition=Q(window_days__in=(1, 7, 14)), name="freqcap_window_1_7_14"),
            models.CheckConstraint(condition=Q(limit__gte=1), name="freqcap_limit_positive"),
            models.CheckConstraint(condition=_OFFER_HAS_ADVERTISER, name="freqcap_offer_has_advertiser"),
            models.UniqueConstraint(
                fields=["window_days"],
                condition=Q(advertiser__isnull=True, offer__isnull=True),
                name="freqcap_one_per_network_window",
            ),
            models.UniqueConstraint(
                fields=["advertiser", "window_days"],
                condition=Q(advertiser__isnull=False, offer__isnull=True),
                name="freqcap_one_per_advertiser_window",
            ),
            models.UniqueConstraint(
                fields=["offer", "window_days"],
                condition=Q(offer__isnull=False),
                name="freqcap_one_per_offer_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label}: {self.limit} per {self.window_days} d"


class ListEntry(ScopedFields):
    """One value of a block list or allow list. A click matching a block entry of any scope
    that covers its offer is refused with reason ``blocked``; where a scope has an allow list
    of a kind, a click whose value is not on it is refused the same way."""

    class Mode(models.TextChoices):
        BLOCK = "block", "Block list"
        ALLOW = "allow", "Allow list"

    class Kind(models.TextChoices):
        PUBLISHER = "publisher", "Publisher (id)"
        SUB_ID = "sub_id", "Sub id (sub1 to sub5)"
        SOURCE = "source", "Source"
        REFERRER_DOMAIN = "referrer_domain", "Referrer domain (and its subdomains)"
        IP_RANGE = "ip_range", "IP range (IPv4 or IPv6 CIDR)"
        ASN = "asn", "Network (AS organisation name)"

    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.BLOCK)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=255, help_text="Normalised: a CIDR, a lower-case domain, ...")
    note = models.CharField(max_length=255, blank=True, default="", help_text="Why it is on the list.")

    class Meta:
        ordering = ["advertiser_id", "offer_id", "mode", "kind", "value"]
        verbose_name_plural = "list entries"
        constraints = [
            models.CheckConstraint(condition=_OFFER_HAS_ADVERTISER, name="listentry_offer_has_advertiser"),
            models.UniqueConstraint(
                fields=["mode", "kind", "value"],
                condition=Q(advertiser__isnull=True, offer__isnull=True),
                name="listentry_unique_network",
            ),
            models.UniqueConstraint(
                fields=["advertiser", "mode", "kind", "value"],
                condition=Q(advertiser__isnull=False, offer__isnull=True),
                name="listentry_unique_advertiser",
            ),
            models.UniqueConstraint(
                fields=["offer", "mode", "kind", "value"],
                condition=Q(offer__isnull=False),
                name="listentry_unique_offer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label} {self.mode} {self.kind} {self.value}"


class NamingTemplate(models.Model):
    """The network's naming rule for one sub id or the source, e.g. ``{channel}-{campaign}-{geo}``:
    reports can split that field's values by the template's parts."""

    class Field(models.TextChoices):
        SUB1 = "sub1"
        SUB2 = "sub2"
        SUB3 = "sub3"
        SUB4 = "sub4"
        SUB5 = "sub5"
        SOURCE = "source"

    name = models.CharField(max_length=120)
    field = models.CharField(
        max_length=8, choices=Field.choices, unique=True, help_text="One template a field."
    )
    pattern = models.CharField(
        max_length=255, help_text="Parts in braces with literal separators: {channel}-{campaign}-{geo}."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["field"]

    def __str__(self) -> str:
        return f"{self.field}: {self.pattern}"
