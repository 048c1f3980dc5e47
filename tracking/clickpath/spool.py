"""The spool: the last durable place for a click when Redis and the database are both down.

Each process appends framed lines to its own file (``clicks-<pid>.spool``) under
CLICK_SPOOL_DIR and fsyncs before the visitor gets the redirect. A frame is
``#<length>:<crc32>:<JSON>\\n``: a line cut by a crash or a full disk fails its length or
checksum and is detected, never read as a record and never glued to the next one (an append
to a file whose last byte is not a newline starts with one). A write that fails or comes up
short raises ``SpoolUnavailable`` after cutting the file back to where it was: the caller
must then not promise the click (edge.py answers 503).

Replay (``writer.spool_replay``, run by ``consume_clicks`` every few seconds, or
``consume_clicks --spool-only --once``) takes a file by renaming it to a name no other rename
can produce (``taken-<name>.<pid>-<ns>.replay``: a fixed name let a second take overwrite the
first), waits for the writer's lock so no append is half done, writes its records (idempotent
on id) and deletes it only after that write committed. A replay killed at any point leaves its
taken files, which the next replay (any process, once this one is dead) writes again: nothing
is lost, and ON CONFLICT (id) DO NOTHING makes the second write of a record a no-op.

A frame that fails its check is copied to ``corrupt-<name>.<ns>.txt`` beside the spool
(fsynced) and logged as an error: a human decides, nothing is dropped silently.

A writer that opened the file just before the rename would append to the renamed file after
it was read; so the writer, once it holds the lock, checks that the path still names the file
it opened and reopens when it does not. This module only handles files: it imports nothing of
the click path.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)
_lock = threading.Lock()

LIVE_GLOBS = ("clicks-*.spool", "clicks-*.jsonl")  # .jsonl: unframed files of older versions
TAKEN_GLOB = "taken-*.replay"


class SpoolUnavailable(OSError):
    """The record could not be made durable in the spool (disk full, read-only, ...)."""


def spool_dir() -> Path:
    path = Path(settings.CLICK_SPOOL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def frame(record: dict[str, Any]) -> bytes:
    payload = json.dumps(record, separators=(",", ":")).encode()  # JSON escapes newlines
    return b"#%d:%08x:%s\n" % (len(payload), zlib.crc32(payload), payload)


def unframe(line: bytes) -> dict[str, Any] | None:
    """The record of one line (without its newline); None when the line is cut or damaged."""
    try:
        if line.startswith(b"{"):  # an unframed line of an older version: JSON or nothing
            rec: dict[str, Any] = json.loads(line)
            return rec
        length, crc, payload = line[1:].split(b":", 2)
        if line[:1] != b"#" or int(length) != len(payload) or int(crc, 16) != zlib.crc32(payload):
            return None
        rec = json.loads(payload)
        return rec
    except ValueError:
        return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_locked(path: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)  # RDWR: the last byte is read
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # renamed away by a replay between our open and our lock


def _append_locked(fd: int, data: bytes) -> int:
    """Append ``data`` and fsync; returns the file's size before (0: a new file)."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        data = b"\n" + data  # a cut line before us stays a line of its own
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"short write: {written} of {len(data)} bytes (disk full?)")
        os.fsync(fd)
    except OSError:
        # Leave no half line behind: the next append (and the replay) would have to step over it.
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        except OSError:
            log.exception("spool: could not cut back a failed append; the replay will report it")
        raise
    return size


def append(record: dict[str, Any]) -> None:
    """Make ``record`` durable in this process's spool file, or raise SpoolUnavailable."""
    data = frame(record)
    try:
        directory = spool_dir()
        path = directory / f"clicks-{os.getpid()}.spool"
        with _lock:
            fd = _open_locked(path)
            try:
                before = _append_locked(fd, data)
            finally:
                os.close(fd)  # closing releases the flock
            if before == 0:
                _fsync_dir(directory)  # a new file's name must survive a crash too
    except OSError as exc:
        raise SpoolUnavailable(f"click {record.get('id')} not spooled: {exc}") from exc


def _quarantine(path: Path, bad: list[tuple[int, bytes]]) -> None:
    out = path.with_name(f"corrupt-{path.name}.{time.time_ns()}.txt")
    with open(out, "wb") as fh:
        for n, line in bad:
            fh.write(b"%s line %d: %s\n" % (path.name.encode(), n, line))
        fh.flush()
        os.fsync(fh.fileno())
    log.error("spool %s: %d damaged line(s) kept in %s, not replayed", path.name, len(bad), out.name)


def read(path: Path) -> list[dict[str, Any]]:
    """The records of a spool file; damaged lines are quarantined (``_quarantine``)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer mid-append finishes first
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read()
    finally:
        os.close(fd)
    records, bad = [], []
    for n, line in enumerate(raw.split(b"\n"), 1):
        if not line:
            continue
        rec = unframe(line)
        if rec is None:
            bad.append((n, line))
        else:
            records.append(rec)
    if bad:
        _quarantine(path, bad)
    return records


def _take(path: Path) -> Path | None:
    """Rename a live file to a name of its own; None when another replay took it first."""
    taken = path.with_name(f"taken-{path.name}.{os.getpid()}-{time.time_ns()}.replay")
    try:
        path.rename(taken)
    except FileNotFoundError:
        return None
    return taken


def _taker_alive(taken: Path) -> bool:
    pid = int(taken.name.rsplit(".", 2)[1].split("-")[0])
    return pid != os.getpid() and _alive(pid)


def spool_batches() -> Iterator[list[dict[str, Any]]]:
    """The spooled records, one file at a time (``writer.spool_replay`` writes them). A file is
    deleted only when the caller asks for the next batch, i.e. after its write succeeded; if the
    write raises, the taken file stays and the next replay writes it again (idempotent on id)."""
    directory = spool_dir()
    # First what earlier replays took and did not finish (killed, or their write failed): this
    # process's own leftovers too, never a live replayer's files.
    for taken in sorted(directory.glob(TAKEN_GLOB)):
        if _taker_alive(taken):
            continue
        yield read(taken)
        taken.unlink()
    for pattern in LIVE_GLOBS:
        for path in sorted(directory.glob(pattern)):
            taken_now = _take(path)
            if taken_now is None:
                continue
            yield read(taken_now)
            taken_now.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pending() -> int:
    """Spool files waiting for a replay (live and taken)."""
    directory = spool_dir()
    return sum(1 for pattern in (*LIVE_GLOBS, TAKEN_GLOB) for _ in directory.glob(pattern))
