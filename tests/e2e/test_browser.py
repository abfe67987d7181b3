"""Runs the Playwright browser suite (tests/e2e/*.spec.ts) as part of pytest, so `invoke test`
and `invoke test --suite e2e` include it.

The suite starts its own local stack (moto, gateway emulator, scripted model, the built app)
in its global setup and drives Debian's chromium; it needs frontend/node_modules and
/usr/bin/chromium, both installed by scripts/bootstrap. Off CI a missing one skips the suite;
on CI it fails, so a machine without them cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))

missing = [
    what
    for what, ok in (
        ("frontend/node_modules (npm ci --prefix frontend)", (FRONTEND / "node_modules").exists()),
        (f"{CHROMIUM} (apt-get install chromium)", CHROMIUM.exists()),
        ("npm", shutil.which("npm") is not None),
    )
    if not ok
]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(bool(missing) and not os.environ.get("CI"), reason=f"missing: {missing}")
def test_browser_suite() -> None:
    assert not missing, f"the browser suite needs: {', '.join(missing)}"
    # GIVEN the app as built from the current sources
    # (the bundle only: `invoke lint` type-checks the app, beside this suite)
    build = subprocess.run(
        ["npx", "vite", "build", "--logLevel", "error"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    # WHEN the Playwright suite runs against the local stack
    run = subprocess.run(
        ["npx", "playwright", "test"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        check=False,
    )
    print(run.stdout[-6000:])
    # THEN every browser test passed
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-3000:]
