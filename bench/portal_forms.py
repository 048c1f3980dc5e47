"""Render cost of the portals' big forms (issue 16): templates, Python calls and ms per page.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.portal_forms [runs] [--stock]

Like bench/portals.py it seeds the demo network (3 days) into a scratch PostgreSQL database and
requests each page in-process through the whole stack, signed in as the demo's users: the staff
offer edit and new-offer pages, the advertiser's, and the automation rule form. Per page:
templates rendered (django.test.signals.template_rendered), Python function calls of one request
(cProfile; both are independent of the machine's load), then over ``runs`` requests (30 by
default) the median of this process's CPU time (no database, less sensitive to the machine's
load) and the median and p95 of the wall time. ``--stock`` uses Django's own form renderer, for
the "before" column.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from io import StringIO
from typing import Any

from bench.portals import _p95, _setup_django


def _pages() -> list[tuple[str, str, str]]:
    from django.urls import reverse

    from affiliates.demo import ADVERTISER_LOGIN
    from affiliates.models import Offer
    from payouts.automation.models import Rule

    offer = Offer.objects.filter(advertiser__members__username=ADVERTISER_LOGIN[0]).order_by("pk").first()
    rule = Rule.objects.order_by("pk").first()
    if offer is None or rule is None:
        raise RuntimeError("the demo seeds offers and rules: run seed_demo")
    new = reverse("portal:staff-offer-new") + f"?advertiser={offer.advertiser_id}"
    return [
        ("staff", "staff-offer-edit", reverse("portal:staff-offer-edit", args=[offer.pk])),
        ("staff", "staff-offer-new", new),
        ("advertiser", "adv-offer-edit", reverse("portal:adv-offer-edit", args=[offer.pk])),
        ("advertiser", "adv-offer-new", reverse("portal:adv-offer-new")),
        ("staff", "rule-edit", reverse("automation_portal:rule-edit", args=[rule.pk])),
        ("staff", "rule-new", reverse("automation_portal:rule-new")),
    ]


def _templates(get: Callable[[], Any]) -> int:
    from django.test import signals
    from django.test.utils import setup_test_environment, teardown_test_environment

    count = 0

    def rendered(**kwargs: Any) -> None:
        nonlocal count
        count += 1

    setup_test_environment()  # sends template_rendered
    signals.template_rendered.connect(rendered)
    try:
        get()
    finally:
        signals.template_rendered.disconnect(rendered)
        teardown_test_environment()
    return count


def measure(*, runs: int) -> list[dict[str, Any]]:
    from tests.portal_pages import demo_clients

    clients = demo_clients()
    rows = []
    for role, name, url in _pages():
        client = clients[role]
        if client.get(url).status_code != 200:
            raise RuntimeError(f"{url} did not answer 200")
        templates = _templates(lambda: client.get(url))  # noqa: B023 (called at once)
        profile = cProfile.Profile()
        profile.runcall(client.get, url)
        samples, cpu = [], []
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        rows.append(
            {
                "page": name,
                "templates": templates,
                "calls": pstats.Stats(profile).total_calls,  # type: ignore[attr-defined]
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(_p95(samples), 1),
                "cpu_p50_ms": round(statistics.median(cpu), 1),
            }
        )
    return rows


def run(*, runs: int = 30, stock: bool = False) -> list[dict[str, Any]]:
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.forms.renderers import get_default_renderer

    if stock:
        settings.FORM_RENDERER = "django.forms.renderers.DjangoTemplates"
        get_default_renderer.cache_clear()
    if connection.vendor != "postgresql":
        raise SystemExit("bench.portal_forms needs PostgreSQL: set DATABASE_URL.")
    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})["NAME"] = f"{db['NAME']}_bench_forms"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        call_command("seed_demo", "--days", "3", stdout=StringIO())
        return measure(runs=runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--stock"]
    for row in run(runs=int(args[0]) if args else 30, stock="--stock" in sys.argv):
        line = "{page:18} templates={templates:4} calls={calls:7} cpu_p50={cpu_p50_ms:5.1f} ms"
        print((line + " p50={p50_ms:6.1f} ms p95={p95_ms:6.1f} ms").format(**row))
