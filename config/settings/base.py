"""Settings shared by every way of running.

Every value comes from the environment through django-environ's typed helpers, so a bad
value fails at start-up instead of at the first request.

Two modes, one codebase:
- embedded default (no DATABASE_URL): SQLite under var/, Celery over kombu's filesystem
  transport so a worker and beat run with no external service;
- DATABASE_URL + REDIS_URL: PostgreSQL, Redis as broker and cache, real workers and beat.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import csp.constants as csp
import django_stubs_ext
import environ

# Makes Django's generic classes (ModelAdmin, ModelForm, Field, Lookup...) subscriptable at
# runtime, so `admin.ModelAdmin[Offer]` in a class statement means what the type checker reads.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DATABASE_URL: str = env.str("DATABASE_URL", default="")
REDIS_URL: str = env.str("REDIS_URL", default="")
EMBEDDED = not DATABASE_URL

DEBUG = env.bool("DEBUG", default=EMBEDDED)
# The embedded default is for trying the product on one machine; production.py refuses this key.
SECRET_KEY = env.str("SECRET_KEY", default="embedded-insecure-key-change-me-for-production-0123456789")
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "auditlog",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "affiliates",
    "tracking",
    "payouts",
    "payouts.automation",
    "payouts.experiments",
]

MIDDLEWARE = [
    # First: X-Forwarded-For/-Proto only from TRUSTED_PROXIES (affiliates/core/proxies.py).
    "affiliates.core.proxies.ForwardedHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL byte or non-UTF-8 text in a query string or body: 400 bad_encoding before any view.
    "affiliates.core.encoding.EncodingGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who and from where, for every audited change in the request (affiliates/core/audit.py).
    "affiliates.core.audit.AuditMiddleware",
    # request.user.is_verified(): the session passed the second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # A session owing its second factor reaches only the code prompt or enrolment (and logout).
    "affiliates.accounts.gate.TwoFactorGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as axes asks: turns a login that reached the lockout into the "locked out" answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# Django's form renderer, with the stock widgets drawn in Python rather than one template per
# widget, option and attribute list: same markup, a fraction of the cost (issue 16).
FORM_RENDERER = "affiliates.core.form_renderer.WidgetRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if EMBEDDED:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "affnet.sqlite3",
            # WAL lets the web process read while the Celery worker writes; IMMEDIATE takes the
            # write lock at BEGIN so two writers queue on busy_timeout instead of deadlocking.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
else:
    _db: dict[str, Any] = dict(env.db_url("DATABASE_URL"))
    _db["ENGINE"] = "django.db.backends.postgresql"
    _db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    _db["OPTIONS"] = {**_db.get("OPTIONS", {}), "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=5)}
    DATABASES = {"default": _db}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="affnet"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "affnet"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout backend comes first: a locked-out (IP, account) is refused before its password is
# even checked, so the right password does not get through during a lockout.
AUTHENTICATION_BACKENDS = [
    "affiliates.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    # The Django admin's model permissions from the staff role (affiliates.roles).
    "affiliates.accounts.admin_permissions.StaffRoleBackend",
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# E-mail (password resets, ...). EMAIL_URL sets the SMTP server in one value, e.g.
# smtp+tls://user:password@smtp.example.com:587 (django-environ's schemes); without it
# EMAIL_BACKEND decides, by default the console (mails go to the log: production refuses that).
EMAIL_URL: str = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    _email: dict[str, Any] = env.email_url_config(EMAIL_URL)
    EMAIL_BACKEND: str = _email["EMAIL_BACKEND"]
    EMAIL_HOST: str = _email["EMAIL_HOST"] or "localhost"
    EMAIL_PORT: int = _email["EMAIL_PORT"] or 25
    EMAIL_HOST_USER: str = _email["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD: str = _email["EMAIL_HOST_PASSWORD"] or ""
    EMAIL_USE_TLS: bool = bool(_email.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL: bool = bool(_email.get("EMAIL_USE_SSL"))
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_TIMEOUT = 10  # a stuck mail server must not hold a web thread for ever
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="network@localhost")

# --- API -----------------------------------------------------------------------------------
# The audit log (django-auditlog; affiliates/core/audit.py): entries carry their tenants.
AUDITLOG_LOGENTRY_MODEL = "affiliates.AuditEntry"
# auditlog's migrations create its own LogEntry table even when the model is swapped out: an
# empty table whose foreign key to django_content_type makes `flush` fail on PostgreSQL. The
# swapped model needs no table, so the app runs without its migrations.
MIGRATION_MODULES = {"auditlog": None}
AUDITLOG_DISABLE_ON_RAW_SAVE = True  # fixtures loaded with loaddata are not changes
# Entries older than this many days are deleted by a daily beat job (affiliates.tasks), which logs
# each prune; on PostgreSQL a trigger refuses any other UPDATE or DELETE of the log.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=730)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF authtoken keys (drf_create_token) and named API keys (affiliates.accounts.keys).
        "affiliates.api.auth.LockoutTokenAuthentication",
        # Sessions count only once their second factor is in, where one is owed.
        "affiliates.api.auth.VerifiedSessionAuthentication",
    ],
    # StaffActs: a staff write needs its role to allow the view's act (affiliates.roles).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "affiliates.api.permissions.StaffActs",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        # Role-aware: search, ordering and id filters touch only what the caller may see.
        "affiliates.api.lookups.ScopedFilterBackend",
        "affiliates.api.lookups.RoleOrderingFilter",
        "affiliates.api.lookups.RoleSearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "affiliates.api.base.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "affiliates.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "affiliates.api.base.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "PATH_CONVERTER_OVERRIDES": {"dbid": int},  # affiliates/api/urls.py: ids within a bigint
    "TITLE": "affnet API",
    "DESCRIPTION": "Affiliate network tracking, attribution, commissions and payouts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # 3.1 for its webhooks section: the signed events integrators receive.
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": [
        f"payouts.callbacks.api.webhook_docs.{name}"
        for name in (
            "CLICK",
            "CONVERSION_CREATED",
            "CONVERSION_STATUS_CHANGED",
            "COMMISSION",
            "PAYOUT",
            "INVOICE",
        )
    ],
    # Swagger UI and Redoc served from our own static files: the docs work with no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OfferStatusEnum": "affiliates.models.Offer.Status",
        "PublisherStatusEnum": "affiliates.models.Publisher.Status",
        "AdvertiserStatusEnum": "affiliates.models.Advertiser.Status",
        "AccessStatusEnum": "affiliates.models.OfferAccess.Status",
        # Conversions and commissions share one life cycle (pending, approved, rejected,
        # reversed): one enum for Commission.status, Conversion.status and the events' to_status.
        "ConversionStatusEnum": "tracking.models.conversions.ConversionStatus",
        "CommissionKindEnum": "payouts.models.Commission.Kind",
        "AccountKindEnum": "payouts.models.Account.Kind",
        "ConversionSourceEnum": "tracking.models.conversions.Conversion.Source",
        "ReportSourceEnum": ["daily", "hourly", "raw"],
        # A cap's metric and period, also what an automation rule's "set cap" action sets.
        "CapMetricEnum": "affiliates.models.Cap.Metric",
        "NotificationKindEnum": "affiliates.notifications.Kind",
        "WebhookEventEnum": "payouts.models.webhooks.WebhookEvent",
        "DeliveryStatusEnum": "payouts.models.callbacks.CallbackDelivery.Status",
        "WebhookOwnerEnum": "payouts.models.webhooks.WebhookSubscription.Owner",
        "CapPeriodEnum": "affiliates.models.Cap.Period",
        "RuleActionEnum": "payouts.automation.models.Action",
        "SmartPathStatusEnum": "tracking.models.smartlinks.SmartPath.Status",
        "HoldoutStatusEnum": "tracking.models.holdouts.HoldoutTest.Status",
        "AbTestKindEnum": "tracking.models.abtests.AbTest.Kind",
        "AbTestMetricEnum": "tracking.models.abtests.AbTest.Metric",
        "ListEntryKindEnum": "tracking.models.policy.ListEntry.Kind",
        "ListEntryModeEnum": "tracking.models.policy.ListEntry.Mode",
        "SmartLinkModeEnum": "tracking.models.smartlinks.SmartLink.Mode",
        "TeamRoleEnum": "affiliates.team_models.TeamRole",
        "StaffRoleEnum": "affiliates.team_models.StaffRole",
    },
}

# --- Brute-force lockout (django-axes; affiliates/lockout.py) -------------------------------
# Failed logins (portal, admin), password-reset requests, sign-ups and bad API tokens count per
# client IP and per account; at AXES_FAILURE_LIMIT within AXES_COOLOFF_TIME (hours) the IP or the
# account is refused until the cool-off passes or staff lift the lock (/staff/lockouts/).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(hours=env.float("AXES_COOLOFF_TIME", default=1.0))
AXES_LOCKOUT_PARAMETERS = "affiliates.lockout.lockout_parameters"
AXES_LOCKOUT_CALLABLE = "affiliates.lockout.lockout_response"
# Count the client behind a trusted proxy, not the proxy (affiliates/core/proxies.py).
AXES_CLIENT_IP_CALLABLE = "affiliates.core.proxies.request_client_ip"
AXES_HTTP_RESPONSE_CODE = 429
# Attempts are recorded for the lockout only; successful logins are not journaled a second time.
AXES_DISABLE_ACCESS_LOG = True
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME.total_seconds() <= 0:
    raise environ.ImproperlyConfigured("AXES_FAILURE_LIMIT and AXES_COOLOFF_TIME must be positive")

# --- Two-factor authentication (django-otp; affiliates/accounts/twofactor.py) -------------------
# TOTP apps plus single-use recovery codes. Required for staff (portal staff pages and the admin:
# a staff member without a device is sent to enrolment first); optional for advertisers and
# publishers. Wrong codes count toward the lockout above like wrong passwords. Turning
# OTP_REQUIRED_FOR_STAFF off is for a closed test network only.
OTP_REQUIRED_FOR_STAFF = env.bool("OTP_REQUIRED_FOR_STAFF", default=True)
# The name authenticator apps show next to the code.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="affnet")
# The admin lists staff's and users' devices (to remove a lost one) without their secrets.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# django-otp's own back-off also applies on top of the lockout: after a wrong code a device
# refuses codes for 1 s, doubling per failure (OTP_TOTP_THROTTLE_FACTOR, its default).

# --- Content-Security-Policy (django-csp) ------------------------------------------------
# Only what the pages use: scripts and style sheets from this site (no inline script, no
# <style>), images from this site plus data: (icons) and https: (advertisers' banner creatives),
# XHR to this site (Swagger UI's schema, payout-run progress). style-src-attr 'unsafe-inline':
# the payout pages' templates still set a few style attributes (a progress bar's width); they
# run no script, and this goes once those move to classes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "style-src-attr": [csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:", "https:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

# --- Celery --------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
else:
    # kombu's filesystem transport: a real broker with no server, so the embedded default runs a
    # real worker and beat (make run) instead of pretending with eager mode.
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "results", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "store_processed": False,
        # Without this kombu writes its broadcast (pidbox) exchange files to ./control.
        "control_folder": str(_celery_dir / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{_celery_dir / 'results'}"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic jobs. Each app adds its entries here by name; tasks are looked up lazily by Celery.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# Payout runs: at 03:00 UTC on the 1st, build the previous month's run (a repeat does nothing).
from celery.schedules import crontab  # noqa: E402

# Notification e-mails the broker missed (down when they were owed).
CELERY_BEAT_SCHEDULE["notification-emails-due"] = {
    "task": "affiliates.notification_emails_due",
    "schedule": 300.0,
}
# Caps at 80 % or reached, invoices overdue: told once each.
# Webhook subscribers to clicks: the clicks written since the last scan.
CELERY_BEAT_SCHEDULE["webhook-clicks"] = {"task": "payouts.callbacks.webhook_clicks", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["notices-tick"] = {"task": "payouts.notices_tick", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["payout-run-monthly"] = {
    "task": "payouts.tasks_payout_runs.payout_runs_monthly",
    "schedule": crontab(minute="0", hour="3", day_of_month="1"),
}
# At 04:00 UTC on the 1st, issue the previous month's invoices, credit notes and statements.
# Daily at 03:30 UTC: the audit log's retention (AUDIT_RETENTION_DAYS).
CELERY_BEAT_SCHEDULE["audit-prune-daily"] = {
    "task": "affiliates.tasks.audit_prune_task",
    "schedule": crontab(minute="30", hour="3"),
}
CELERY_BEAT_SCHEDULE["documents-monthly"] = {
    "task": "payouts.tasks_payout_runs.documents_monthly",
    "schedule": crontab(minute="0", hour="4", day_of_month="1"),
}

# --- Product settings ----------------------------------------------------------------------
# The network as issuer of invoices, credit notes and statements (payouts.documents). Issuing a
# document refuses while the legal name, address, country or tax id is empty: an accountant
# rejects a document without them. Address lines are separated by "\n" (backslash n) in the env.
# The embedded (demo) mode has a made-up issuer so its documents can be tried; production none.
ISSUER_LEGAL_NAME = env.str("ISSUER_LEGAL_NAME", default="Affnet Demo Network Ltd" if EMBEDDED else "")
ISSUER_ADDRESS = env.str(
    "ISSUER_ADDRESS", default="1 Example Street\\nDublin D02 XY00\\nIreland" if EMBEDDED else ""
).replace("\\n", "\n")
ISSUER_COUNTRY = env.str("ISSUER_COUNTRY", default="IE" if EMBEDDED else "").upper()
ISSUER_TAX_ID = env.str("ISSUER_TAX_ID", default="IE6388047V" if EMBEDDED else "")
ISSUER_BANK_DETAILS = env.str("ISSUER_BANK_DETAILS", default="").replace("\\n", "\n")
ISSUER_EMAIL = env.str("ISSUER_EMAIL", default="")
# Domestic VAT, percent per issuer country: "IE=23,DE=19,FR=20". A document whose customer is in
# the issuer's country charges the issuer country's rate (a VAT line, net/VAT/gross per currency);
# without a rate for ISSUER_COUNTRY such a document is refused (409 vat_rate_missing), never
# issued without VAT. The demo's issuer is Irish: 23 %.


def _vat_rates(raw: dict[str, str]) -> dict[str, Decimal]:
    rates = {}
    for country, value in raw.items():
        try:
            rate = Decimal(str(value).strip())
        except InvalidOperation:
            rate = Decimal(-1)
        if len(country.strip()) != 2 or not Decimal(0) <= rate < Decimal(100):
            raise environ.ImproperlyConfigured(f"ISSUER_VAT_RATES: {country}={value} is not COUNTRY=percent")
        rates[country.strip().upper()] = rate
    return rates


ISSUER_VAT_RATES = _vat_rates(env.dict("ISSUER_VAT_RATES", default={"IE": "23"} if EMBEDDED else {}))
# Days between an invoice's issue date and its due date ("net 30").
INVOICE_PAYMENT_TERMS_DAYS = env.int("INVOICE_PAYMENT_TERMS_DAYS", default=30)
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")
# Where a click goes when the offer cannot take it and has no fallback of its own.
DEFAULT_FALLBACK_URL = env.str("DEFAULT_FALLBACK_URL", default="https://example.com/")
# X-Forwarded-For (client IP) and X-Forwarded-Proto (HTTPS) are believed only when the direct
# peer is in one of these CIDRs (affiliates/core/proxies.py decides, for every path). Empty: the
# peer is the client, and its forwarding headers are dropped.
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
try:
    for _net in TRUSTED_PROXIES:
        ipaddress.ip_network(_net, strict=False)
except ValueError as _exc:
    raise environ.ImproperlyConfigured(f"TRUSTED_PROXIES: {_exc}") from _exc
# How click IPs are stored: full, truncated (/24 and /48) or hashed (keyed SHA-256).
IP_PRIVACY = env.str("IP_PRIVACY", default="full")
if IP_PRIVACY not in {"full", "truncated", "hashed"}:
    raise environ.ImproperlyConfigured("IP_PRIVACY must be one of full, truncated, hashed")
CLICK_FLOOD_PER_HOUR = env.int("CLICK_FLOOD_PER_HOUR", default=30)
POSTBACK_SIG_TOLERANCE_SECONDS = env.int("POSTBACK_SIG_TOLERANCE_SECONDS", default=300)
# Conversions: how long a process may reuse an advertiser/offer/goal/standing read (an edit
# takes effect within this many seconds).
CONVERSION_CATALOG_TTL_SECONDS = env.int("CONVERSION_CATALOG_TTL_SECONDS", default=5)
# The largest sale amount a postback may report (in the offer's currency) when the offer sets
# no max_sale_amount of its own: past it the postback is refused (400 amount_over_max), so a
# typo or an attack of 10^14 never becomes a commission.
try:
    CONVERSION_MAX_SALE_AMOUNT = Decimal(env.str("CONVERSION_MAX_SALE_AMOUNT", default="1000000"))
except InvalidOperation as exc:
    raise environ.ImproperlyConfigured("CONVERSION_MAX_SALE_AMOUNT must be a decimal") from exc
if not CONVERSION_MAX_SALE_AMOUNT.is_finite() or CONVERSION_MAX_SALE_AMOUNT <= 0:
    raise environ.ImproperlyConfigured("CONVERSION_MAX_SALE_AMOUNT must be a positive decimal")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Click hot path (tracking/clickpath) -----------------------------------------------------
# Link snapshots (token -> offer, publisher, caps) live this long in each process; saves also
# evict the shared Redis copy, so an edit reaches every worker within this many seconds.
CLICK_LINK_CACHE_SECONDS = env.float("CLICK_LINK_CACHE_SECONDS", default=5.0)
# POST /api/v1/clicks/ (the server-side click API) per API user, in DRF's "number/period" form.
CLICK_API_RATE = env.str("CLICK_API_RATE", default="3000/min")
# Negative lists and frequency caps (tracking/clickpath/policy.py): each process reloads them
# this often, in the background, so an upload applies everywhere within this many seconds.
CLICK_POLICY_REFRESH_SECONDS = env.float("CLICK_POLICY_REFRESH_SECONDS", default=5.0)
# Prefix of every hot-path Redis key (stream, counters, pending clicks, link snapshots).
CLICK_REDIS_PREFIX = env.str("CLICK_REDIS_PREFIX", default=env.str("CACHE_KEY_PREFIX", default="affnet"))
# A click must not hang on a sick Redis: past this it goes straight to the database.
CLICK_REDIS_TIMEOUT_SECONDS = env.float("CLICK_REDIS_TIMEOUT_SECONDS", default=0.5)
# Clicks written while both Redis and the database were unreachable (replayed by consume_clicks).
CLICK_SPOOL_DIR = env.str("CLICK_SPOOL_DIR", default=str(VAR_DIR / "spool"))
CLICK_CONSUMER_BATCH = env.int("CLICK_CONSUMER_BATCH", default=2000)
# After a batch smaller than CLICK_CONSUMER_BATCH the consumer waits this long before reading
# again, so a busy stream is written in large transactions (tracking/clickpath/consumer.py).
CLICK_CONSUMER_LINGER_MS = env.int("CLICK_CONSUMER_LINGER_MS", default=200)
# Stream entries a consumer read but did not acknowledge for this long are claimed by another.
CLICK_CLAIM_IDLE_MS = env.int("CLICK_CLAIM_IDLE_MS", default=30_000)
# How long a click waiting in the stream stays findable by attribution (deleted once written).
CLICK_PENDING_TTL_SECONDS = env.int("CLICK_PENDING_TTL_SECONDS", default=6 * 3600)
# A postback for a click id minted less than this long ago that no store holds yet answers 503
# (retry), not unknown_click: the click may be in a host's spool that its consumer has not
# noticed yet (tracking/conversions/click_lookup.py).
CLICK_UNDRAINED_GRACE_SECONDS = env.int("CLICK_UNDRAINED_GRACE_SECONDS", default=300)
# /healthz answers 503 when the oldest click waiting in the stream is older than this: clicks
# are not being written (no consumer, or a stuck one).
CLICK_HEALTH_MAX_LAG_SECONDS = env.int("CLICK_HEALTH_MAX_LAG_SECONDS", default=120)

# The edge (config/asgi.py, tracking/clickpath/edge.py): threads per app-server worker for what
# the edge does not answer on its event loop (Django pages, the API, the pixel), and for the
# edge's rare blocking steps (clicks: a link cache miss, the database fallback while Redis is
# down, the spool; postbacks: catalog misses, caps, signatures, status updates, duplicates'
# originals; every postback on SQLite).
WEB_THREADS = env.int("WEB_THREADS", default=16)
EDGE_BLOCKING_THREADS = env.int("EDGE_BLOCKING_THREADS", default=4)

# --- Reports (payouts/reports) ------------------------------------------------------------
# Rollups are refreshed this often. Each pass adds the events between the watermark and now
# less REPORTS_TRAFFIC_LAG_SECONDS (clicks reach the database from the stream a moment after
# their time); an hour is checked once more REPORTS_LATE_CHECK_SECONDS after the watermark
# passed it, so a click stored that late is still counted; hours marked dirty by conversions
# and commissions are rebuilt, and so are hours the click writer marked because it wrote rows
# behind the watermark (a spool replay, a consumer backlog: tracking/clickpath/late.py). Every
# 30 s, so such a late click shows within a minute; a pass with nothing new is a few queries.
# REPORTS_LATE_HOURS: how far back the first pass rebuilds. See payouts/reports/services.py.
REPORTS_ROLLUP_INTERVAL_SECONDS = env.float("REPORTS_ROLLUP_INTERVAL_SECONDS", default=30)
REPORTS_TRAFFIC_LAG_SECONDS = env.int("REPORTS_TRAFFIC_LAG_SECONDS", default=60)
REPORTS_LATE_CHECK_SECONDS = env.int("REPORTS_LATE_CHECK_SECONDS", default=900)
REPORTS_LATE_HOURS = env.int("REPORTS_LATE_HOURS", default=3)
CELERY_BEAT_SCHEDULE["reports-rollup-refresh"] = {
    "task": "payouts.reports.rollup_refresh",
    "schedule": REPORTS_ROLLUP_INTERVAL_SECONDS,
}
# Smart links: every SMARTLINKS_TICK_SECONDS, refresh the per-path rollups of yesterday and
# today, then run the optimisations that are due (each link's own schedule; conservative mode
# weekly). See payouts/smartlinks/.
SMARTLINKS_TICK_SECONDS = env.float("SMARTLINKS_TICK_SECONDS", default=600)
CELERY_BEAT_SCHEDULE["smartlinks-optimise"] = {
    "task": "payouts.smartlinks.optimise_tick",
    "schedule": SMARTLINKS_TICK_SECONDS,
}
# Holdout tests: every HOLDOUTS_TICK_SECONDS, stop those past their end date and those whose
# sequential rule finds the answer clear (payouts/incrementality/).
HOLDOUTS_TICK_SECONDS = env.float("HOLDOUTS_TICK_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE["holdouts-tick"] = {
    "task": "payouts.incrementality.holdouts_tick",
    "schedule": HOLDOUTS_TICK_SECONDS,
}
# Nightly at 02:30 UTC: customers, cohorts and the new/returning mix (customer value). Staff can
# also queue it (POST /api/v1/reports/customers/refresh/) or run manage.py customer_value_refresh.
CELERY_BEAT_SCHEDULE["customer-value-refresh"] = {
    "task": "payouts.reports.customer_value_refresh",
    "schedule": crontab(minute="30", hour="2"),
}

# Journeys and multi-touch credit (payouts/journeys/): every JOURNEYS_INTERVAL_SECONDS, the
# journeys of conversions of the last JOURNEYS_RECOMPUTE_DAYS are recomputed (statuses and
# commissions still move there), with Markov removal effects learnt from the offer's journeys of
# the last JOURNEYS_MARKOV_DAYS; assist commissions are made and follow their conversions.
JOURNEYS_INTERVAL_SECONDS = env.float("JOURNEYS_INTERVAL_SECONDS", default=3600)
JOURNEYS_RECOMPUTE_DAYS = env.int("JOURNEYS_RECOMPUTE_DAYS", default=3)
JOURNEYS_MARKOV_DAYS = env.int("JOURNEYS_MARKOV_DAYS", default=30)
CELERY_BEAT_SCHEDULE["journeys-refresh"] = {
    "task": "payouts.journeys.refresh",
    "schedule": JOURNEYS_INTERVAL_SECONDS,
}

# --- payouts: reconciliation (ledger) --------------------------------------------------------
# Every PAYOUTS_RECONCILE_INTERVAL_SECONDS: fan the conversion backlog out to workers, recount
# CPC/CPM lines, approve due commissions; each only when there is something to do.
PAYOUTS_RECONCILE_INTERVAL_SECONDS = env.float("PAYOUTS_RECONCILE_INTERVAL_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["payouts-reconcile-tick"] = {
    "task": "payouts.reconcile_tick",
    "schedule": PAYOUTS_RECONCILE_INTERVAL_SECONDS,
}

# --- Publisher postbacks (payouts.callbacks) -----------------------------------------------
# Postbacks go to public addresses only. CIDRs listed here are let through anyway, e.g. a
# publisher's tracker on the network's own LAN. Comma-separated; empty (the default) allows none.
POSTBACK_ALLOWED_PRIVATE_NETWORKS: list[str] = env.list("POSTBACK_ALLOWED_PRIVATE_NETWORKS", default=[])
try:
    for _net in POSTBACK_ALLOWED_PRIVATE_NETWORKS:
        ipaddress.ip_network(_net, strict=False)
except ValueError as _exc:
    raise environ.ImproperlyConfigured(f"POSTBACK_ALLOWED_PRIVATE_NETWORKS: {_exc}") from _exc
# Liveness of beat (and of a worker to run what it schedules), read by /healthz.
BEAT_HEARTBEAT_SECONDS = env.float("BEAT_HEARTBEAT_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE["tracking-beat-heartbeat"] = {
    "task": "tracking.tasks.beat_heartbeat",
    "schedule": BEAT_HEARTBEAT_SECONDS,
}
CELERY_BEAT_SCHEDULE["callbacks-retry-due"] = {"task": "payouts.callbacks.retry_due", "schedule": 60.0}

# --- Automation rules ----------------------------------------------------------------------
# Every minute: enqueue a check of each rule that is due (each has its own frequency, 5 min by
# default), and the rule webhooks whose retry is due.
CELERY_BEAT_SCHEDULE["automation-rules-tick"] = {"task": "automation.rules_tick", "schedule": 60.0}
# A/B tests: variant rollups and each running test's daily look, hourly; budget-shift
# proposals once a week (Monday 06:00 UTC).
CELERY_BEAT_SCHEDULE["experiments-ab-tests-tick"] = {"task": "experiments.ab_tests_tick", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE["experiments-budget-shifts-tick"] = {
    "task": "experiments.budget_shifts_tick",
    "schedule": crontab(minute="0", hour="6", day_of_week="mon"),
}
CELERY_BEAT_SCHEDULE["automation-webhooks-retry-due"] = {
    "task": "automation.webhooks_retry_due",
    "schedule": 60.0,
}
# The network's base currency: dashboards and reports total several currencies in it (at the
# stored FX rates) for staff, and for partners whose account picks no reporting currency.
REPORTING_CURRENCY = env.str("REPORTING_CURRENCY", default="USD").upper()
