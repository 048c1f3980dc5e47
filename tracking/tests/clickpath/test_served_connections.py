"""The edge's HTTP handling under ``make serve`` itself (issue 13): Django's answers end (the
trailing-slash 301s, streamed CSV downloads), and clicks keep being answered while thousands of
idle connections are open, which are closed after the recipe's header timeout.

Each test starts the real recipe (granian, RSGI, uvloop, the Makefile's connection settings) on a
spare loopback port against the test database and Redis."""

from __future__ import annotations

import http.client
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.portal_data import conversion_make
from tracking.tests.clickpath.conftest import spare_port
from tracking.tests.factories import click_make

ROOT = Path(__file__).resolve().parents[3]
SECRET_KEY = "edge-" + "s" * 60
HEADER_TIMEOUT_S = 5  # the Makefile's WEB_HEADER_TIMEOUT_MS
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


Answer = tuple[int, dict[str, str], bytes]


def _get(port: int, path: str, *, method: str = "GET", cookie: str = "") -> Answer:
    """One request on a fresh keep-alive connection; the body must end within 10 s."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """``make serve`` (one worker, loopback) with the test database and Redis; yields its port."""
    db = connection.settings_dict
    port = spare_port()
    venv = Path(sys.executable).parents[1]
    env = {
        **os.environ,
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "smtp://127.0.0.1:25",  # production refuses to start without one
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",  # so the test database can be dropped afterwards
        "REDIS_URL": settings.REDIS_URL,
        "CLICK_REDIS_PREFIX": settings.CLICK_REDIS_PREFIX,
        "CLICK_SPOOL_DIR": str(tmp_path / "spool"),
        "VAR_DIR": str(tmp_path / "var"),
        "WEB_WORKERS": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = ["make", "--no-print-directory", "serve", f"PY={sys.executable}", f"VENV={venv}",
               f"PORT={port}", "SERVE_HOST=127.0.0.1"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if _get(port, "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("make serve did not start")
    try:
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_trailing_slash_redirects_finish_their_body(served):
    for path, location in (
        ("/login", "/login/"),
        ("/api/v1/offers", "/api/v1/offers/"),
        ("/publisher/conversions?format=csv", "/publisher/conversions/?format=csv"),
    ):
        status, headers, body = _get(served, path)  # hung after the headers before the fix
        assert (status, headers["location"]) == (301, location)
        assert headers.get("content-length") == str(len(body))
    status, headers, body = _get(served, "/login", method="HEAD")
    assert (status, body, headers["location"]) == (301, b"", "/login/")
    assert _get(served, "/login/")[0] == 200


def test_a_streamed_csv_download_ends_with_every_row(served, pia, shoes, pixelpush, settings):
    rows = 250  # a stream of many chunks (one a line)
    for n in range(rows):
        conversion_make(click=click_make(shoes, pixelpush), txn_id=f"EDGE-{n}", with_commission=False)
    settings.SECRET_KEY = SECRET_KEY  # the server checks the session's hash with its own key
    client = Client()
    client.force_login(pia)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    started = time.monotonic()
    status, headers, body = _get(served, "/publisher/conversions/?format=csv", cookie=cookie)
    assert status == 200
    assert headers["content-type"].startswith("text/csv")
    assert "content-length" not in headers  # streamed: chunked, ended by its last chunk
    lines = body.decode().splitlines()
    assert len(lines) == rows + 1  # the header, then one line per conversion
    assert sum("EDGE-" in line for line in lines) == rows
    assert time.monotonic() - started < 10


def _click(port: int, token: str) -> tuple[int, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET /c/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        head = sock.recv(64)
    return int(head.split()[1]), time.monotonic() - started


def test_clicks_are_answered_while_thousands_of_idle_connections_are_open(served, shoes_link):
    idle = 2_000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < idle + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, idle + 1_000), hard))
    assert _click(served, shoes_link.token)[0] == 302  # the link is cached before the flood
    sockets = [socket.create_connection(("127.0.0.1", served), timeout=5) for _ in range(idle)]
    # Half never send a byte, half send half a request head and stall (slow clients).
    for sock in sockets[::2]:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    opened = time.monotonic()
    try:
        time.sleep(0.5)
        answers = [_click(served, shoes_link.token) for _ in range(5)]  # timed out before the fix
        assert [status for status, _ in answers] == [302] * 5
        assert max(seconds for _, seconds in answers) < 1.0
        with selectors.DefaultSelector() as selector:
            for sock in sockets:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            closed = 0
            while closed < idle and time.monotonic() - opened < HEADER_TIMEOUT_S + 10:
                for key, _ in selector.select(timeout=1):
                    selector.unregister(key.fileobj)
                    closed += 1
        waited = time.monotonic() - opened
        assert closed == idle  # before the fix none was closed within 40 s
        assert HEADER_TIMEOUT_S - 1 < waited < HEADER_TIMEOUT_S + 5
        assert _click(served, shoes_link.token)[0] == 302
    finally:
        for sock in sockets:
            sock.close()


def test_the_reverse_proxy_reuses_connections_only_while_granian_keeps_them():
    """config/deploy/nginx.conf drops an idle upstream connection before granian would close it
    (WEB_HEADER_TIMEOUT_MS), so a reused connection never meets granian's close mid-request."""
    conf = (ROOT / "config/deploy/nginx.conf").read_text()
    makefile = (ROOT / "Makefile").read_text()
    upstream = conf.split("upstream affnet_edge {", 1)[1].split("}", 1)[0]
    keepalive_s = int(upstream.split("keepalive_timeout ", 1)[1].split("s;", 1)[0])
    header_timeout_ms = int(makefile.split("WEB_HEADER_TIMEOUT_MS ?= ", 1)[1].split()[0])
    assert header_timeout_ms == HEADER_TIMEOUT_S * 1000
    assert keepalive_s * 1000 < header_timeout_ms
    assert "proxy_http_version 1.1;" in conf  # granian serves HTTP/1 only (make serve's --http 1)
    assert "proxy_buffering off;" in conf  # streamed CSV downloads pass through as written
