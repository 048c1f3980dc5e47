"""Production: base plus hardening. Refuses to start without real secrets and hosts."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASE_URL, EMAIL_BACKEND, REDIS_URL, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("embedded-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set")
if not DATABASE_URL or not REDIS_URL:
    raise ImproperlyConfigured("production needs DATABASE_URL and REDIS_URL")
# Backends that send nothing: password-reset links would end in the log, not in users' inboxes.
NON_SENDING_EMAIL_BACKENDS = {
    f"django.core.mail.backends.{name}.EmailBackend" for name in ("console", "locmem", "dummy", "filebased")
}
if EMAIL_BACKEND in NON_SENDING_EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        "production needs a real e-mail backend: set EMAIL_URL (e.g. smtp+tls://user:password@host:587) "
        f"or EMAIL_BACKEND to one that sends mail (not {EMAIL_BACKEND})"
    )

# TLS is usually terminated by a load balancer that sets X-Forwarded-Proto: list it in
# TRUSTED_PROXIES. Its header is believed from there only (affiliates/core/proxies.py's
# middleware), so SECURE_PROXY_SSL_HEADER, which believes any client, stays unset.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The load balancer's health check and tracking links may arrive over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^c/", r"^i/", r"^p/", r"^postback"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
