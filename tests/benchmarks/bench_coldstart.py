"""Cold start of every function: its handler's import against `import boto3`, and its init
duration in the local stack's execution environment.

1. Import ratio: each manifest function's handler module imported in a fresh interpreter as
   Lambda's init does (AWS_LAMBDA_FUNCTION_NAME set, so Powertools traces where the handler
   asks for it), against `import boto3` alone; best of 2 each, interleaved so machine load
   hits them alike. Goal for `chat_api`: ≤ 2×. Also names the heavy packages each one imports
   (the X-Ray SDK, the provider SDK `openai`, pydantic).
2. Init duration: the local stack's `ExecutionEnvironment` (tasks/local/gateway) started for
   each function — a process that imports the handler, as Lambda's init phase.
3. In AWS: `chat_api` and `bot_worker` imported by Python 3.12 from their built zips and the
   layer, as Lambda does: with the packed bytecode, and with it removed (every module compiled
   from source, as Lambda's read-only folders would make it on each cold start). CPU seconds,
   median of 5, and the ratio of the two from the same run.

Run: `invoke bench --only coldstart`, which compiles the project's bytecode first (`python -m
tests.benchmarks.bench_coldstart` alone would time the compile of any source edited since its
last compile, where PYTHONDONTWRITEBYTECODE is set).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
sys.path.insert(0, str(ROOT))

from tasks.core.manifest import Ref, load_manifest  # noqa: E402
from tasks.local.gateway.lambdas import (  # noqa: E402
    ExecutionEnvironment,
    FunctionSpec,
    runtime_environment,
)

RUNS = 2
FLOOR = "boto3, pydantic.main, jwt, aws_lambda_powertools.event_handler"
"""What `chat_api` imports from libraries before any of Parley's code: boto3, pydantic's models,
PyJWT (with cryptography: it verifies tokens itself) and Powertools' event handler."""
HEAVY = ("aws_xray_sdk", "openai", "pydantic", "jwt", "aws_lambda_powertools.event_handler")
SNIPPET = """
import sys, time, json
sys.path.insert(0, {functions!r})
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
print(json.dumps([elapsed, [m for m in {heavy!r} if m in sys.modules]]))
"""


def _env(function: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": function,
        "POWERTOOLS_METRICS_NAMESPACE": "Parley",
        # What a handler's init reads (bot_worker builds its writer at init); no call is made.
        "CHAT_TABLE_NAME": "parley-bench-chat",
        "CONNECTIONS_TABLE_NAME": "parley-bench-connections",
        "WS_MANAGEMENT_ENDPOINT": "https://ws.example.com/prod",
    }


def import_once(module: str, function: str) -> tuple[float, list[str]]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SNIPPET.format(functions=str(FUNCTIONS), module=module, heavy=HEAVY),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=_env(function),
    ).stdout
    seconds, heavy = json.loads(out.strip().splitlines()[-1])
    return float(seconds), list(heavy)


async def init_once(spec: FunctionSpec) -> float:
    env = runtime_environment(spec, {"AWS_REGION": "us-east-1"})
    environment = ExecutionEnvironment(spec, env)
    started = time.perf_counter()
    await environment.start()
    elapsed = time.perf_counter() - started
    await environment.stop()
    return elapsed


ARTIFACT_RUNS = 5
ARTIFACT_SNIPPET = """
import os, sys, time
sys.path[:0] = [{task!r}, {opt!r}]
cpu = time.process_time()
import {module}
elapsed = time.process_time() - cpu
module = sys.modules[{module!r}]
assert module.__file__.startswith({task!r}), module.__file__
print(sys.pycache_prefix is None and os.path.exists(module.__cached__), elapsed)
"""


def artifact_imports(functions: tuple[str, ...] = ("chat_api", "bot_worker")) -> dict[str, Any]:
    """What a cold start in AWS does: the handler imported by Python 3.12 from its built zip and
    the (x86_64, this machine's) layer, with the packed bytecode and with it removed (so every
    module compiles from source, as without it in Lambda's read-only folders); CPU, median of
    `ARTIFACT_RUNS`. `-B` stands in for the read-only folders (the benchmark may run as root,
    which writes into them anyway), and no PYTHON* variable of this shell reaches the import
    (PYTHONPYCACHEPREFIX would hide the packed bytecode)."""
    import shutil
    import statistics
    import tempfile
    import zipfile

    from tasks.core.artifacts import Builder, find_python

    python = find_python()
    if python is None:
        print("   (artifact imports: no Python 3.12 here)")
        return {}
    manifest = load_manifest()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="parley-coldstart-") as tmp:
        root = Path(tmp)
        builder = Builder(manifest, dist=root / "dist", log=lambda _: None)
        layer = builder.layer("x86_64").path
        for kind in ("bytecode", "source"):
            zipfile.ZipFile(layer).extractall(root / kind / "opt")
            for name in functions:
                zipfile.ZipFile(builder.function(manifest.functions[name]).path).extractall(
                    root / kind / name
                )
            if kind == "source":
                for cache in sorted((root / kind).rglob("__pycache__"), reverse=True):
                    shutil.rmtree(cache)
        for name in functions:
            module = manifest.functions[name].handler.rpartition(".")[0]
            env = {k: v for k, v in _env(name).items() if not k.startswith("PYTHON")}
            median = {}
            for kind in ("bytecode", "source"):
                runs = []
                for _ in range(ARTIFACT_RUNS):
                    snippet = ARTIFACT_SNIPPET.format(
                        task=str(root / kind / name),
                        opt=str(root / kind / "opt" / "python"),
                        module=module,
                    )
                    done = subprocess.run(
                        [python, "-S", "-s", "-B", "-c", snippet],
                        capture_output=True,
                        text=True,
                        check=True,
                        env=env,
                    )
                    cached, seconds = done.stdout.strip().splitlines()[-1].split()
                    # the handler's module was read from its packed pyc, and only then
                    assert (cached == "True") == (kind == "bytecode"), (name, kind, cached)
                    runs.append(float(seconds))
                median[kind] = statistics.median(runs)
            figures[name] = {k: round(v, 3) for k, v in median.items()}
            figures[name]["ratio"] = round(median["source"] / median["bytecode"], 2)
            print(
                f"   {name:<18} from its artifacts: {median['bytecode'] * 1000:.0f} ms of CPU with "
                f"the packed bytecode, {median['source'] * 1000:.0f} ms from source "
                f"({median['source'] / median['bytecode']:.1f}×, median of {ARTIFACT_RUNS})"
            )
    return figures


def main() -> int:
    manifest = load_manifest()
    modules = {name: f.handler.rpartition(".")[0] for name, f in manifest.functions.items()}
    best: dict[str, float] = {}
    heavy: dict[str, list[str]] = {}
    for _ in range(RUNS):
        for name, module in {"boto3": "boto3", "floor": FLOOR, **modules}.items():
            seconds, loaded = import_once(module, "chat_api" if name == "floor" else name)
            best[name] = min(best.get(name, float("inf")), seconds)
            heavy[name] = loaded
    specs = {
        name: FunctionSpec(
            name=name,
            handler=f.handler,
            timeout=float(manifest.timeout(f)),
            memory=manifest.memory(f),
            environment={
                k: (f"local-{v.ref}" if isinstance(v, Ref) else v) for k, v in f.environment.items()
            },
        )
        for name, f in manifest.functions.items()
    }
    init: dict[str, float] = {}
    for name, spec in specs.items():
        init[name] = asyncio.run(init_once(spec))
    boto3_s = best["boto3"]
    print(f"cold start: `import boto3` {boto3_s * 1000:.0f} ms here (best of {RUNS})")
    print(
        f"   {'function':<18}{'MB':>6}{'import':>9}{'× boto3':>9}{'init (local)':>14}  "
        "heavy packages imported"
    )
    figures = {}
    for name in modules:
        ratio = best[name] / boto3_s
        goal = ""
        if name == "chat_api":
            goal = f"  goal ≤ 2.00×: {'met' if ratio <= 2 else 'NOT met'}"
        print(
            f"   {name:<18}{manifest.memory(manifest.functions[name]):>6}"
            f"{best[name] * 1000:>7.0f}ms{ratio:>8.2f}×{init[name] * 1000:>12.0f}ms  "
            f"{', '.join(heavy[name]) or '-'}{goal}"
        )
        figures[name] = {"ratio": round(ratio, 2), "init_ms": round(init[name] * 1000)}
    floor = best["floor"] / boto3_s
    print(
        f"   {'(libraries)':<18}{'':>6}{best['floor'] * 1000:>7.0f}ms{floor:>8.2f}×"
        f"{'':>14}  chat_api's libraries alone: {FLOOR}"
    )
    print(
        "   init (local): the local stack's execution environment started (a process importing "
        "the handler); Lambda adds its runtime's start and bills init at the function's memory"
    )
    figures["libraries"] = {"ratio": round(floor, 2), "init_ms": 0}
    print("   in AWS: Lambda's Python imports from the read-only artifacts (Python 3.12, CPU)")
    figures["artifacts"] = artifact_imports()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
