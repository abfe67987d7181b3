"""The HTTP API's one entry point: routers, guard, error mapping, observability.

Routes live in `chat_api.routes` (one router per area); the token and the body's size and
encoding are checked before validation (`chat_api.guard`, which also installs Powertools'
validation, after itself); every error is shaped in `chat_api.errors`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from chat_api import errors, guard, openapi
from chat_api.deps import CurrentUser
from chat_api.docs import errors as error_docs
from chat_api.routes import (
    assistants,
    attachments,
    compat,
    conversations,
    exports,
    feedback,
    me,
    members,
    messages,
    models,
    search,
    shares,
)
from parley.observability import lambda_handler

# No `enable_validation`: Powertools would validate before the guard; `guard.install` adds it.
app = APIGatewayHttpResolver()
for module in (
    me,
    conversations,
    messages,
    feedback,
    members,
    attachments,
    exports,
    search,
    models,
    shares,
    assistants,
    compat,
):
    app.include_router(module.router)
guard.install(app)
errors.install(app)


def openapi_json() -> str:
    """The OpenAPI document (also what the frontend's API types are generated from)."""
    return openapi.document(app)


@app.get(
    "/openapi.json",
    summary="This document",
    tags=["meta"],
    responses={200: {"description": "OpenAPI 3 document"}, **error_docs()},
)
def openapi_document(who: CurrentUser) -> Response[Any]:
    return Response(200, "application/json", openapi_json())


# Lambda's active tracing (manifest `tracing: true`) still records every request's segment; the
# X-Ray SDK's per-call sub-segments are not worth its import on every cold start of the API
# (`invoke bench --only coldstart`: 2.77× `import boto3` with it).
@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
