"""Benchmarks: speed and size, printed as ratios against a baseline measured in the same run."""

from __future__ import annotations

import sys
from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.core.manifest import ROOT
from tasks.quality import compile_bytecode


@task(help={"only": "run only tests/benchmarks/bench_<only>.py"})
def bench(c: Context, only: str = "") -> None:
    """Run every benchmark in tests/benchmarks/ and print its figures."""
    files = sorted((ROOT / "tests" / "benchmarks").glob(f"bench_{only or '*'}.py"))
    if not files:
        raise Exit(f"no benchmark named bench_{only}.py in tests/benchmarks/", code=1)
    # As for the tests: where PYTHONDONTWRITEBYTECODE is set (as in CI images) a source edited
    # since its last compile would be compiled again by every process that imports it, and the
    # benchmarks that time imports would time compiles (Lambda reads the artifacts' bytecode).
    compile_bytecode()
    failed = []
    for path in files:
        print(f"\n══ {path.stem}", flush=True)
        if not c.run(f"{sys.executable} -m tests.benchmarks.{path.stem}", warn=True).ok:
            failed.append(path.stem)
    if failed:
        raise Exit(f"benchmarks failed: {', '.join(failed)}", code=1)


@task(
    help={
        "daily_users": "daily active users (e.g. 1000000)",
        "model_file": "a usage model in YAML (default tests/benchmarks/usage_model.yaml)",
    }
)
def cost(c: Context, daily_users: int = 0, model_file: str = "") -> None:
    """Print Parley's monthly AWS bill at N daily users: coalesced streaming and per-token."""
    sys.path.insert(0, str(ROOT))
    from tests.benchmarks.cost import PriceTable
    from tests.benchmarks.monthly import MODEL_FILE, UsageModel, load_reply_usage, render

    if daily_users <= 0:
        raise Exit("--daily-users N (a positive number) is required", code=1)
    path = Path(model_file).resolve() if model_file else MODEL_FILE
    try:
        model = UsageModel.load(path)
        reply_usage = load_reply_usage()
    except (OSError, KeyError, ValueError) as exc:
        raise Exit(f"invoke cost: {exc}", code=1) from None
    print(render(model, reply_usage, PriceTable.load(), daily_users, path))
