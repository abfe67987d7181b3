"""What a function's cold start imports: no more than its requests use.

`$connect` and `$disconnect` never see a token (the WebSocket authorizer verified it before
`$connect`; `$disconnect` carries none), so their functions must start without PyJWT and
`cryptography`: a fresh interpreter with the manifest's environment imports each handler, as
Lambda's init does, and lists what it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.core.manifest import load_manifest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def loaded(function: str, packages: tuple[str, ...]) -> list[str]:
    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_REGION": "us-east-1"}
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


@pytest.mark.parametrize("function", ["ws_connect", "ws_disconnect"])
def test_the_socket_opens_and_closes_without_the_token_libraries(function: str) -> None:
    assert loaded(function, ("jwt", "cryptography")) == []


def test_the_probe_sees_what_a_handler_imports() -> None:
    # the authorizer verifies tokens: the same probe must find the libraries there
    assert loaded("ws_authorizer", ("jwt", "cryptography")) == ["cryptography", "jwt"]
