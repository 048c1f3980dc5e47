"""The README's configuration table lists every environment variable the settings read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV_READ = re.compile(r"\.(?:str|bool|int|float|list|dict|json|url|db_url)\(\s*\"([A-Z][A-Z0-9_]+)\"")


def test_every_environment_variable_is_in_the_readme_table() -> None:
    read = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        read |= set(ENV_READ.findall(path.read_text()))
    table = {m for m in re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", (ROOT / "README.md").read_text(), re.M)}
    assert read, "the pattern found no variables: update ENV_READ"
    assert sorted(read - table) == []
    assert sorted(table - read) == []


def test_the_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "    make run " in readme
    assert "    make test " in readme
