"""Production settings: `check --deploy` is clean, and missing secrets stop the start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "p" * 20 + "-production-secret-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "affiliates.example.com",
    # check --deploy does not connect; the URLs only have to be well-formed.
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://affnet@127.0.0.1:5432/affnet"),
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PROD_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_check_deploy_reports_no_issues() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY must be set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set"),
        ("DATABASE_URL", "needs DATABASE_URL and REDIS_URL"),
        ("EMAIL_URL", "production needs a real e-mail backend"),
    ],
)
def test_production_refuses_to_start_without(missing: str, message: str) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.slow
def test_production_refuses_the_embedded_default_key() -> None:
    result = _manage("check", **{**PROD_ENV, "SECRET_KEY": "embedded-insecure-key-change-me-" + "x" * 40})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


PROBE_HTTPS = """
from django.test import Client
client = Client(REMOTE_ADDR="{peer}", HTTP_HOST="affiliates.example.com")
response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="192.0.2.1")
secure = response.wsgi_request.is_secure() if response.status_code == 200 else ""
print("STATUS", response.status_code, secure)
"""


@pytest.mark.slow
def test_production_believes_x_forwarded_proto_only_from_trusted_proxies() -> None:
    spoofed = _manage("shell", "-c", PROBE_HTTPS.format(peer="198.51.100.9"), **PROD_ENV)
    assert "STATUS 301" in spoofed.stdout, spoofed.stdout + spoofed.stderr
    env = {**PROD_ENV, "TRUSTED_PROXIES": "10.0.0.0/8"}
    proxied = _manage("shell", "-c", PROBE_HTTPS.format(peer="10.0.0.5"), **env)
    assert "STATUS 200 True" in proxied.stdout, proxied.stdout + proxied.stderr


@pytest.mark.slow
def test_production_refuses_a_malformed_trusted_proxy() -> None:
    result = _manage("check", **{**PROD_ENV, "TRUSTED_PROXIES": "10.0.0.0/33"})
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["console", "locmem", "filebased", "dummy"])
def test_production_refuses_an_e_mail_backend_that_sends_nothing(backend: str) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != "EMAIL_URL"}
    result = _manage("check", **env, EMAIL_BACKEND=f"django.core.mail.backends.{backend}.EmailBackend")
    assert result.returncode != 0
    assert "real e-mail backend" in result.stderr


PROBE_EMAIL = """
from django.conf import settings
print("EMAIL", settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS)
"""


@pytest.mark.slow
def test_production_sends_through_the_smtp_server_of_email_url() -> None:
    result = _manage("shell", "-c", PROBE_EMAIL, **PROD_ENV)
    assert "EMAIL django.core.mail.backends.smtp.EmailBackend smtp.example.com 587 True" in result.stdout, (
        result.stdout + result.stderr
    )
