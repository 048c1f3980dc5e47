"""The demo network behind ``manage.py seed_demo``.

Idempotent by construction: every row is found by a natural key (an advertiser's name, an
offer's advertiser + name, a publisher's email, a coupon's code...) and created only when
missing; existing rows are never changed. Running it twice changes nothing.

Each section is one function taking the ``DemoNetwork`` built so far, listed in ``SECTIONS``.
The network's month of activity (traffic, commissions, a paid payout run) is not a section:
it is built after the network's transaction, day by day (payouts.demo.demo_activity_build,
called by ``seed_demo``).
"""

from __future__ import annotations

from base64 import b32decode
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from affiliates import services
from affiliates.models import (
    Advertiser,
    Cap,
    Coupon,
    CustomPayout,
    Goal,
    Offer,
    OfferAccess,
    Publisher,
    token_digest,
)

# Fixed, documented demo credentials (README "Demo logins"). Never use the demo in production.
STAFF_LOGIN = ("admin", "affnet-demo-admin")
ADVERTISER_LOGIN = ("acme", "affnet-demo-advertiser")
PUBLISHER_LOGIN = ("pixelpush", "affnet-demo-publisher")
# Staff sign in with a second factor: the demo admin's authenticator secret is published too
# (README "Demo logins"); add it to any TOTP app, or compute a code as the README shows.
STAFF_TOTP_SECRET = "AFFNETDEMOSTAFFTOTPSECRETKEY2345"
D = Decimal


@dataclass
class DemoNetwork:
    """What the sections built; later sections look things up here by name."""

    users: dict[str, Any] = field(default_factory=dict)
    advertisers: dict[str, Advertiser] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    publishers: dict[str, Publisher] = field(default_factory=dict)
    postback_tokens: dict[str, str] = field(default_factory=dict)
    created: int = 0

    def note(self, created: bool) -> None:
        self.created += int(created)


# --- Advertisers ---------------------------------------------------------------------------

ADVERTISERS = [
    # name, currency, short key (tokens and logins are derived from it)
    ("Acme Outdoor", "USD", "acme"),
    ("Globex Mobile", "USD", "globex"),
    ("Initech Finance", "EUR", "initech"),
    ("Umbrella Health", "GBP", "umbrella"),
]


def seed_advertisers(net: DemoNetwork) -> None:
    for name, currency, key in ADVERTISERS:
        token = f"demo-{key}-postback-token"
        advertiser, created = Advertiser.objects.get_or_create(
            name=name,
            defaults={
                "currency": currency,
                "postback_token_digest": token_digest(token),
                "postback_token_hint": token[:6],
                "hmac_secret": f"demo-{key}-hmac-secret",
            },
        )
        net.note(created)
        net.advertisers[key] = advertiser
        net.postback_tokens[key] = token


# --- Offers --------------------------------------------------------------------------------

# key, advertiser, name, category, visibility, status, landing host, targeting, goals, caps
# goals: (code, name, payout_type, payout, revenue); the first is the default.
OFFERS: list[dict[str, Any]] = [
    {
        "key": "summer_sale",
        "advertiser": "acme",
        "name": "Acme Outdoor - Summer Gear Sale",
        "category": "retail",
        "visibility": "public",
        "host": "shop.acme-outdoor.example",
        "countries": ["US", "CA", "GB"],
        "goals": [
            ("sale", "Sale", "cps", "8", "12"),
            ("newsletter", "Newsletter sign-up", "cpl", "0.50", "0.80"),
        ],
        "caps": [("conversions", "day", "offer", "500")],
    },
    {
        "key": "boots_launch",
        "advertiser": "acme",
        "name": "Acme Outdoor - Trail Boots Launch",
        "category": "retail",
        "visibility": "approval",
        "host": "shop.acme-outdoor.example",
        "countries": ["US", "CA"],
        "goals": [("sale", "Sale", "cps", "10", "15")],
        "caps": [("revenue", "month", "offer", "50000")],
    },
    {
        "key": "brand_display",
        "advertiser": "acme",
        "name": "Acme Outdoor - Brand Awareness Display",
        "category": "retail",
        "visibility": "public",
        "host": "www.acme-outdoor.example",
        "goals": [("impression", "1000 impressions", "cpm", "2.50", "4.00")],
    },
    {
        "key": "catalog_clicks",
        "advertiser": "acme",
        "name": "Acme Outdoor - Catalog Clicks",
        "category": "retail",
        "visibility": "approval",
        "host": "catalog.acme-outdoor.example",
        "devices": ["desktop", "tablet"],
        "goals": [("click", "Qualified click", "cpc", "0.25", "0.40")],
        "caps": [("clicks", "day", "offer", "10000"), ("clicks", "day", "each_publisher", "2000")],
    },
    {
        "key": "photomagic_ios",
        "advertiser": "globex",
        "name": "PhotoMagic - iOS Install",
        "category": "apps",
        "visibility": "approval",
        "host": "apps.globex-mobile.example",
        "countries": ["US", "GB", "DE"],
        "devices": ["mobile", "tablet"],
        "os": ["ios"],
        "goals": [("install", "Install", "cpi", "1.80", "2.60")],
        "caps": [("conversions", "day", "offer", "2000")],
    },
    {
        "key": "photomagic_android",
        "advertiser": "globex",
        "name": "PhotoMagic - Android Install",
        "category": "apps",
        "visibility": "public",
        "host": "apps.globex-mobile.example",
        "devices": ["mobile", "tablet"],
        "os": ["android"],
        "goals": [("install", "Install", "cpi", "1.20", "1.90")],
    },
    {
        "key": "streamly_trial",
        "advertiser": "globex",
        "name": "Streamly - Free Trial",
        "category": "entertainment",
        "visibility": "approval",
        "host": "join.streamly.example",
        "countries": ["US", "CA", "AU", "GB"],
        "goals": [
            ("trial", "Free trial started", "cpa", "12", "18"),
            ("subscribe", "Paid subscription", "cpa", "25", "40"),
        ],
        "hold_days": 14,
    },
    {
        "key": "credit_card",
        "advertiser": "initech",
        "name": "Initech - Cashback Credit Card Application",
        "category": "finance",
        "visibility": "approval",
        "host": "apply.initech-finance.example",
        "countries": ["DE", "FR", "NL", "ES"],
        "goals": [("application", "Approved application", "cpl", "35", "50")],
        "caps": [("payout", "month", "offer", "20000")],
        "hold_days": 30,
    },
    {
        "key": "mortgage_quote",
        "advertiser": "initech",
        "name": "Initech - Mortgage Quote Lead",
        "category": "finance",
        "visibility": "private",
        "host": "quotes.initech-finance.example",
        "countries": ["DE", "AT"],
        "goals": [("lead", "Qualified lead", "cpl", "20", "32")],
        "hold_days": 30,
    },
    {
        "key": "budget_app",
        "advertiser": "initech",
        "name": "Initech - Budget Planner App",
        "category": "apps",
        "visibility": "public",
        "host": "app.initech-finance.example",
        "devices": ["mobile"],
        "os": ["android", "ios"],
        "goals": [
            ("install", "Install", "cpi", "2.00", "3.10"),
            ("signup", "Account created", "cpa", "3", "5"),
        ],
    },
    {
        "key": "vitamin_box",
        "advertiser": "umbrella",
        "name": "Umbrella Health - Vitamin Subscription Box",
        "category": "health",
        "visibility": "approval",
        "host": "shop.umbrella-health.example",
        "countries": ["GB", "IE"],
        "goals": [("sale", "First order", "cps", "20", "30")],
        "caps": [("conversions", "week", "each_publisher", "250")],
    },
    {
        "key": "fitness_tracker",
        "advertiser": "umbrella",
        "name": "Umbrella Health - Fitness Tracker Winter Deal",
        "category": "health",
        "visibility": "public",
        "status": "paused",
        "host": "shop.umbrella-health.example",
        "goals": [("sale", "Sale", "cps", "6", "9")],
        "fallback": "vitamin_box",
    },
]


def _landing_url(host: str) -> str:
    return f"https://{host}/lp?aff_click={{click_id}}&pub={{publisher_id}}&s1={{sub1}}&src={{source}}"


def seed_offers(net: DemoNetwork) -> None:
    for spec in OFFERS:
        advertiser = net.advertisers[spec["advertiser"]]
        offer = Offer.objects.filter(advertiser=advertiser, name=spec["name"]).first()
        if offer is None:
            goals = [
                {"code": c, "name": n, "payout_type": t, "payout": D(p), "revenue": D(r)}
                for c, n, t, p, r in spec["goals"]
            ]
            offer = services.offer_create(
                advertiser=advertiser,
                goals=goals,
                name=spec["name"],
                description=f"{spec['name']}. Incentivised and brand-bidding traffic not allowed.",
                category=spec["category"],
                visibility=spec["visibility"],
                status=spec.get("status", Offer.Status.ACTIVE),
                landing_url=_landing_url(spec["host"]),
                preview_url=f"https://{spec['host']}/",
                deep_links_allowed=spec["category"] == "retail",
                allowed_domains=[spec["host"]] if spec["category"] == "retail" else [],
                hold_days=spec.get("hold_days", 7),
                target_countries=spec.get("countries", []),
                target_devices=spec.get("devices", []),
                target_os=spec.get("os", []),
            )
            net.note(True)
        net.offers[spec["key"]] = offer
    for spec in OFFERS:
        offer = net.offers[spec["key"]]
        if spec.get("fallback") and offer.fallback_offer_id is None:
            Offer.objects.filter(pk=offer.pk).update(fallback_offer=net.offers[spec["fallback"]])
            net.note(True)
        for metric, period, scope, limit in spec.get("caps", []):
            _, created = Cap.objects.get_or_create(
                offer=offer,
                metric=metric,
                period=period,
                scope=scope,
                publisher=None,
                defaults={"limit": D(limit)},
            )
            net.note(created)


# --- Publishers ----------------------------------------------------------------------------

PUBLISHERS = [
    # name, status, payout method, payout currency
    ("PixelPush Media", "active", "paypal", "USD"),
    ("CouponCave", "active", "wire", "USD"),
    ("DealHunter Blog", "active", "paypal", "USD"),
    ("Trailhead Reviews", "active", "ach", "USD"),
    ("AppAdvice Network", "active", "wire", "USD"),
    ("GadgetGuru", "active", "paypal", "EUR"),
    ("Sparfuchs Deals", "active", "sepa", "EUR"),
    ("BonPlan Express", "active", "sepa", "EUR"),
    ("FinanzTipps24", "active", "sepa", "EUR"),
    ("CashbackKing", "active", "wire", "GBP"),
    ("HealthyHabits Mag", "active", "paypal", "GBP"),
    ("FitFam Influencers", "active", "paypal", "USD"),
    ("MobileInstalls Pro", "active", "crypto", "USD"),
    ("PushTraffic Ltd", "active", "wire", "USD"),
    ("NativeAds Hub", "active", "ach", "USD"),
    ("EmailBlast Partners", "active", "check", "USD"),
    ("StudentSaver", "active", "paypal", "GBP"),
    ("OutdoorLife Forum", "active", "paypal", "USD"),
    ("NewSite Labs", "pending", "paypal", "USD"),
    ("QuizFunnel Co", "pending", "wire", "USD"),
    ("Viral Video Daily", "pending", "paypal", "EUR"),
    ("CheapClicks 4U", "suspended", "crypto", "USD"),
    ("BotFarm Traffic", "suspended", "crypto", "USD"),
    ("Incent Rewards App", "rejected", "paypal", "USD"),
    ("Toolbar Deals", "rejected", "wire", "USD"),
]


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def seed_publishers(net: DemoNetwork) -> None:
    for name, status, method, currency in PUBLISHERS:
        slug = _slug(name)
        details = {"paypal": {"email": f"pay@{slug}.example"}, "sepa": {"iban": "DE89370400440532013000"}}
        publisher, created = Publisher.objects.get_or_create(
            email=f"partners@{slug}.example",
            defaults={
                "name": name,
                "status": status,
                "website": f"https://www.{slug}.example/",
                "payout_method": method,
                "payout_currency": currency,
                "payout_details": details.get(method, {"account": f"{slug}-0001"}),
                "minimum_payout": D("50") if currency != "EUR" else D("100"),
            },
        )
        net.note(created)
        net.publishers[slug] = publisher


# --- Accesses, custom payouts, coupons -----------------------------------------------------


def _access(net: DemoNetwork, offer: Offer, publisher: Publisher, status: str, note: str = "") -> None:
    decided = status != OfferAccess.Status.PENDING
    _, created = OfferAccess.objects.get_or_create(
        offer=offer,
        publisher=publisher,
        defaults={
            "status": status,
            "note": note,
            "decided_by": net.users.get("staff") if decided else None,
            "decided_at": timezone.now() if decided else None,
        },
    )
    net.note(created)


def seed_accesses(net: DemoNetwork) -> None:
    """Active publishers run a deterministic spread of offers; a few applications wait."""
    active = [p for p in net.publishers.values() if p.status == Publisher.Status.ACTIVE]
    offers = [o for o in net.offers.values() if o.visibility != Offer.Visibility.PRIVATE]
    for i, publisher in enumerate(active):
        for j, offer in enumerate(offers):
            if (i + j) % 3 == 0 or publisher.name == "PixelPush Media":
                _access(net, offer, publisher, OfferAccess.Status.APPROVED)
    private = net.offers["mortgage_quote"]
    _access(
        net, private, net.publishers["finanztipps24"], OfferAccess.Status.APPROVED, "Invited: finance site"
    )
    _access(net, private, net.publishers["sparfuchsdeals"], OfferAccess.Status.APPROVED, "Invited")
    _access(net, net.offers["credit_card"], net.publishers["emailblastpartners"], "pending", "Email list, DE")
    _access(
        net, net.offers["streamly_trial"], net.publishers["pushtrafficltd"], "pending", "Push notifications"
    )
    _access(net, net.offers["vitamin_box"], net.publishers["fitfaminfluencers"], "pending", "Instagram")
    _access(net, net.offers["boots_launch"], net.publishers["toolbardeals"], "rejected", "Toolbar traffic")


CUSTOM_PAYOUTS = [
    # publisher slug, offer key, goal code or None, countries, payout, revenue or None
    ("pixelpushmedia", "summer_sale", "sale", [], "10", None),
    ("couponcave", "summer_sale", "sale", ["US"], "9", None),
    ("mobileinstallspro", "photomagic_ios", None, [], "2.10", "2.90"),
    ("mobileinstallspro", "photomagic_ios", None, ["DE"], "1.60", None),
    ("finanztipps24", "credit_card", "application", ["DE"], "40", "55"),
    ("healthyhabitsmag", "vitamin_box", "sale", [], "24", None),
]


def seed_custom_payouts(net: DemoNetwork) -> None:
    for slug, offer_key, goal_code, countries, payout, revenue in CUSTOM_PAYOUTS:
        offer = net.offers[offer_key]
        goal = Goal.objects.get(offer=offer, code=goal_code) if goal_code else None
        # countries is a JSON list, so it is matched in Python rather than by a JSON lookup.
        existing = CustomPayout.objects.filter(publisher=net.publishers[slug], offer=offer, goal=goal)
        if any(c.countries == countries for c in existing):
            continue
        CustomPayout.objects.create(
            publisher=net.publishers[slug],
            offer=offer,
            goal=goal,
            countries=countries,
            payout=D(payout),
            revenue=D(revenue) if revenue else None,
        )
        net.note(True)


COUPONS = [
    ("SUMMER-PIXEL10", "pixelpushmedia", "summer_sale"),
    ("CAVE15", "couponcave", "summer_sale"),
    ("DEALHUNTER", "dealhunterblog", "summer_sale"),
    ("TRAIL20", "trailheadreviews", "boots_launch"),
    ("HEALTHY20", "healthyhabitsmag", "vitamin_box"),
    ("STUDENTVIT", "studentsaver", "vitamin_box"),
    ("FITFAM", "fitfaminfluencers", "fitness_tracker"),
    ("CASHBACK5", "cashbackking", "vitamin_box"),
]


def seed_coupons(net: DemoNetwork) -> None:
    for code, slug, offer_key in COUPONS:
        _, created = Coupon.objects.get_or_create(
            code=code, defaults={"publisher": net.publishers[slug], "offer": net.offers[offer_key]}
        )
        net.note(created)


# --- Logins --------------------------------------------------------------------------------


def _user(net: DemoNetwork, username: str, password: str, **flags: Any) -> Any:
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@demo.example", **flags}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    net.note(created)
    Token.objects.get_or_create(user=user)
    return user


def seed_staff(net: DemoNetwork) -> None:
    net.users["staff"] = staff = _user(net, *STAFF_LOGIN, is_staff=True, is_superuser=True)
    _, created = TOTPDevice.objects.get_or_create(
        user=staff,
        confirmed=True,
        defaults={"name": "Demo authenticator", "key": b32decode(STAFF_TOTP_SECRET).hex()},
    )
    net.note(created)


def seed_logins(net: DemoNetwork) -> None:
    advertiser_user = _user(net, *ADVERTISER_LOGIN)
    net.advertisers["acme"].members.add(advertiser_user)
    publisher_user = _user(net, *PUBLISHER_LOGIN)
    net.publishers["pixelpushmedia"].members.add(publisher_user)
    net.users.update(advertiser=advertiser_user, publisher=publisher_user)


SECTIONS: list[Callable[[DemoNetwork], None]] = [
    seed_staff,
    seed_advertisers,
    seed_offers,
    seed_publishers,
    seed_accesses,
    seed_custom_payouts,
    seed_coupons,
    seed_logins,
]


@transaction.atomic
def seed() -> DemoNetwork:
    net = DemoNetwork()
    for section in SECTIONS:
        section(net)
    return net


def credentials_text(net: DemoNetwork) -> str:
    rows = [
        ("network staff", STAFF_LOGIN, net.users["staff"]),
        ("advertiser (Acme Outdoor)", ADVERTISER_LOGIN, net.users["advertiser"]),
        ("publisher (PixelPush Media)", PUBLISHER_LOGIN, net.users["publisher"]),
    ]
    lines = ["Demo logins (admin at /admin/, API docs at /api/docs/):"]
    for role, (username, password), user in rows:
        key = Token.objects.get(user=user).key
        lines.append(f"  {role:28} user {username:10} password {password:24} API token {key}")
    lines.append(
        f"  network staff's two-factor secret (TOTP, add it to an authenticator app): {STAFF_TOTP_SECRET}"
    )
    lines.append("Advertiser postback tokens:")
    for key, advertiser in net.advertisers.items():
        lines.append(f"  {advertiser.name:28} token {net.postback_tokens[key]}")
    return "\n".join(lines)
