"""Custom tracking domains (issue 16): the network serves tracking links on its own hosts, per
publisher, per advertiser or as the network's default (``trk.acme-partners.com``), as Everflow
and Dub do. SITE_URL stays the default.

A domain is served once verified. Verification is an HTTP well-known token: the domain's owner
points the host at the network (a CNAME), the edge answers ``WELL_KNOWN_PATH`` on that host with
the domain's token (tracking/clickpath/hosts.py), and ``tracking_domain_verify`` fetches it
through the host's own DNS: a match proves the host reaches this network. It needs no DNS API,
and tests drive it offline by handing in the fetch. ``affiliates.models`` imports the model so
Django registers it here; it lives in affiliates because the links it renders (OfferAccess,
smart links) and its owners do.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from affiliates.core.errors import DomainError

WELL_KNOWN_PATH = "/.well-known/affnet-tracking-domain"
HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
FETCH_TIMEOUT_SECONDS = 5
#: How long a process keeps its list of verified domains for the link builders (the admin's
#: save clears this process's copy at once; others follow within this many seconds).
CACHE_SECONDS = 10.0


def _new_token() -> str:
    return secrets.token_urlsafe(24)


class TrackingDomain(models.Model):
    host = models.CharField(
        max_length=253, unique=True, help_text="e.g. trk.acme-partners.com (no scheme, no port)."
    )
    advertiser = models.ForeignKey(
        "affiliates.Advertiser",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tracking_domains",
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tracking_domains",
    )
    token = models.CharField(
        max_length=64,
        default=_new_token,
        editable=False,
        help_text=f"Served at {WELL_KNOWN_PATH} on the host.",
    )
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["host"]
        constraints = [
            # One owner at most: an advertiser's, a publisher's, or (neither) the network's.
            models.CheckConstraint(
                condition=Q(advertiser__isnull=True) | Q(publisher__isnull=True),
                name="tracking_domain_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.host

    @property
    def owner(self) -> str:
        if self.publisher_id:
            return f"publisher {self.publisher_id}"
        if self.advertiser_id:
            return f"advertiser {self.advertiser_id}"
        return "network"


def host_clean(host: str) -> str:
    """A host as stored and compared: lower case, without a trailing dot."""
    return host.strip().lower().rstrip(".")


def tracking_domain_check(*, host: str, advertiser_id: int | None, publisher_id: int | None) -> str:
    """The host as stored, or DomainError: a bad host, two owners, SITE_URL's host, taken."""
    host = host_clean(host)
    if not HOST_RE.match(host):
        raise DomainError("Give a host name such as trk.example.com.", code="bad_host")
    if advertiser_id and publisher_id:
        raise DomainError("A domain belongs to an advertiser or a publisher, not both.", code="two_owners")
    if host == (urlsplit(settings.SITE_URL).hostname or ""):
        raise DomainError("SITE_URL's host is the default already.", code="site_host")
    if TrackingDomain.objects.filter(host=host).exists():
        raise DomainError("That host is registered already.", code="host_taken")
    return host


def tracking_domain_create(
    *, host: str, advertiser_id: int | None = None, publisher_id: int | None = None
) -> TrackingDomain:
    host = tracking_domain_check(host=host, advertiser_id=advertiser_id, publisher_id=publisher_id)
    return TrackingDomain.objects.create(host=host, advertiser_id=advertiser_id, publisher_id=publisher_id)


def _http_fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as answer:  # noqa: S310 (http only)
        return bytes(answer.read(256)).decode("ascii", "replace")


def tracking_domain_verify(
    *, domain: TrackingDomain, fetch: Callable[[str], str] | None = None
) -> TrackingDomain:
    """Fetch ``http://{host}{WELL_KNOWN_PATH}``; the domain is verified when it answers the
    domain's token (it reaches this network). Raises DomainError ``domain_unverified`` else."""
    url = f"http://{domain.host}{WELL_KNOWN_PATH}"
    try:
        body = (fetch or _http_fetch)(url)
    except OSError as exc:  # DNS, refused, timeout, an HTTP error status
        raise DomainError(f"{url} could not be read: {exc}", code="domain_unverified") from exc
    if not secrets.compare_digest(body.strip(), domain.token):
        raise DomainError(f"{url} does not answer this domain's token yet.", code="domain_unverified")
    if domain.verified_at is None:
        domain.verified_at = timezone.now()
        domain.save(update_fields=["verified_at"])
    return domain


# --- The link builders' base URL ------------------------------------------------------------------

_cache: tuple[float, list[tuple[str, int | None, int | None]]] | None = None
_cache_lock = threading.Lock()


def tracking_domains_forget(**kwargs: object) -> None:
    """Drop this process's list (connected to the model's saves and deletes)."""
    global _cache
    with _cache_lock:
        _cache = None


def _verified() -> list[tuple[str, int | None, int | None]]:
    global _cache
    cached = _cache
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    rows: list[tuple[str, int | None, int | None]] = list(
        TrackingDomain.objects.filter(verified_at__isnull=False)
        .order_by("verified_at", "pk")
        .values_list("host", "publisher_id", "advertiser_id")
    )
    with _cache_lock:
        _cache = (time.monotonic() + CACHE_SECONDS, rows)
    return rows


def tracking_base_url(*, publisher_id: int | None, advertiser_id: int | None) -> str:
    """Where a link of this publisher to this advertiser's offer is served: the publisher's
    verified domain, else the advertiser's, else the network's default domain, else SITE_URL.
    A smart link (several advertisers) passes ``advertiser_id`` None."""
    rows = _verified()
    for owner in ("publisher", "advertiser", "network"):
        for host, pub, adv in rows:
            if (
                (owner == "publisher" and publisher_id is not None and pub == publisher_id)
                or (owner == "advertiser" and advertiser_id is not None and adv == advertiser_id)
                or (owner == "network" and pub is None and adv is None)
            ):
                return f"{urlsplit(settings.SITE_URL).scheme or 'https'}://{host}"
    return str(settings.SITE_URL).rstrip("/")
