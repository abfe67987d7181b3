"""Benchmarks: speed and size, printed as ratios against a baseline measured in the same run."""

from __future__ import annotations

import sys

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.core.manifest import ROOT


@task(help={"only": "run only tests/benchmarks/bench_<only>.py"})
def bench(c: Context, only: str = "") -> None:
    """Run every benchmark in tests/benchmarks/ and print its figures."""
    files = sorted((ROOT / "tests" / "benchmarks").glob(f"bench_{only or '*'}.py"))
    if not files:
        raise Exit(f"no benchmark named bench_{only}.py in tests/benchmarks/", code=1)
    failed = []
    for path in files:
        print(f"\n══ {path.stem}", flush=True)
        if not c.run(f"{sys.executable} -m tests.benchmarks.{path.stem}", warn=True).ok:
            failed.append(path.stem)
    if failed:
        raise Exit(f"benchmarks failed: {', '.join(failed)}", code=1)
