"""Logs of every function: Powertools JSON with the correlation id, core loggers included."""

from __future__ import annotations

import ast
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from tasks.core.manifest import ROOT, load_manifest
from tests.support.events import LambdaContext


def test_core_loggers_write_the_functions_json_with_its_correlation_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    from parley.observability import lambda_handler, logger

    @lambda_handler(correlation_id_path="requestContext.requestId")
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logging.getLogger("parley.replies").warning("something the core noticed")
        return {"statusCode": 200}

    out = io.StringIO()
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "the function's logger writes to a stream"
    saved = [h.setStream(out) for h in handlers]  # the core's loggers share these handlers
    try:
        handler({"requestContext": {"requestId": "req-42"}}, LambdaContext("ws_message"))
    finally:
        for h, stream in zip(handlers, saved, strict=True):
            h.setStream(stream)  # type: ignore[arg-type]

    lines = [json.loads(line) for line in out.getvalue().splitlines() if "noticed" in line]
    assert len(lines) == 1
    assert lines[0]["correlation_id"] == "req-42"
    assert lines[0]["name"] == "parley.replies"
    assert lines[0]["level"] == "WARNING"


@pytest.mark.parametrize("function", sorted(load_manifest().functions))
def test_every_handler_is_wrapped_by_the_one_observability_setup(function: str) -> None:
    """No handler builds its own Logger, Tracer or Metrics; each uses `lambda_handler`."""
    spec = load_manifest().functions[function]
    module = spec.handler.rsplit(".", 1)[0]
    source = Path(ROOT / "functions" / (module.replace(".", "/") + ".py")).read_text()
    tree = ast.parse(source)
    [handler] = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == spec.handler.rsplit(".", 1)[1]
    ]
    decorators = [ast.unparse(d) for d in handler.decorator_list]
    assert len(decorators) == 1, decorators
    assert decorators[0].startswith("lambda_handler("), decorators
    for own in ("Logger(", "Tracer(", "Metrics("):
        assert own not in source, f"{module} builds its own {own.rstrip('(')}"
