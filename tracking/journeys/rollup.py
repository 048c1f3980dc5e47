"""The daily attribution rollups (tracking_attributionday, tracking_participationday), summed
set-based from tracking_touch, and the cube (tracking_attributioncube) summed from them.

``rollup_refresh`` deletes the given days' rows and sums those days' touches again in one
INSERT ... SELECT ... GROUP BY per table (the same SQL on SQLite and PostgreSQL), then the
cube from the two fresh rollups: once for the publisher alone (from the participation rollup,
whose rows carry the counts) and once per dimension (from the attribution rollup). The journey
job calls it in the transaction that replaces the window's touches, with every day the window
covers, so each day's rollups are always the sums of that day's touches.
"""

from __future__ import annotations

from datetime import date

from django.db import connection

from tracking.models.journeys import MODELS, TouchRole

_KEYS = "day, advertiser_id, offer_id, publisher_id, sub1, source, creative, currency, view_through"
_ATTRIBUTION_COLUMNS = ", ".join(f"{m}, {m}_revenue, {m}_payout" for m in MODELS)
_ATTRIBUTION_SUMS = ", ".join(f"SUM({m}), SUM({m} * revenue), SUM({m} * payout)" for m in MODELS)
ATTRIBUTION_SQL = f"""
INSERT INTO tracking_attributionday ({_KEYS}, {_ATTRIBUTION_COLUMNS})
SELECT {_KEYS}, {_ATTRIBUTION_SUMS}
FROM tracking_touch WHERE day >= %s AND day <= %s
GROUP BY {_KEYS}
"""  # noqa: S608 (names from MODELS; values bound)

_PKEYS = "day, advertiser_id, offer_id, publisher_id, currency, view_through"
_ROLES = ", ".join(
    f"COUNT(DISTINCT CASE WHEN role = '{r.value}' THEN journey_id END)"
    for r in (TouchRole.INTRODUCER, TouchRole.INFLUENCER, TouchRole.CLOSER)
)
PARTICIPATION_SQL = f"""
INSERT INTO tracking_participationday
    ({_PKEYS}, touched, introducer, influencer, closer, {_ATTRIBUTION_COLUMNS})
SELECT {_PKEYS}, COUNT(DISTINCT journey_id), {_ROLES}, {_ATTRIBUTION_SUMS}
FROM tracking_touch WHERE day >= %s AND day <= %s
GROUP BY {_PKEYS}
"""  # noqa: S608


_CUBE_SUMS = ", ".join(f"SUM({m}), SUM({m}_revenue), SUM({m}_payout)" for m in MODELS)
_CUBE_KEYS = "day, advertiser_id, publisher_id, currency, view_through"
CUBE_PUBLISHER_SQL = f"""
INSERT INTO tracking_attributioncube
    ({_CUBE_KEYS}, dimension, value, touched, introducer, influencer, closer, {_ATTRIBUTION_COLUMNS})
SELECT {_CUBE_KEYS}, '', '', SUM(touched), SUM(introducer), SUM(influencer), SUM(closer), {_CUBE_SUMS}
FROM tracking_participationday WHERE day >= %s AND day <= %s
GROUP BY {_CUBE_KEYS}
ORDER BY advertiser_id, day
"""  # noqa: S608 (names from MODELS; values bound)
# One statement per dimension: the column name is the only difference. Rows are written in
# advertiser order, so one advertiser's days lie together on disk (its reports read a few pages,
# not one per row).
DIMENSIONS = ("sub1", "source", "creative")
CUBE_DIMENSION_SQL = {
    dimension: f"""
INSERT INTO tracking_attributioncube
    ({_CUBE_KEYS}, dimension, value, touched, introducer, influencer, closer, {_ATTRIBUTION_COLUMNS})
SELECT {_CUBE_KEYS}, '{dimension}', {dimension}, 0, 0, 0, 0, {_CUBE_SUMS}
FROM tracking_attributionday WHERE day >= %s AND day <= %s
GROUP BY {_CUBE_KEYS}, {dimension}
ORDER BY advertiser_id, day
"""  # noqa: S608
    for dimension in DIMENSIONS
}


def rollup_refresh(*, first_day: date, last_day: date) -> None:
    """Replace the rollups of the days ``first_day`` .. ``last_day`` (inclusive)."""
    days = [first_day, last_day]
    with connection.cursor() as cursor:
        for table, sql in (
            ("tracking_attributionday", ATTRIBUTION_SQL),
            ("tracking_participationday", PARTICIPATION_SQL),
        ):
            cursor.execute(f"DELETE FROM {table} WHERE day >= %s AND day <= %s", days)  # noqa: S608
            cursor.execute(sql, days)
        cursor.execute("DELETE FROM tracking_attributioncube WHERE day >= %s AND day <= %s", days)
        for sql in (CUBE_PUBLISHER_SQL, *CUBE_DIMENSION_SQL.values()):
            cursor.execute(sql, days)
