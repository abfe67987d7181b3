"""`export_worker`: one step of the export workflow per invocation, as Step Functions names it.

The event is the state's payload: `{"step": "plan" | "page" | "assemble" | "notify" | "fail",
"export": {...}, ...}` (`functions/workflows/export.asl.json`). A step that must not be retried
raises `ExportRefused`, which the state machine's retriers leave alone; anything else is retried
with backoff.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import lambda_handler
from parley.services import export_job


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return export_job().run(event)
