"""Quality tasks: formatting, lint, type checks and the test suites."""

from __future__ import annotations

import sys

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.core.manifest import ROOT
from tasks.frontend import require_node_modules

PY_PATHS = "functions tasks tests"


def _has_frontend() -> bool:
    """Whether the app's checks apply; missing npm packages then fail loudly, never skip."""
    if not (ROOT / "frontend" / "package.json").exists():
        return False
    require_node_modules()
    return True


@task
def fmt(c: Context) -> None:
    """Format the Python code with ruff and fix what ruff can fix."""
    c.run(f"ruff format {PY_PATHS}")
    c.run(f"ruff check --fix {PY_PATHS}")


@task
def lint(c: Context) -> None:
    """Check formatting and lint (ruff), types (mypy strict on parley), frontend (tsc, eslint)."""
    steps = [
        ("ruff format", f"ruff format --check {PY_PATHS}"),
        ("ruff", f"ruff check {PY_PATHS}"),
        ("mypy", "mypy functions tasks"),
    ]
    if _has_frontend():
        steps.append(("frontend lint", "npm --prefix frontend run --silent lint"))
    failed = []
    for name, cmd in steps:
        print(f"── {name}", flush=True)
        if not c.run(cmd, warn=True).ok:
            failed.append(name)
    if failed:
        raise Exit(f"lint failed: {', '.join(failed)}", code=1)


@task(
    help={
        "k": "only tests matching this pytest -k expression",
        "suite": "one suite: unit, integration, infra, e2e (default: all)",
        "no_lint": "skip lint",
    }
)
def test(c: Context, k: str = "", suite: str = "", no_lint: bool = False) -> None:
    """Lint, then every test suite: unit, integration, infra, artifacts, frontend and browser."""
    if not no_lint and not suite:
        lint(c)
    target = f"tests/{suite}" if suite and suite != "frontend" else "tests"
    selection = f"-k {k!r}" if k else ""
    failed = []
    if suite != "frontend":
        print("── pytest", flush=True)
        # One worker per core; a test module stays on one worker (its module fixtures start
        # stacks and servers once). Each worker has its own moto, so state never crosses.
        parallel = "-n auto --dist loadfile"
        command = f"{sys.executable} -m pytest {parallel} {target} {selection}"
        if not c.run(command, warn=True, pty=False).ok:
            failed.append("pytest")
    if _has_frontend() and suite in ("", "frontend") and not k:
        print("── frontend tests", flush=True)
        if not c.run("npm --prefix frontend test --silent", warn=True).ok:
            failed.append("frontend")
    if failed:
        raise Exit(f"tests failed: {', '.join(failed)}", code=1)
