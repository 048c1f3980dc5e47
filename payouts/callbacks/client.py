"""The one HTTP client that calls publishers' servers.

Built on the standard library's http.client because it must connect to an address we chose
(the vetted one) while speaking to the name in the URL: the socket goes to the IP, the Host
header and the TLS SNI and certificate check use the name. http.client never follows
redirects, which is what we want: a 3xx is a failed attempt (a redirect could point anywhere,
loopback included).

The 5 s limit is for the whole attempt. Socket timeouts alone bound each read, so a server
trickling one byte every 4 s could hold a worker forever; a watchdog shuts the socket at the
deadline instead.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from payouts.callbacks.addresses import AddressRefused, ResolutionFailed, resolve_public

ATTEMPT_TIMEOUT_SECONDS = 5.0
EXCERPT_BYTES = 1024
USER_AGENT = "affnet-postback/1.0"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    latency_ms: int | None = None
    excerpt: str = ""
    error_code: str = ""
    error: str = ""
    ip: str = ""
    # False when trying again cannot help (a refused address, a malformed URL).
    retryable: bool = True


def _open_socket(ip: str, port: int, timeout: float) -> socket.socket:
    """Connect to a vetted address. The only place this module opens a connection."""
    return socket.create_connection((ip, port), timeout=timeout)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, ip: str, port: int, timeout: float) -> None:
        super().__init__(ip, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = _open_socket(self._ip, self.port, self.timeout)  # type: ignore[arg-type]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, ip: str, port: int, timeout: float, server_name: str) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(ip, port, timeout=timeout, context=self._tls)
        self._ip = ip
        self._server_name = server_name

    def connect(self) -> None:
        raw = _open_socket(self._ip, self.port, self.timeout)  # type: ignore[arg-type]
        self.sock = self._tls.wrap_socket(raw, server_hostname=self._server_name)


def _host_header(host: str, port: int, default_port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default_port else f"{shown}:{port}"


def _ascii_host(host: str) -> str:
    return host if host.isascii() else host.encode("idna").decode("ascii")


def _error(
    code: str,
    message: str,
    *,
    retryable: bool = True,
    ip: str = "",
    status_code: int | None = None,
    latency_ms: int | None = None,
    excerpt: str = "",
) -> Outcome:
    return Outcome(
        ok=False,
        error_code=code,
        error=message[:255],
        retryable=retryable,
        ip=ip,
        status_code=status_code,
        latency_ms=latency_ms,
        excerpt=excerpt,
    )


def send(
    *,
    method: str,
    url: str,
    body: str = "",
    timeout: float = ATTEMPT_TIMEOUT_SECONDS,
    content_type: str = "application/x-www-form-urlencoded",
    extra_headers: Mapping[str, str] | None = None,
) -> Outcome:
    """One attempt: vet every address of the host, then connect to a vetted one. Never raises.

    ``content_type`` and ``extra_headers`` serve other signed calls that share this client
    (automation rules' webhooks send JSON with a signature header)."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            return _error("bad_url", "Only absolute http or https URLs are allowed.", retryable=False)
        host = _ascii_host(parts.hostname)
        default_port = 443 if parts.scheme == "https" else 80
        port = parts.port or default_port
    except (ValueError, UnicodeError) as exc:
        return _error("bad_url", f"Malformed URL: {exc}", retryable=False)
    try:
        addresses = resolve_public(host, port)
    except AddressRefused as exc:
        return _error(exc.code, str(exc), retryable=False)
    except ResolutionFailed as exc:
        return _error(exc.code, str(exc))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Host": _host_header(host, port, default_port),
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Connection": "close",
    }
    if method == "POST":
        headers["Content-Type"] = content_type
    headers.update(extra_headers or {})
    return _request(
        scheme=parts.scheme,
        host=host,
        port=port,
        addresses=addresses,
        method=method,
        target=target,
        headers=headers,
        body=body.encode() if method == "POST" else None,
        timeout=timeout,
    )


def _request(
    *,
    scheme: str,
    host: str,
    port: int,
    addresses: list[str],
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
) -> Outcome:
    started = time.monotonic()
    deadline = started + timeout
    last: Outcome = _error("connection_error", "No address to connect to.")
    # Every address was vetted, so trying the next one on a refused connection is safe.
    for ip in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _error("timeout", f"No response within {timeout:g} s.", ip=ip)
        conn: http.client.HTTPConnection = (
            _PinnedHTTPSConnection(ip, port, remaining, host)
            if scheme == "https"
            else _PinnedHTTPConnection(ip, port, remaining)
        )
        try:
            conn.connect()
        except TimeoutError:
            return _error("timeout", f"Connecting to {ip} timed out.", ip=ip)
        except ssl.SSLError as exc:
            return _error("tls_error", f"TLS failed with {host}: {exc}", ip=ip)
        except OSError as exc:
            last = _error("connection_error", f"Connecting to {ip}:{port} failed: {exc}", ip=ip)
            conn.close()
            continue
        return _exchange(
            conn,
            ip=ip,
            method=method,
            target=target,
            headers=headers,
            body=body,
            started=started,
            deadline=deadline,
            timeout=timeout,
        )
    return last


def _exchange(
    conn: http.client.HTTPConnection,
    *,
    ip: str,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes | None,
    started: float,
    deadline: float,
    timeout: float,
) -> Outcome:
    expired = threading.Event()

    def _cut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), _cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", errors="replace")[:EXCERPT_BYTES]
        status = response.status
        location = response.getheader("Location", "")
    except TimeoutError:
        return _error("timeout", f"No response within {timeout:g} s.", ip=ip)
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            return _error("timeout", f"No response within {timeout:g} s.", ip=ip)
        return _error("connection_error", f"{type(exc).__name__}: {exc}", ip=ip)
    finally:
        watchdog.cancel()
        conn.close()
    latency = int((time.monotonic() - started) * 1000)
    if 200 <= status < 300:
        return Outcome(ok=True, status_code=status, latency_ms=latency, excerpt=excerpt, ip=ip)
    if 300 <= status < 400:
        message = f"HTTP {status} to {location!r}; redirects are not followed."
        code = "redirect_not_followed"
    else:
        message, code = f"HTTP {status}.", "http_status"
    return _error(code, message, ip=ip, status_code=status, latency_ms=latency, excerpt=excerpt)
