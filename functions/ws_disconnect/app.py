"""`ws_disconnect`: `$disconnect` — forget the connection, update the rooms' presence."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.realtime.connection import disconnect
from parley.realtime.metrics import metrics
from parley.realtime.runtime import rooms

logger = Logger()


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return disconnect(event, rooms())
