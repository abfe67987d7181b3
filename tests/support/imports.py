"""What a function's cold start imports: its handler module imported in a fresh interpreter,
as Lambda's init does, with the manifest's environment for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tasks.core.manifest import load_manifest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def handler_imports(function: str, packages: tuple[str, ...]) -> list[str]:
    """Which of the top-level `packages` importing `function`'s handler module loads, sorted.

    The interpreter runs as in Lambda (`AWS_LAMBDA_FUNCTION_NAME`, `LAMBDA_TASK_ROOT`) with
    tracing enabled, so a handler that asks for the X-Ray tracer builds it."""
    env = {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": "/var/task",
        "POWERTOOLS_TRACE_DISABLED": "false",
    }
    for key, value in load_manifest().functions[function].environment.items():
        env.setdefault(key, str(value))
    probe = (
        f"import json, sys, {function}.app; "
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(packages)!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=FUNCTIONS, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))
