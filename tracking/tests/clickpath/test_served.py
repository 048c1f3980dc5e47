"""The product as ``make serve`` runs it: granian's RSGI interface on uvloop serving
``config.asgi:application``, against the test database and Redis. Clicks come from the edge,
pages, the API and postbacks from Django through the thread pool."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from conftest import ACME_POSTBACK_TOKEN
from tracking.models import Click, Conversion
from tracking.tests.clickpath.conftest import spare_port

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(params=["rsgi", "asgi"])
def served(request: Any, shoes_link: Any, tmp_path: Path) -> Iterator[str]:
    """The product on a real granian, through RSGI (as make serve runs it) and through ASGI."""
    db = connection.settings_dict
    port = spare_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "s" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "smtp://127.0.0.1:25",  # production refuses to start without one
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",  # so the test database can be dropped afterwards
        "REDIS_URL": settings.REDIS_URL,
        "CLICK_REDIS_PREFIX": settings.CLICK_REDIS_PREFIX,
        "CLICK_SPOOL_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", request.param, "--loop", "uvloop",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-ws", "config.asgi:application"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            if fetch(base + "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_the_served_product_answers_clicks_pages_and_postbacks(served, shoes_link, drain, acme):
    status, headers, _ = fetch(f"{served}/c/{shoes_link.token}?sub1=served")
    assert status == 302
    assert headers["location"].startswith("https://shoes.example.com/?cid=")
    click_id = headers["location"].split("cid=")[1].split("&")[0]
    assert fetch(f"{served}/i/{shoes_link.token}")[1]["content-type"] == "image/gif"
    assert fetch(f"{served}/login/")[0] == 200
    assert fetch(f"{served}/api/v1/offers/")[0] in (401, 403)  # Django's API, through the thread pool
    drain()
    assert Click.objects.get(sub1="served").id.hex == click_id
    status, _, body = fetch(
        f"{served}/postback?token={ACME_POSTBACK_TOKEN}&click_id={click_id}&txn_id=T-1&goal=sale&amount=10"
    )
    assert (status, json.loads(body)["result"]) == (200, "accepted")
    assert Conversion.objects.get(txn_id="T-1").click_id.hex == click_id
