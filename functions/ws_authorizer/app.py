"""`ws_authorizer`: REQUEST authorizer of the WebSocket API's `$connect` route."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.auth import get_verifier
from parley.observability import lambda_handler
from parley.realtime.authorizer import authorize


@lambda_handler(correlation_id_path="requestContext.requestId", trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(event, get_verifier())
