"""`python -m tasks.local.stack` as the browser tests and developers run it: the summary, the
ready file, logs, one signal stops everything, and clear errors instead of tracebacks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tasks.local.stack import DEMO_EMAIL

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def test_cli_starts_reports_and_stops_cleanly(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    logs = tmp_path / "logs"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tasks.local.stack",
            "--model",
            "scripted",
            "--ready-file",
            str(ready),
            "--log-dir",
            str(logs),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not ready.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the stack did not get ready"
            time.sleep(0.2)
        info = json.loads(ready.read_text())
        assert info["demoUser"]["email"] == DEMO_EMAIL
        app = httpx.get(info["appUrl"], timeout=30)
        assert app.status_code == 200
        assert (
            httpx.get(f"{info['appUrl']}/config.json", timeout=30).json()["wsUrl"] == info["wsUrl"]
        )
        unauthenticated = httpx.get(f"{info['httpApiUrl']}/me", timeout=30)
        assert unauthenticated.status_code == 401
        workers = _children(process.pid)
        assert workers, "function environments run as child processes"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Parley is running locally" in out
    assert info["appUrl"] in out
    assert "Ctrl-C" in out
    assert "Traceback" not in err
    assert not ready.exists(), "the ready file goes away with the stack"
    for pid in workers:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        )
    access = (logs / "access.log").read_text().splitlines()
    assert any(json.loads(line).get("status") == 401 for line in access)
    assert (logs / "functions.log").exists()


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tasks.local.stack",
                "--model",
                "scripted",
                "--http-port",
                str(port),
                "--log-dir",
                str(tmp_path),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert result.returncode == 1
    assert f"port {port} (HTTP API) is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_api_key_for_openai_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tasks.local.stack",
            "--model",
            "openai",
            "--log-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "OPENAI_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr
