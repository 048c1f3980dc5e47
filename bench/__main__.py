"""Run the registered benchmarks and write BENCHMARKS.md (see bench/__init__.py)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

import bench
from bench.harness import Context


def modules(selected: list[str]) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    if selected:
        names = [n for n in names if n.removeprefix("bench_") in selected or n in selected]
    return names


def sections_merge(old: str, new: dict[str, str]) -> list[str]:
    """The sections of BENCHMARKS.md with ``new`` (title -> section) replacing or added.

    So ``python -m bench reconcile`` refreshes one section and keeps the others, each of which
    says when and on what it was measured.
    """
    kept: dict[str, str] = {}
    for chunk in ("\n" + old).split("\n## ")[1:]:
        title = chunk.split("\n", 1)[0].strip()
        kept[title] = "## " + chunk.rstrip() + "\n"
    kept.update(new)
    return list(kept.values())


def main(argv: list[str]) -> int:
    ctx = Context.from_env()
    new: dict[str, str] = {}
    failed = False
    for name in modules(argv):
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {module.TITLE}", flush=True)
        started = time.monotonic()
        try:
            body = module.run(ctx)
        except Exception:
            failed = True
            body = "Failed:\n\n```\n" + traceback.format_exc() + "```\n"
        took = time.monotonic() - started
        new[module.TITLE] = f"## {module.TITLE}\n\n{body}\n_{name}, {took:.0f} s; {ctx.describe()}_\n"
        print(body, flush=True)
    target = Path(ctx.root / "BENCHMARKS.md")
    old = target.read_text() if target.exists() and argv else ""
    header = "# Benchmarks\n\nWritten by `make bench` (`python -m bench`); each section says when it ran.\n\n"
    target.write_text(header + "\n".join(sections_merge(old, new)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
