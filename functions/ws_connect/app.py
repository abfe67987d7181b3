"""`ws_connect`: `$connect` after the authorizer allowed it — record the connection."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.realtime.connection import connect
from parley.realtime.runtime import connections_repository

logger = Logger()


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return connect(event, connections_repository())
