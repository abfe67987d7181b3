"""One Lambda execution environment: a process that imports one handler and runs invocations.

The gateway starts one such process per concurrent invocation of a function, with exactly the
environment the manifest gives that function, so two functions never share settings, module
caches or Powertools state (a resolver keeps the current event on a module-level object, so even
two invocations of the same function must not overlap in one process — as in Lambda).

Protocol: the parent writes one JSON object per line on stdin
(`{"id", "event", "request_id", "deadline_ms"}`) and reads one JSON line per answer on the
original stdout (`{"id", "ok", "result"}` or `{"id", "ok": false, "error"}`); the handler's own
stdout is pointed at stderr first, so whatever it prints (its logs) never mixes with answers.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """The context object Lambda passes: what Powertools and handlers read."""

    def __init__(self, request_id: str, deadline_ms: int) -> None:
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{name}"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = f"local/[$LATEST]{os.getpid()}"
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    """The error document Lambda returns for an unhandled exception."""
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def main() -> int:
    handler_path = sys.argv[1]
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    # Anything the handler prints is a log line, never a protocol line.
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    module_name, _, function_name = handler_path.rpartition(".")
    handler: Any = None
    init_error: dict[str, Any] | None = None
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as exc:  # noqa: BLE001 - reported to every invocation, as Lambda does
        traceback.print_exc()
        init_error = _error(exc)
        init_error["errorType"] = "Runtime.ImportModuleError"
    answers.write(json.dumps({"ready": True, "init_error": init_error}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        answer: dict[str, Any] = {"id": request["id"]}
        if init_error is not None:
            answer.update(ok=False, error=init_error)
        else:
            context = LambdaContext(request["request_id"], request["deadline_ms"])
            try:
                answer.update(ok=True, result=handler(request["event"], context))
            except Exception as exc:  # noqa: BLE001 - an unhandled error is the invocation's result
                traceback.print_exc()
                answer.update(ok=False, error=_error(exc))
        try:
            answers.write(json.dumps(answer, default=str) + "\n")
        except (TypeError, ValueError) as exc:
            answers.write(json.dumps({"id": request["id"], "ok": False, "error": _error(exc)}))
            answers.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
