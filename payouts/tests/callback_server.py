"""A real HTTP server on a loopback address for postback tests, recording every hit."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Hit:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str


@dataclass
class Recorder:
    host: str
    port: int = 0
    hits: list[Hit] = field(default_factory=list)
    # Each entry: (status, body, extra headers). When empty, answers 200 "OK".
    replies: deque[tuple[int, str, dict[str, str]]] = field(default_factory=deque)
    delay_seconds: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reply(self, status: int, body: str = "", **headers: str) -> None:
        self.replies.append((status, body, headers))


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            parts = urlsplit(self.path)
            recorder.hits.append(
                Hit(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
            )
            if recorder.delay_seconds:
                time.sleep(recorder.delay_seconds)
            status, text, headers = recorder.replies.popleft() if recorder.replies else (200, "OK", {})
            payload = text.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Timeout tests hang up on purpose; the broken pipe that follows is expected.
        pass


@contextmanager
def local_server(host: str = "127.0.0.1") -> Iterator[Recorder]:
    recorder = Recorder(host=host)
    server = _QuietServer((host, 0), _handler(recorder))
    recorder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
