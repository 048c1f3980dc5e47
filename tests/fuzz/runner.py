"""Schemathesis against the real Django app, in-process, as one role.

The API is served by Django's WSGI app (config/asgi.py hands everything but clicks, impressions
and postbacks to it through a2wsgi), so schemathesis's WSGI transport calls the very code
production runs, in this thread, on this thread's database connection. The data must be
committed (the fuzz module seeds it outside any test transaction): requests run in autocommit,
as in production, so a database error shows as the 500 it would be there.

Checks: all of schemathesis's, except two that judge business rules rather than the API's
contract:

- positive_data_acceptance wants every schema-valid request accepted, but a valid-shaped
  request that names an offer that does not exist, or a duplicate coupon code, is rightly a 400;
- negative_data_rejection wants every schema-invalid request refused, but an empty filter
  (``?offer=``) means "no filter" by the HTML-form convention clients rely on.

Every other check runs: not_a_server_error, status_code_conformance (every 4xx documented),
response_schema_conformance, content_type_conformance, response_headers_conformance,
missing_required_header, unsupported_method, ignored_auth, and in the stateful phase
use_after_free and ensure_resource_availability.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
import schemathesis.python.wsgi
import werkzeug
from schemathesis.engine import Status, events, from_schema

EXCLUDED_CHECKS = ("positive_data_acceptance", "negative_data_rejection")
SCHEMA_PATH = "/api/schema/?format=json"


class _Client(werkzeug.Client):
    """schemathesis 4.32's WSGI transport hands werkzeug's client the socket settings meant for
    requests (max_redirects, verify, ...) when its engine gives it no session: werkzeug refuses
    them (TypeError). They mean nothing in-process; dropped here."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return super().open(*args, **kwargs)


schemathesis.python.wsgi.get_client = _Client  # type: ignore[assignment]


@dataclass
class FuzzResult:
    role: str
    operations: int = 0
    cases: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def summary(self) -> str:
        worst = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"{self.role}: {self.operations} operations, {self.cases} requests in {self.seconds:.1f} s, "
            f"{len(self.failures)} failures, {len(self.errors)} errors (statuses {worst})"
        )


PHASES = ("examples", "coverage", "fuzzing", "stateful")


def fuzz_config(*, token: str, max_examples: int, seed: int, phases: tuple[str, ...]) -> Any:
    return schemathesis.Config.from_dict(
        {
            "seed": seed,
            "headers": {"Authorization": f"Token {token}"},
            "workers": 1,
            "generation": {"max-examples": max_examples, "database": "none"},
            "phases": {phase: {"enabled": phase in phases} for phase in PHASES},
            "checks": {name: {"enabled": False} for name in EXCLUDED_CHECKS},
        }
    )


def _progress(result: FuzzResult, line: str) -> None:
    """A long run reports as it goes (FUZZ_LOG, a file each role appends to): a failure as soon
    as it is found, and the counts every few hundred requests, so that an interrupted run has
    still told what it found."""
    path = os.environ.get("FUZZ_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%H:%M:%S')} [{result.role}] {line}\n")


def fuzz_role(
    *, app: Any, role: str, token: str, max_examples: int, seed: int = 13, phases: tuple[str, ...] = PHASES
) -> FuzzResult:
    """Run the phases (examples from the schema; coverage: boundary and type-violating values
    of every parameter; fuzzing: random ones; stateful: chains of calls through the links
    between operations) against every operation of /api/schema/ as this role."""
    config = fuzz_config(token=token, max_examples=max_examples, seed=seed, phases=phases)
    schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, app, config=config)
    result = FuzzResult(role=role, operations=len(list(schema.get_all_operations())))
    started = time.monotonic()
    seen: set[tuple[str, str, str]] = set()
    reported = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            failures = len(result.failures)
            _collect(event.recorder, result, seen)
            for failure in result.failures[failures:]:
                _progress(result, f"FAILURE {failure}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            value = getattr(event, "value", None) or getattr(event, "exception", None)
            result.errors.append(f"{getattr(event, 'label', '')}: {value!r}"[:500])
            _progress(result, f"ERROR {result.errors[-1]}")
        elif isinstance(event, events.PhaseStarted):
            _progress(result, f"phase {event.phase.name.value!s} ({result.cases} requests so far)")
        if result.cases - reported >= 500:
            reported = result.cases
            result.seconds = time.monotonic() - started
            _progress(result, result.summary())
    result.seconds = time.monotonic() - started
    _progress(result, "DONE " + result.summary())
    return result


def _collect(recorder: Any, result: FuzzResult, seen: set[tuple[str, str, str]]) -> None:
    result.cases += len(recorder.interactions)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            result.statuses[interaction.response.status_code] += 1
    for checks in recorder.checks.values():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = (failure.operation or recorder.label, failure.title, failure.message[:200])
            if key in seen:
                continue
            seen.add(key)
            result.failures.append(
                f"{key[0]}: {failure.code} {failure.title}: {failure.message[:400]}\n"
                f"    {check.failure_info.code_sample[:600]}"
            )
