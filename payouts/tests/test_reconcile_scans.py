"""What a reconciliation batch costs must not grow with the tables it writes to.

Its reads, the triggers on the tables it writes and the commission events after it look rows up
by key; none reads a whole table. The planner chose such scans (hashing the commission,
conversion or transaction table) while the tables had no statistics, as in a fresh database,
and a batch then paid for every row ever reconciled. On PostgreSQL, counted by the statistics
views of the open transaction.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from affiliates.models import Offer, Publisher
from payouts import reconcile
from payouts.tests.factories_callbacks import CallbackEndpointFactory

pytestmark = pytest.mark.django_db

BIG_TABLES = ("tracking_conversion", "payouts_commission", "payouts_transaction", "payouts_entry")


def _backlog(offer: Offer, publisher: Publisher, n: int) -> None:
    """n conversions in one INSERT; tracking's trigger queues them, as it does a postback's."""
    goal = offer.goals.get(code="lead")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tracking_conversion (
                created_at, source, offer_id, publisher_id, goal_id, txn_id, coupon, status, reason,
                amount, currency, ip, user_agent, country, sub1, sub2, sub3, sub4, sub5, source_id,
                fraud_flags, held_for_review, trace)
            SELECT now() - s * interval '1 minute', 'postback', %s, %s, %s, '', '', 'pending', '',
                   NULL, '', '', '', 'FR', '', '', '', '', '', '', '[]'::jsonb, false, '{}'::jsonb
            FROM generate_series(1, %s) AS s
            """,
            [offer.pk, publisher.pk, goal.pk, n],
        )


def _seq_scans() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [list(BIG_TABLES)],
        )
        return dict(cursor.fetchall())


@pytest.mark.postgres
def test_a_batch_reads_none_of_the_tables_it_grows_whole(
    shoes: Offer, pixelpush: Publisher, rival: Publisher, django_capture_on_commit_callbacks: Any
) -> None:
    CallbackEndpointFactory(publisher=rival)  # someone has a postback: the events load commissions
    _backlog(shoes, pixelpush, 5000)
    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile.conversions_reconcile(batch_size=2500).created == 5000
    _backlog(shoes, pixelpush, 80)
    _backlog(shoes, rival, 20)
    before = _seq_scans()

    with django_capture_on_commit_callbacks(execute=True) as events:
        result = reconcile.conversions_reconcile_batch(after_id=0, until_id=None, limit=1000)

    assert result.created == 100
    assert events, "the commission events ran"
    after = _seq_scans()
    whole = {table: after[table] - before[table] for table in BIG_TABLES if after[table] > before[table]}
    # The batch's own read of its 100 conversions may be one pass over these 5,100 (the planner
    # rightly prefers it at this size; against 300,000 it reads the primary key). Nothing else
    # may read a table whole: not the commission lookups, nor the triggers, nor the events.
    assert whole in ({}, {"tracking_conversion": 1})
