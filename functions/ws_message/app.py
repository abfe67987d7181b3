"""`ws_message`: every client action (routes subscribe … stop, and `$default`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.errors import Unauthorized
from parley.observability import lambda_handler
from parley.realtime.events import body, caller
from parley.services import rooms


# Like chat_api, the realtime path leaves per-call sub-segments to Lambda's active tracing: the
# X-Ray SDK would cost every cold start of a sendMessage or subscribe ~180 ms of imports.
@lambda_handler(correlation_id_path="requestContext.requestId", trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        who = caller(event)
    except Unauthorized:
        return {"statusCode": 401}
    rooms().handle(who, body(event), context.aws_request_id)
    return {"statusCode": 200}
