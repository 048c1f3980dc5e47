"""Imports follow the flow (README, "Architecture"): the contracts in pyproject.toml hold.

affiliates is the bottom, then tracking, then payouts, then config; portals, reports, demo data and
management commands are the top of their app; no two sibling modules or packages import each
other. ``lint-imports`` reads the contracts from pyproject.toml and checks the whole import graph,
including imports placed inside functions.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_layers_contract_excuses_no_upward_import() -> None:
    """Pages live in the lowest app whose layer may import all they show, so the flow needs no
    exceptions: an ignore_imports entry in the layers contract would hide an upward import."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert layers, "the layers contract is missing"
    assert all(not c.get("ignore_imports") for c in layers), layers
