"""Quality tasks: formatting, lint, type checks and the test suites."""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

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


def _venv_tool(name: str) -> str:
    """A command installed beside this Python (the project's virtualenv), by its full path."""
    return str(Path(sys.executable).parent / name)


@task
def fmt(c: Context) -> None:
    """Format the Python code with ruff and fix what ruff can fix."""
    c.run(f"ruff format {PY_PATHS}")
    c.run(f"ruff check --fix {PY_PATHS}")


@task
def lint(c: Context) -> None:
    """Lint: ruff format and ruff, mypy (strict on parley), actionlint and zizmor on workflows,
    asl-validator on state machines, tsc and eslint."""
    steps = [
        ("ruff format", f"ruff format --check {PY_PATHS}"),
        ("ruff", f"ruff check {PY_PATHS}"),
        ("mypy", "mypy functions tasks"),
        # GitHub Actions: expressions, contexts, job graph, action inputs and every run: script
        # (shellcheck); then the security audit at its default persona, offline.
        (
            "actionlint",
            f"actionlint -shellcheck {_venv_tool('shellcheck')} .github/workflows/*.yml",
        ),
        ("zizmor", "zizmor --offline --no-progress .github/workflows"),
        # Amazon States Language: every state machine definition, with asl-validator.
        ("asl-validator", "invoke check-workflows"),
        # The model catalogs (terraform/envs/<env>/models.yaml, tasks/local/models.yaml).
        (
            "model catalogs",
            f"{sys.executable} -c 'from tasks.core.catalog import main; raise SystemExit(main())'",
        ),
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


def compile_bytecode() -> None:
    """Compile the project's Python once, before the suite's (or the benchmarks') processes
    import it.

    Every test worker, local stack and execution environment imports the same modules; where
    PYTHONDONTWRITEBYTECODE is set (as some CI images do) none of them caches what it compiled,
    so each compiled the code again. The bytecode written here is read by all of them
    (`scripts/bootstrap` does the same for the installed packages)."""
    for folder in ("functions", "tasks", "tests"):
        compileall.compile_dir(str(ROOT / folder), quiet=1, workers=os.cpu_count() or 1)


@task(
    help={
        "k": "only tests matching this pytest -k expression",
        "suite": "one suite: unit, integration, infra, e2e (default: all)",
        "no_lint": "skip lint",
        "workers": "pytest workers (default: one more than the cores)",
    }
)
def test(c: Context, k: str = "", suite: str = "", no_lint: bool = False, workers: int = 0) -> None:
    """Lint, and every test suite: unit, integration, infra, artifacts, frontend and browser.

    Lint and the frontend's tests run beside pytest (their output follows pytest's): many
    tests wait on servers, browsers and Terraform, and those checks fill the idle cores."""
    beside: list[tuple[str, str]] = []
    if not no_lint and not suite:
        beside.append(("lint", f"{sys.executable} -m invoke lint"))
    if _has_frontend() and suite in ("", "frontend") and not k:
        beside.append(("frontend tests", "npm --prefix frontend test --silent"))
    target = f"tests/{suite}" if suite and suite != "frontend" else "tests"
    selection = f"-k {k!r}" if k else ""
    compile_bytecode()
    failed = []
    with tempfile.TemporaryDirectory(prefix="parley-test-") as logs:
        started = [
            (name, _start_beside(command, Path(logs) / f"{index}.log"))
            for index, (name, command) in enumerate(beside)
        ]
        if suite != "frontend":
            print("── pytest", flush=True)
            # A test module stays on one worker (its module fixtures start stacks and servers
            # once), the longest first (tests/support/ordering.py). Each worker has its own moto,
            # so state never crosses. One worker more than the cores: many tests wait.
            count = workers or (os.cpu_count() or 1) + 1
            parallel = f"-n {count} --dist loadfile --no-loadscope-reorder"
            command = f"{sys.executable} -m pytest {parallel} {target} {selection}"
            if not c.run(command, warn=True, pty=False).ok:
                failed.append("pytest")
        for name, (process, log) in started:
            code = process.wait()
            print(f"── {name}", flush=True)
            print(log.read_text(errors="replace"), end="", flush=True)
            if code != 0:
                failed.append(name)
    if failed:
        raise Exit(f"tests failed: {', '.join(failed)}", code=1)


def _start_beside(command: str, log: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Start `command` in the background, its output (both streams) to `log`."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S602 - our own fixed commands
            command, shell=True, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    return process, log


MUTATION_TARGETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (module under functions/, the tests that cover it): one line per module.
    (
        "parley/auth.py",
        (
            "tests/unit/test_core_auth.py",
            "tests/unit/test_realtime_authorizer.py",
            "tests/unit/test_gate.py",
        ),
    ),
    ("parley/gate.py", ("tests/unit/test_gate.py",)),
    (
        "parley/access.py",
        (
            "tests/unit/test_access_rules.py",
            "tests/unit/test_attachment_rules.py",
            "tests/unit/test_feedback_rules.py",
            "tests/unit/test_share_rules.py",
        ),
    ),
    ("parley/feedback.py", ("tests/unit/test_feedback_rules.py",)),
    ("parley/assistants.py", ("tests/unit/test_assistant_rules.py",)),
    ("parley/extraction.py", ("tests/unit/test_extraction.py",)),
    (
        "parley/conversations.py",
        ("tests/unit/test_access_rules.py", "tests/unit/test_personal_events.py"),
    ),
    ("parley/quota.py", ("tests/unit/test_quota_claims.py",)),
    ("parley/store/usage.py", ("tests/unit/test_quota_claims.py",)),
    ("parley/store/messages.py", ("tests/unit/test_message_store.py",)),
    (
        "parley/posting.py",
        (
            "tests/unit/test_posting_control.py",
            "tests/unit/test_budget_branches.py",
            "tests/unit/test_attachments.py",
        ),
    ),
    ("parley/budget.py", ("tests/unit/test_budget_branches.py",)),
    ("parley/branches.py", ("tests/unit/test_budget_branches.py",)),
    ("parley/exports.py", ("tests/unit/test_exports.py",)),
    ("parley/maintenance.py", ("tests/unit/test_maintenance.py",)),
    ("parley/search.py", ("tests/unit/test_search_rules.py",)),
    ("parley/rollups.py", ("tests/unit/test_rollup_rules.py",)),
    ("parley/store/rollups.py", ("tests/unit/test_rollup_rules.py",)),
    ("parley/catalog.py", ("tests/unit/test_catalog.py",)),
    ("parley/shares.py", ("tests/unit/test_share_rules.py",)),
    ("parley/store/shares.py", ("tests/unit/test_share_rules.py",)),
    ("parley/signup.py", ("tests/unit/test_signup_rules.py",)),
    ("parley/store/invites.py", ("tests/unit/test_signup_rules.py",)),
    ("parley/roles.py", ("tests/unit/test_token_role.py",)),
)
"""What `invoke mutate` mutates, each module against only the tests that exercise it.

The checks that guard security or money are here, each against fast tests of its own (the
integration suites are too slow to run once per mutant). Past token verification, the mutants
known to survive change no check: an expression keyword in lower case (DynamoDB reads them in
any case), a default for a key DynamoDB always sends (`Items`, `CancellationReasons`) or for an
attribute that reads as false either way, code no caller reaches, a pre-check the next rule
repeats or the fields of a placeholder no rule reads (`Conversations.remove`), a Query for
members the caller already has, a "Z" Python 3.11+ parses either way, and the size of the
window `reply_to` searches.
"""


def _mutation_tree(module: str, tests: tuple[str, ...]) -> Path:
    """A scratch copy of the code and tests in which mutmut runs for one module.

    mutmut names a mutant by the module path it derives from the file path, and recognises
    `src/` as a source root: the core is copied there (and, unmutated, to `functions/` for the
    data files the tests read), so `parley.auth` is the name both the tests and mutmut use.
    """
    tree = ROOT / ".cache" / "mutate" / module.removesuffix(".py").replace("/", ".")
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "functions", tree / "src", ignore=skip)
    shutil.copytree(ROOT / "functions", tree / "functions", ignore=skip)
    shutil.copytree(ROOT / "tasks", tree / "tasks", ignore=skip)
    shutil.copytree(ROOT / "tests", tree / "tests", ignore=skip)
    pytest_ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    ini = dict(pytest_ini["ini_options"], pythonpath=[".", "src"])
    settings = {
        "source_paths": ["src"],
        "only_mutate": [f"src/{module}"],
        "also_copy": ["functions", "tasks"],
        "pytest_add_cli_args_test_selection": list(tests),
        "use_git_change_detection": False,
    }

    def table(name: str, values: dict[str, object]) -> str:
        # JSON scalars and arrays of them are valid TOML values
        return f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())

    text = table("tool.mutmut", settings) + "\n" + table("tool.pytest.ini_options", ini)
    (tree / "pyproject.toml").write_text(text)
    return tree


@task(
    help={
        "only": "only the targets whose module path contains this text",
        "workers": "mutants tested at once (default: one per core)",
    }
)
def mutate(c: Context, only: str = "", workers: int = 0) -> None:
    """Mutation-test the modules in MUTATION_TARGETS against their tests (slow; not in test)."""
    targets = [(m, t) for m, t in MUTATION_TARGETS if only in m]
    if not targets:
        raise Exit(f"no mutation target matches {only!r}", code=1)
    mutmut = _venv_tool("mutmut")
    failed = []
    for module, tests in targets:
        if not (ROOT / "functions" / module).is_file():
            raise Exit(f"MUTATION_TARGETS: functions/{module} does not exist", code=1)
        print(f"── mutmut: functions/{module} against {' '.join(tests)}", flush=True)
        started = time.monotonic()
        tree = _mutation_tree(module, tests)
        with c.cd(str(tree)):
            run = c.run(
                f"{mutmut} run --max-children {workers or os.cpu_count() or 1}",
                warn=True,
                hide="out",  # a spinner per line; the summary follows
            )
            if run is None or not run.ok:
                print(run.stdout[-4000:] if run is not None else "", flush=True)
                failed.append(module)
                continue
            c.run(f"{mutmut} export-cicd-stats", hide="out")
            stats = json.loads((tree / "mutants" / "mutmut-cicd-stats.json").read_text())
            c.run(f"{mutmut} results")  # the mutants no test killed, by name
        tested = stats["total"] - stats["skipped"]
        caught = stats["killed"] + stats["timeout"]  # a mutant that hangs a test is caught too
        score = 100 * caught / tested if tested else 0.0
        print(
            f"functions/{module}: {caught} of {tested} mutants caught ({score:.1f}%; "
            f"{stats['timeout']} by a timeout); {stats['survived']} survived the tests and "
            f"{stats['no_tests']} reach no test; {time.monotonic() - started:.0f} s. "
            f"`cd {tree.relative_to(ROOT)} && mutmut show <name>` shows one.",
            flush=True,
        )
    if failed:
        raise Exit(f"mutmut failed for: {', '.join(failed)}", code=1)
