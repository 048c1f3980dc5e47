"""The Content-Security-Policy (django-csp): sent on the pages, no inline script allowed, and no
template relies on one; the security headers sent before are still sent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from affiliates.tests.signin import sign_in

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted(
    p for p in ROOT.glob("*/templates/**/*.html") if ".venv" not in p.parts and "var" not in p.parts
)


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.fixture
def portal_page(pia):
    client = Client()
    sign_in(client, pia)
    response = client.get("/publisher/")
    assert response.status_code == 200
    return response


def test_a_portal_page_sends_a_policy_with_no_inline_script(portal_page):
    policy = directives(portal_page["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in portal_page["Content-Security-Policy"].split("style-src-attr")[0]


def test_the_other_security_headers_are_still_sent(portal_page):
    assert portal_page["X-Frame-Options"] == "DENY"
    assert portal_page["X-Content-Type-Options"] == "nosniff"
    assert portal_page["Referrer-Policy"] == "same-origin"
    assert portal_page["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_login_page_and_the_api_docs_send_it_too(nadia):
    assert "script-src 'self'" in Client().get("/login/")["Content-Security-Policy"]
    client = Client()
    sign_in(client, nadia)
    docs = client.get("/api/docs/")
    assert "script-src 'self'" in docs["Content-Security-Policy"]
    html = docs.content.decode()
    assert "<style" not in html
    # Swagger UI's start-up script is a file of its own (?script), not inline.
    assert all(" src=" in tag for tag in re.findall(r"<script[^>]*>", html)), html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_or_event_handlers(template):
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text)
    assert not EVENT_HANDLER.search(text)


@pytest.mark.parametrize(
    "template",
    # E-mail bodies are not pages: no CSP reaches a mail client, and inline styles are how e-mail
    # is styled (mail clients drop <style> and external sheets).
    [
        p
        for p in TEMPLATES
        if p.relative_to(ROOT).parts[0] in {"affiliates", "tracking"} and "notifications" not in p.parts
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_the_portal_templates_set_no_style_attributes(template):
    assert not STYLE_ATTRIBUTE.search(template.read_text())
