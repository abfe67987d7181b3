"""Runs the Playwright browser suite (tests/e2e/*.spec.ts) as part of pytest, so `invoke test`
and `invoke test --suite e2e` include it: in two halves (`test_browser_1.py`,
`test_browser_2.py`, Playwright's `--shard`), each with its own local stack, so pytest's workers
run them side by side instead of one worker carrying every spec.

Each half starts its own local stack (moto, gateway emulator, scripted model, the built app)
in its global setup and drives Debian's chromium; it needs frontend/node_modules and
/usr/bin/chromium, both installed by scripts/bootstrap. Off CI a missing one skips the suite;
on CI it fails, so a machine without them cannot pass silently.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SHARDS = 2

missing = [
    what
    for what, ok in (
        ("frontend/node_modules (npm ci --prefix frontend)", (FRONTEND / "node_modules").exists()),
        (f"{CHROMIUM} (apt-get install chromium)", CHROMIUM.exists()),
        ("npm", shutil.which("npm") is not None),
    )
    if not ok
]

needs_browser = pytest.mark.skipif(
    bool(missing) and not os.environ.get("CI"), reason=f"missing: {missing}"
)
_built_here = False


def build_app_once() -> None:
    """`vite build` once per test run, by whichever half gets here first.

    pytest-xdist's workers share the run's id; a plain `pytest` run builds once per process.
    """
    global _built_here
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    marker = Path(tempfile.gettempdir()) / f"parley-e2e-built-{run}" if run else None
    with (Path(tempfile.gettempdir()) / "parley-e2e-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _built_here or (marker is not None and marker.exists()):
            return
        build = subprocess.run(
            ["npx", "vite", "build", "--logLevel", "error"],
            cwd=FRONTEND,
            capture_output=True,
            text=True,
            check=False,
        )
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        _built_here = True
        if marker is not None:
            marker.touch()


def run_shard(shard: int) -> None:
    assert not missing, f"the browser suite needs: {', '.join(missing)}"
    # GIVEN the app as built from the current sources
    # (the bundle only: `invoke lint` type-checks the app, beside this suite)
    build_app_once()
    # WHEN this half of the Playwright suite runs against its own local stack
    run = subprocess.run(
        ["npx", "playwright", "test", f"--shard={shard}/{SHARDS}"],
        cwd=FRONTEND,
        # Its own artifact folder: Playwright empties it at start, so halves must not share one.
        env={**os.environ, "PARLEY_E2E_OUTPUT": f"shard-{shard}"},
        capture_output=True,
        text=True,
        check=False,
    )
    print(run.stdout[-6000:])
    # THEN every browser test of it passed
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-3000:]
