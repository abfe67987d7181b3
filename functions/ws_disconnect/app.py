"""`ws_disconnect`: `$disconnect` — forget the connection, update the rooms' presence."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import lambda_handler
from parley.realtime.connection import disconnect
from parley.services import presence


@lambda_handler(correlation_id_path="requestContext.requestId", trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return disconnect(event, presence())
