"""Work per reconciled commission, counted rather than timed: the CPU time this process and its
PostgreSQL backend spend, the statements a batch sends, the WAL it writes. On a shared 2-core
machine a wall-clock rate says more about the neighbours than about the code; the CPU time of
the two processes doing the work (``time.process_time`` here, ``/proc/<backend>/schedstat``
there) and the statement and WAL counts hardly move with the load.

Against the database in DATABASE_URL (migrated; a scratch one: it adds bench/reconcile.py's
network, conversions and commissions, which stay). The backlog is walked in the id ranges the
bench's worker gets, batch by batch, in this one process::

    python -m bench.reconcile_profile --conversions 300000           # seed, reconcile, report
    python -m bench.reconcile_profile --conversions 5000 --explain   # + auto_explain of every
                                                                     #   statement, triggers' too
    valgrind --tool=callgrind --instr-atstart=no .venv/bin/python -m bench.reconcile_profile \\
        --conversions 10000 --callgrind  # instructions of the Python side, batches only

For an A/B of two checkouts (``git archive <rev> | tar -x -C /tmp/a`` gives the other one; the
same virtualenv serves both), alternate runs of each several times, each on a fresh copy
(``createdb -T``) of a database migrated by that checkout: the bench's own scratch database
starts empty too, and how big the tables already are is part of what a batch costs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()


def _backend_ns(pid: int) -> int:
    """CPU time the backend has used so far (the scheduler's count, in ns)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


class _Statements:
    """Counts and times every statement and COPY sent on any psycopg cursor (Django's too)."""

    def __init__(self) -> None:
        import psycopg

        self.count: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.backend: Counter[str] = Counter()  # the backend's CPU ns during each
        self.pid = 0
        self._cls = psycopg.Cursor
        self._execute, self._copy = psycopg.Cursor.execute, psycopg.Cursor.copy
        self._commit = psycopg.Connection.commit
        stats = self

        @contextmanager
        def timed(key: str) -> Iterator[None]:
            start, ns = time.perf_counter(), _backend_ns(stats.pid) if stats.pid else 0
            try:
                yield
            finally:
                stats.count[key] += 1
                stats.seconds[key] += time.perf_counter() - start
                if stats.pid:
                    stats.backend[key] += _backend_ns(stats.pid) - ns

        def commit(conn: Any) -> None:
            with timed("COMMIT"):
                stats._commit(conn)

        def execute(cursor: Any, query: Any, params: Any = None, **kw: Any) -> Any:
            text = query if isinstance(query, str) else str(query)
            with timed(" ".join(text.split())[:90]):
                return stats._execute(cursor, query, params, **kw)

        @contextmanager
        def copy(cursor: Any, statement: Any, params: Any = None, **kw: Any) -> Iterator[Any]:
            with timed(str(statement)[:90]), stats._copy(cursor, statement, params, **kw) as c:
                yield c

        self._patched = (execute, copy, commit)

    def __enter__(self) -> _Statements:
        import psycopg

        self._cls.execute, self._cls.copy, psycopg.Connection.commit = self._patched  # type: ignore[assignment,method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        import psycopg

        self._cls.execute, self._cls.copy = self._execute, self._copy  # type: ignore[method-assign]
        psycopg.Connection.commit = self._commit  # type: ignore[method-assign]


class _Collections:
    """The cyclic garbage collector's passes during the batches, and the CPU time they took."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
        else:
            self.count[info["generation"]] += 1
            self.seconds += time.process_time() - self._start


def _callgrind(on: bool) -> None:
    command = ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())]
    control = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while control.poll() is None:  # the command is handled while this process runs code
        sum(range(100))


def _seed(conversions: int) -> None:
    """The bench's network (once) and backlog. As in the bench, only tracking_conversion is
    analyzed: the queue and the tables reconciliation writes have no statistics."""
    from django.db import connection

    from affiliates.models import Advertiser
    from bench.reconcile import _seed_conversions, _seed_network

    if not Advertiser.objects.filter(name="Bench").exists():
        _seed_network()
    with connection.cursor() as cursor:  # nothing queued from an earlier run is left over
        cursor.execute("SELECT count(*) FROM tracking_conversion_unreconciled")
        if cursor.fetchone()[0]:
            raise SystemExit("the reconciliation queue is not empty: reconcile it first")
    _seed_conversions(conversions)


def _wal(cursor: Any) -> int:
    cursor.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
    return int(cursor.fetchone()[0])


def run(*, conversions: int, batch: int, id_range: int, callgrind: bool, explain: bool) -> dict[str, Any]:
    _setup()
    from django.db import connection

    from payouts.reconcile import conversions_reconcile_batch
    from payouts.tasks import conversion_ranges

    _seed(conversions)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        notices: list[str] = []
        if explain:
            _auto_explain(cursor, notices)
        wal0 = _wal(cursor)
    created = batches = 0
    cpu = backend = wall = 0.0
    collections = _Collections()
    gc.callbacks.append(collections)
    with _Statements() as stats:
        stats.pid = pid
        # The id ranges the bench's worker gets, each walked as payouts.reconcile does.
        for after_id, until_id in conversion_ranges(size=id_range):
            last = after_id
            while True:
                if callgrind:
                    _callgrind(True)
                t0, c0, b0 = time.perf_counter(), time.process_time(), _backend_ns(pid)
                result = conversions_reconcile_batch(after_id=last, until_id=until_id, limit=batch)
                wall += time.perf_counter() - t0
                cpu += time.process_time() - c0
                backend += (_backend_ns(pid) - b0) / 1e9
                if callgrind:
                    _callgrind(False)
                created += result.created
                batches += 1
                last = max(last, result.last_id)
                if result.claimed < batch:
                    break
    gc.callbacks.remove(collections)
    with connection.cursor() as cursor:
        wal = _wal(cursor) - wal0
    per = 1e6 / max(created, 1)
    out = {
        "conversions": conversions,
        "created": created,
        "batches": batches,  # calls, the last of each id range claiming nothing
        "us_per_commission": {
            "python_cpu": round(cpu * per, 1),
            "backend_cpu": round(backend * per, 1),
            "both": round((cpu + backend) * per, 1),
            "wall": round(wall * per, 1),
        },
        "wal_bytes_per_commission": round(wal / max(created, 1)),
        "gc_collections_by_generation": collections.count,
        "gc_us_per_commission": round(collections.seconds * per, 1),
        "statements_per_batch": round(sum(stats.count.values()) / max(batches, 1), 1),
        "statements": {
            k: {
                "n": n,
                "ms_per_batch": round(1000 * stats.seconds[k] / max(batches, 1), 1),
                "backend_us_per_commission": round(stats.backend[k] / 1000 / max(created, 1), 2),
            }
            for k, n in stats.count.most_common()
        },
    }
    if notices:
        out["explain"] = notices
    return out


def _auto_explain(cursor: Any, notices: list[str]) -> None:
    """Plans with actual rows, times and buffers of every statement the backend runs, triggers'
    queries included, sent back as notices (auto_explain, loaded for this session only)."""
    from django.db import connection

    for sql in (
        "LOAD 'auto_explain'",
        "SET auto_explain.log_min_duration = 0",
        "SET auto_explain.log_analyze = on",
        "SET auto_explain.log_buffers = on",
        "SET auto_explain.log_nested_statements = on",
        "SET auto_explain.log_level = notice",
    ):
        cursor.execute(sql)
    connection.connection.add_notice_handler(lambda d: notices.append(d.message_primary or ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversions", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=0, help="default: payouts.reconcile.BATCH_SIZE")
    parser.add_argument("--range", type=int, default=10_000, help="ids per task, as bench/reconcile.py")
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    _setup()
    from payouts.reconcile import BATCH_SIZE

    out = run(
        conversions=args.conversions,
        batch=args.batch or BATCH_SIZE,
        id_range=args.range,
        callgrind=args.callgrind,
        explain=args.explain,
    )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
