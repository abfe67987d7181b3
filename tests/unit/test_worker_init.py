"""`bot_worker` builds at init what its first reply would otherwise build.

Lambda runs an on-demand function's init on a full vCPU and its invocations on memory/1,769 of
one, so set-up left to the first reply delays a new environment's first token several times
longer than the same work at init (`invoke bench --only cost` measures both).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

PROBE = """
import json, sys
import bot_worker.app
from parley import services
from parley.bots import secrets
print(json.dumps({
    "writer": services.sharded_reply_writer.cache_info().currsize,
    "parameters": secrets.parameters.cache_info().currsize,
    "modules": [m for m in ("openai", "parley.bots.openai", "parley.bots.bedrock")
                if m in sys.modules],
}))
"""


def test_the_handlers_import_builds_the_writer_and_imports_every_provider() -> None:
    env = {
        **os.environ,
        "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "bot_worker",
        "CHAT_TABLE_NAME": "parley-test-chat",
        "CONNECTIONS_TABLE_NAME": "parley-test-connections",
        "WS_MANAGEMENT_ENDPOINT": "https://ws.example.com/prod",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=FUNCTIONS,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    built = json.loads(done.stdout.strip().splitlines()[-1])
    assert built == {
        "writer": 1,
        "parameters": 1,
        "modules": ["openai", "parley.bots.openai", "parley.bots.bedrock"],
    }
