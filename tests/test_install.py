"""One way to install: uv.lock pins what pyproject.toml asks for, the Makefile refuses a Python
the project does not run on (and leaves no venv behind), and the README says so."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".uv" / "bin" / "uv"


@pytest.mark.skipif(not UV.exists(), reason="uv is bootstrapped by make install")
def test_the_lock_file_is_in_sync_with_pyproject() -> None:
    done = subprocess.run(
        [str(UV), "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_lock_pins_every_package_to_one_version() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = [p for p in lock["package"] if p["name"] != "affnet"]
    assert packages
    assert all(p.get("version") for p in packages)
    assert len({p["name"] for p in packages}) == len(packages)
    assert (
        lock["requires-python"]
        == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    )


def test_make_install_refuses_a_wrong_python_and_leaves_no_venv(tmp_path: Path) -> None:
    wrong = shutil.which("python3.12") or shutil.which("python3.13")
    if wrong is None:  # a stand-in that is no Python 3.11
        fake = tmp_path / "python"
        fake.write_text("#!/bin/sh\necho 'Python 3.12.0'\nexit 1\n")
        fake.chmod(0o755)
        wrong = str(fake)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)  # a broken venv from an earlier attempt
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "install",
            f"PYTHON={wrong}",
            f"VENV={venv}",
            f"UV_DIR={tmp_path}/uv",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "affnet needs Python 3.11" in done.stderr
    assert not venv.exists()
    assert not (tmp_path / "uv").exists()  # refused before anything was downloaded


def test_the_readme_says_how_to_install_run_stop_and_reset() -> None:
    readme = (ROOT / "README.md").read_text()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == "==3.11.*"
    assert re.search(r"Python 3\.11\b", readme)
    for needle in (
        "    make run ",
        "    make test ",
        "uv.lock",
        "make lock",
        "127.0.0.1",
        "Ctrl-C",
        "make clean",
        "PG_TEST_URL",
        "REDIS_TEST_URL",
        "PYTEST_SEED",
    ):
        assert needle in readme, needle
