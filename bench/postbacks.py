"""Postbacks/s: accepted conversions with attribution and dedupe on, against granian + PostgreSQL.

Run: ``python -m bench.postbacks`` (or through ``python -m bench`` when the runner imports it),
with DATABASE_URL and REDIS_URL set. BENCH_SECONDS (default 10), BENCH_CONNECTIONS (64),
WEB_WORKERS (nproc) tune it. It builds a throw-away offer with 60,000 clicks, serves the
production app on a spare port exactly as ``make serve`` does (granian's RSGI interface on
uvloop, config.asgi:application), drives it with wrk (each request a fresh txn_id on one of the
clicks, so every one is a real insert through the unique indexes), and counts what PostgreSQL
holds afterwards: the rate is conversions stored, not answers received.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# More clicks than a run can convert: at 60,000 a 10 s run at 6,000/s came within 190 requests
# of using them all, and a run that uses them all measures the fixture, not the server.
CLICKS = 150_000
# Issue 10: accepted postbacks per second on the bench machine (issue 3 had asked for 3,000).
TARGET_PER_S = 5_500
# wrk threads. Each thread takes every THREADS-th click from its own offset, so no click gets a
# second conversion during a run (a goal that allows one per click rejects the second one:
# that is a rare path, not the one this measures) until CLICKS requests have been made.
THREADS = 2

LUA = """
local ids = {}
for line in io.lines("%(ids_file)s") do ids[#ids + 1] = line end
local n = #ids
local counter = 0
local started = 0
-- setup runs in wrk's bootstrap state; "tid" becomes a global of each thread's own state.
setup = function(thread)
  started = started + 1
  thread:set("tid", started)
end
request = function()
  counter = counter + 1
  local click = ids[((counter - 1) * %(threads)d + tid - 1) %% n + 1]
  local path = "/postback?token=%(token)s&goal=lead&click_id=" .. click .. "&txn_id=" .. tid .. "-" .. counter
  return wrk.format("GET", path)
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup() -> tuple[int, str, list[str]]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from affiliates.models import Advertiser, Goal, Offer, OfferAccess, Publisher, token_digest
    from tracking.ids import new_click_id
    from tracking.models import Click

    call_command("migrate", verbosity=0, interactive=False)
    token = secrets.token_urlsafe(24)
    adv = Advertiser.objects.create(
        name="bench advertiser", postback_token_digest=token_digest(token), postback_token_hint=token[:6]
    )
    offer = Offer.objects.create(
        advertiser=adv, name="bench offer", landing_url="https://example.com/?c={click_id}"
    )
    Goal.objects.create(
        offer=offer,
        code="lead",
        name="Lead",
        payout_type="cpl",
        payout=Decimal("1"),
        revenue=Decimal("2"),
        is_default=True,
    )
    pub = Publisher.objects.create(name="bench publisher", email="bench@example.com", status="active")
    OfferAccess.objects.create(offer=offer, publisher=pub, status="approved")
    now_ms = int(timezone.now().timestamp() * 1000) - 60_000
    clicks = [
        Click(
            id=new_click_id(now_ms + i),
            offer=offer,
            publisher=pub,
            created_at=timezone.now(),
            ip="81.2.69.160",
            user_agent="Mozilla/5.0 (Windows NT 10.0) Chrome/124.0",
            country="GB",
        )
        for i in range(CLICKS)
    ]
    Click.objects.bulk_create(clicks, batch_size=5000)
    return offer.id, token, [c.id.hex for c in clicks]


def _wait_for(port: int, workers: int, timeout: float = 90) -> None:
    """Until the workers answer HTTP (the port opens long before each worker has imported
    Django and the visitor databases), then a moment for the last ones."""
    from bench.harness import _answers

    deadline = time.monotonic() + timeout
    answered = 0
    while time.monotonic() < deadline and answered < 4 * workers:
        answered += _answers(f"http://127.0.0.1:{port}/healthz")
        if not answered:
            time.sleep(0.2)
    if not answered:
        raise RuntimeError("granian did not start")
    time.sleep(1.0)


def run() -> dict[str, Any]:
    seconds = int(os.environ.get("BENCH_SECONDS", "10"))
    connections = int(os.environ.get("BENCH_CONNECTIONS", "64"))
    workers = os.environ.get("WEB_WORKERS", str(os.cpu_count() or 2))
    offer_id, token, ids = _setup()
    from tracking.models import Conversion

    port = _free_port()
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_URL": "smtp://127.0.0.1:25",  # production refuses to start without one
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "rsgi",
            "--loop",
            "uvloop",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            workers,
            "config.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(port, int(workers))
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as ids_file:
            ids_file.write("\n".join(ids))
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(LUA % {"ids_file": ids_file.name, "token": token, "threads": THREADS})
        out = subprocess.run(
            [
                "wrk",
                f"-t{THREADS}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0 or "requests in" not in out.stdout:
            raise RuntimeError(f"wrk failed: {out.stderr or out.stdout}")
        out = out.stdout  # type: ignore[assignment]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if " 0 requests in" in out:
        raise RuntimeError("no request completed; server log:\n" + Path(log.name).read_text()[-3000:])
    completed = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    accepted = Conversion.objects.filter(offer_id=offer_id, status="pending").count()
    if accepted >= CLICKS:
        raise RuntimeError(f"all {CLICKS} clicks converted: the rate is the fixture's; raise CLICKS")
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    return {
        "postbacks_per_s": round(accepted / seconds, 1),
        "requests_completed": completed,
        "accepted_in_postgres": accepted,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "p50": p50.group(1) if p50 else None,
        "p99": p99.group(1) if p99 else None,
        "seconds": seconds,
        "connections": connections,
        "workers": workers,
        "target_per_s": TARGET_PER_S,
        "clicks": CLICKS,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
