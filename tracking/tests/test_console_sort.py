"""The shared list helper sorts by the declared column, saying where NULLs go only where a
column can hold them, so a date column's index serves a list's newest-first pages."""

from __future__ import annotations

import pytest
from django.db import connection

from affiliates.portal.tables import table_query
from affiliates.roles import actor_for
from tracking.portal.console import CONVERSIONS, conversions_console
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


def test_a_sort_on_a_column_without_nulls_can_read_its_index_in_order(nadia):
    """NULLS LAST only where NULLs can be: on PostgreSQL "created_at DESC NULLS LAST" does not
    match created_at's index, and every page of the conversion list sorted the whole table."""
    actor = actor_for(nadia)
    newest = str(
        table_query(conversions_console(actor), CONVERSIONS, {"sort": "-created"}, actor=actor).query
    )
    assert '"created_at" DESC' in newest
    assert "NULLS LAST" not in newest.split("ORDER BY")[1]
    # The goal is optional: its rows without one still sort last, either way.
    by_goal = str(table_query(conversions_console(actor), CONVERSIONS, {"sort": "goal"}, actor=actor).query)
    assert "NULLS LAST" in by_goal.split("ORDER BY")[1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_postgresql_reads_the_newest_conversions_from_the_date_index(nadia, shoes_link):
    actor = actor_for(nadia)
    click_make(offer=shoes_link.offer, publisher=shoes_link.publisher)
    qs = table_query(conversions_console(actor), CONVERSIONS, {"sort": "-created"}, actor=actor)
    sql, params = qs[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan Backward" in plan, plan
