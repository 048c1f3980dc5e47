"""The database fallback while Redis is down (store.py) counts per click: a visitor's recent
clicks on the offer (uniqueness, flood) and the offer's capped clicks. Each query must be able
to use an index, or at 100M rows every click scans the table (it fell to ~6 clicks/s at 788k).

The table gets 20,000 clicks the way the fallback bench fills its 100M (bench/fallback.py, 50,000
addresses over 30 days) and is analysed, so the planner weighs the indexes by their real
selectivity, not by whatever statistics earlier tests left on a near-empty table (it once chose the
time index for the visitor query that way). With sequential scans priced out (enable_seqscan off)
PostgreSQL still chooses one only when no index can serve the query."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

import bench.fallback
from tracking.clickpath.links import CapRule
from tracking.clickpath.store import cap_queries, visitor_queries

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plan(qs) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return qs.explain()


def test_the_fallbacks_visitor_and_cap_counts_use_indexes(shoes_link):
    rec = {"offer_id": shoes_link.offer_id, "publisher_id": shoes_link.publisher_id, "ip": "8.8.8.8",
           "user_agent": "ua", "created_at": 1_720_000_000_000}  # fmt: skip
    now = datetime.fromtimestamp(1_720_000_000, tz=UTC)
    bench.fallback._fill(20_000, first=0, offer=shoes_link.offer_id, publisher=shoes_link.publisher_id)
    window, last_hour = visitor_queries(rec, 24, now)
    caps = (CapRule("day", 100, per_publisher=False), CapRule("month", 50, per_publisher=True))
    counted = [qs[:limit] for qs, limit in cap_queries(rec, caps, now)]
    plans = [plan(qs) for qs in (window, last_hour[:30], *counted)]
    for text in plans:
        assert "Seq Scan" not in text, text
    assert "click_offer_ip_time" in plans[0]
    assert "click_offer_ip_time" in plans[1]
    assert "click_offer_time_ok" in plans[2]
    assert "Limit" in plans[2]  # counted up to the cap's limit, never a whole period
