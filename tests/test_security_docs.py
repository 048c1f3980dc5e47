"""Issue 13's "Done when": CI runs the bounded schemathesis run for the three roles, and the
README's Security section says what is enforced and how to configure it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fuzz.test_fuzz import ROLES

ROOT = Path(__file__).resolve().parents[1]


def _make_recipe(target: str) -> str:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:.*?\n((?:\t.*\n|.*\\\n)+)", makefile, re.M)
    assert match, f"no {target} target"
    return match.group(1)


def test_ci_runs_the_bounded_fuzz_leg_for_staff_advertiser_and_publisher() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r'^leg "fuzz \(3 roles\)" make --no-print-directory fuzz-ci$', ci, re.M)
    recipe = _make_recipe("fuzz-ci")
    assert "FUZZ_EXAMPLES=" in recipe
    assert "$(FUZZ_PYTEST)" in recipe
    assert "tests/fuzz" in (ROOT / "Makefile").read_text().split("FUZZ_PYTEST :=")[1].splitlines()[0]
    assert {role for role, _ in ROLES} == {"staff", "advertiser", "publisher"}


def test_the_full_fuzz_run_takes_100_examples_per_operation_and_every_phase() -> None:
    recipe = _make_recipe("fuzz")
    assert "FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100}" in recipe
    assert "examples,coverage,fuzzing,stateful" in recipe


def test_the_security_section_says_what_is_enforced_and_how_to_configure_it() -> None:
    readme = (ROOT / "README.md").read_text()
    security = readme.split("\n## Security\n", 1)[1].split("\n## ", 1)[0]
    for setting in (
        "AXES_FAILURE_LIMIT",  # lockout thresholds
        "AXES_COOLOFF_TIME",
        "OTP_REQUIRED_FOR_STAFF",  # 2FA
        "Content-Security-Policy",  # CSP
        "EMAIL_URL",  # e-mail
        "TRUSTED_PROXIES",  # proxies
        "AUDIT_RETENTION_DAYS",  # the audit log's retention
    ):
        assert setting in security, setting
    for enforced in ("bad_encoding", "Two-factor", "API keys", "Audit log", "CSV", "/staff/users/"):
        assert enforced in security, enforced
