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


def main(argv: list[str]) -> int:
    ctx = Context.from_env()
    sections = []
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
        sections.append(f"## {module.TITLE}\n\n{body}\n_{name}, {took:.0f} s._\n")
        print(body, flush=True)
    header = f"# Benchmarks\n\nWritten by `make bench` (`python -m bench`). {ctx.describe()}\n\n"
    Path(ctx.root / "BENCHMARKS.md").write_text(header + "\n".join(sections))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
