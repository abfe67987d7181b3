"""`python -m tasks.local.stack` as the browser tests and developers run it: the summary, the
ready file, logs, one signal stops everything, and clear errors instead of tracebacks."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from tasks.local.bootstrap import FAKE_CREDENTIALS
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


def _start_cli(ready: Path, logs: Path, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tasks.local.stack", "--model", "scripted"]
    command += ["--ready-file", str(ready), "--log-dir", str(logs), *extra]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_ready(process: subprocess.Popen[str], ready: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while not ready.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            code = process.returncode
            pytest.fail(f"the stack exited with {code}:\n{out[-2000:]}\n{err[-6000:]}")
        assert time.monotonic() < deadline, "the stack did not get ready"
        time.sleep(0.2)
    info: dict[str, Any] = json.loads(ready.read_text())
    return info


def _sign_up(info: dict[str, Any], email: str, password: str) -> str:
    """A new user, confirmed with the code the stack's mailbox page shows; their id token."""
    cognito = boto3.client(
        "cognito-idp", endpoint_url=info["cognitoEndpoint"], region_name=info["region"],
        **FAKE_CREDENTIALS,
    )  # fmt: skip
    client = info["clientId"]
    attributes = [{"Name": "email", "Value": email}]
    cognito.sign_up(ClientId=client, Username=email, Password=password, UserAttributes=attributes)
    page = httpx.get(info["mailboxUrl"], params={"to": email}, timeout=30).text
    code = re.search(r"Your verification code is (\d{6})\.", page)
    assert code, page
    cognito.confirm_sign_up(ClientId=client, Username=email, ConfirmationCode=code[1])
    auth = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return str(auth["AuthenticationResult"]["IdToken"])


def _warm(url: str, headers: dict[str, str]) -> None:
    """GET until the function answers: its first start may outlast the gateway's 30 s timeout
    on a loaded machine (a 503), and a POST retried after a timeout could be made twice."""
    deadline = time.monotonic() + 180
    while (answer := httpx.get(url, headers=headers, timeout=60)).status_code == 503:
        assert time.monotonic() < deadline, answer.text
    assert answer.status_code == 200, answer.text


def test_cli_starts_reports_and_stops_cleanly_and_keeps_its_data(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    logs = tmp_path / "logs"
    state = tmp_path / "state"
    process = _start_cli(ready, logs, "--state-dir", str(state))
    try:
        info = _wait_ready(process, ready)
        assert info["demoUser"]["email"] == DEMO_EMAIL
        assert info["data"] == {"stateDir": str(state), "restored": False, "fresh": False}
        app = httpx.get(info["appUrl"], timeout=30)
        assert app.status_code == 200
        config = httpx.get(f"{info['appUrl']}/config.json", timeout=30).json()
        assert config["wsUrl"] == info["wsUrl"]
        assert config["local"] == {"mailboxUrl": "/_local/mailbox", "demoModel": None}
        unauthenticated = httpx.get(f"{info['httpApiUrl']}/me", timeout=30)
        assert unauthenticated.status_code == 401
        workers = _children(process.pid)
        assert workers, "function environments run as child processes"
        # data made in this run: a user (confirmed from the mailbox) and a conversation
        token = _sign_up(info, "keep@example.com", "Keep-me-2026!")
        headers = {"Authorization": f"Bearer {token}"}
        _warm(f"{info['httpApiUrl']}/conversations", headers)
        created = httpx.post(
            f"{info['httpApiUrl']}/conversations", json={"title": "Kept"}, headers=headers,
            timeout=60,
        )  # fmt: skip
        assert created.status_code == 201, created.text
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err
    assert "Parley is running locally" in out
    assert info["appUrl"] in out
    assert f"mailbox      {info['appUrl']}/_local/mailbox" in out
    assert f"data         new; kept in {state} for the next run" in out
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

    # WHEN the stack starts again on the same state directory
    process = _start_cli(ready, logs, "--state-dir", str(state))
    try:
        info = _wait_ready(process, ready)
        # THEN the user, their session and their conversation are still there
        assert info["data"]["restored"] is True
        _warm(f"{info['httpApiUrl']}/conversations", headers)
        listed = httpx.get(f"{info['httpApiUrl']}/conversations", headers=headers, timeout=60)
        assert listed.status_code == 200, listed.text
        assert [c["title"] for c in listed.json()["items"]] == ["Kept"]
        page = httpx.get(info["mailboxUrl"], params={"to": "keep@example.com"}, timeout=30)
        assert "Your verification code is" in page.text
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err
    assert f"data         restored from the last run ({state})" in out


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
