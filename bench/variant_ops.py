"""Instruction counts of the A/B variant pick: Python bytecode operations and calls per click
through ``handler.click_plan`` + ``click_answer``, for a link without a test and one with two
variants. Load-independent (unlike timings), so it can run on a busy machine:

    PYTHONPATH=. .venv/bin/python bench/variant_ops.py plain
    PYTHONPATH=. .venv/bin/python bench/variant_ops.py ab

Half the clicks are new visitors, half returning ones (the first-click cookie set). The C work
the pick adds (two blake2b digests and two logarithms for two variants) is not in the count.
Not part of ``make bench``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)

import django

django.setup()

from tracking.clickpath import handler  # noqa: E402
from tracking.clickpath.snapshots import Link, VariantEntry  # noqa: E402

CLICKS = 200


def _link(mode: str) -> Link:
    variants = (
        (
            VariantEntry(1, 100, "https://shoes.example.com/a?cid={click_id}"),
            VariantEntry(2, 100, "https://shoes.example.com/b?cid={click_id}&s1={sub1}"),
        )
        if mode == "ab"
        else ()
    )
    return Link(
        token="tok12345", offer_id=7, publisher_id=9, access_approved=True, publisher_active=True,
        offer_status="active", advertiser_active=True, starts_at=None, ends_at=None,
        landing_url="https://shoes.example.com/?cid={click_id}&s1={sub1}", attribution_window_days=30,
        deep_links_allowed=False, allowed_domains=(), target_countries=(), target_devices=(), target_os=(),
        unique_click_window_hours=24, fallback_chain=(), fallback_url="", caps=(), variants=variants,
    )  # fmt: skip


def main(mode: str) -> None:
    link = _link(mode)
    environ = {
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": "sub1=fb-7&source=abc",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_USER_AGENT": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36",
    }
    warm = handler.click_plan(environ, link)  # per-process caches are not a click's cost
    assert warm is not None
    handler.click_answer(warm, "")
    counts = {"opcode": 0, "call": 0}

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event in counts:
            counts[event] += 1
        return tracer

    sys.settrace(tracer)
    for i in range(CLICKS):
        environ["HTTP_COOKIE"] = "" if i % 2 else "afff_7=0192f0c1aa"
        plan = handler.click_plan(environ, link)
        assert plan is not None
        handler.click_answer(plan, "")
    sys.settrace(None)
    print(
        f"{mode}: {counts['opcode'] / CLICKS:.1f} bytecode ops, {counts['call'] / CLICKS:.1f} calls per click"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "plain")
