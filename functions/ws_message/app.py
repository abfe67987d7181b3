"""`ws_message`: every client action (routes subscribe … stop, and `$default`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.errors import Unauthorized
from parley.realtime.events import body, caller
from parley.realtime.metrics import metrics
from parley.realtime.runtime import rooms

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        who = caller(event)
    except Unauthorized:
        return {"statusCode": 401}
    rooms().handle(who, body(event), context.aws_request_id)
    return {"statusCode": 200}
