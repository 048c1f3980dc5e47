"""The spool: the last durable place for a click when Redis and the database are both down.

Each process appends JSON lines to its own file (``clicks-<pid>.jsonl``) under CLICK_SPOOL_DIR
and fsyncs before the visitor gets the redirect. Replay (``writer.spool_replay``, run by
``consume_clicks``, or ``consume_clicks --spool-only --once``) takes a file by renaming it, waits
for the writer's lock so no append is half done, writes its records (idempotent on id) and
deletes it. This module only handles files: it imports nothing of the click path.

A writer that opened the file just before the rename would append to the renamed file after
it was read; so the writer, once it holds the lock, checks that the path still names the file
it opened and reopens when it does not.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)
_lock = threading.Lock()


def spool_dir() -> Path:
    path = Path(settings.CLICK_SPOOL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _open_locked(path: Path) -> int:
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # renamed away by a replay between our open and our lock


def append(record: dict[str, Any]) -> None:
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    path = spool_dir() / f"clicks-{os.getpid()}.jsonl"
    with _lock:
        fd = _open_locked(path)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the flock


def _read(path: Path) -> list[dict[str, Any]]:
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer mid-append finishes first
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read()
    finally:
        os.close(fd)
    records = []
    for n, line in enumerate(raw.splitlines(), 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            # Only a line cut by a crash mid-write can be malformed; it was never acknowledged
            # with a redirect (fsync comes first), so nothing promised is lost.
            log.warning("spool %s line %d is not JSON; skipped", path.name, n)
    return records


def spool_batches() -> Iterator[list[dict[str, Any]]]:
    """The spooled records, one file at a time (``writer.spool_replay`` writes them). A file is
    deleted only when the caller asks for the next batch, i.e. after its write succeeded; if the
    write raises, the taken file stays and the next replay writes it again (idempotent on id)."""
    directory = spool_dir()
    for path in sorted(directory.glob("clicks-*.jsonl")):
        taken = path.with_name(f"{path.name}.replay-{os.getpid()}")
        try:
            path.rename(taken)
        except FileNotFoundError:
            continue
        yield _read(taken)
        taken.unlink()
    # Files a crashed replay had taken: their records may be written already (harmless).
    for taken in sorted(directory.glob("clicks-*.jsonl.replay-*")):
        pid = int(taken.name.rsplit("-", 1)[1])
        if pid != os.getpid() and _alive(pid):
            continue
        yield _read(taken)
        taken.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pending() -> int:
    return sum(1 for _ in spool_dir().glob("clicks-*.jsonl*"))
