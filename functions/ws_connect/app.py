"""`ws_connect`: `$connect` after the authorizer allowed it — record the connection."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import lambda_handler
from parley.realtime.connection import connect
from parley.services import connections_repository
from parley.store import get_store


@lambda_handler(correlation_id_path="requestContext.requestId", trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return connect(event, connections_repository(), get_store())
