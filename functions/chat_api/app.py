"""The HTTP API's one entry point: routers, error mapping, observability.

Every error leaves through `_error`: domain errors keep their status and safe message, request
validation becomes 422 (400 for unreadable JSON), anything else a 500 that shows only the
request id. `POST /chat` gets the same mapping in its compatible `{"error": …}` shape.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import (
    APIKey,
    APIKeyIn,
    HTTPBearer,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from chat_api.deps import CurrentUser, authenticate
from chat_api.docs import errors
from chat_api.routes import compat, conversations, me, members, messages
from parley.errors import BadRequest, ErrorReply, InvalidInput, NotFound, PayloadTooLarge, to_reply
from parley.models import ChatRequest

MAX_BODY_BYTES = 256 * 1024
"""A 32,000-character message is at most ~128 KB of JSON; anything larger is refused early."""

logger = Logger()
# The core logs through stdlib loggers under "parley": same JSON format and correlation id.
copy_config_to_registered_loggers(source_logger=logger, include={"parley"})
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)
app.configure_openapi(
    title="Parley HTTP API",
    version="1.0.0",
    summary="Conversations, messages, members, usage and the compatible POST /chat",
    security_schemes={
        "bearerAuth": HTTPBearer(bearerFormat="JWT", description="Cognito id or access token"),
        "idToken": APIKey(name="id_token", in_=APIKeyIn.header, description="Cognito id token"),
    },
    security=[{"bearerAuth": []}],
)
for module in (me, conversations, messages, members, compat):
    app.include_router(module.router)


class _AuthenticateThenValidate(OpenAPIRequestValidationMiddleware):
    """The token and the body size are checked before the request is validated: a caller
    without a valid token gets 401 and learns nothing about the request schema, and a huge body
    is refused before it is parsed. Powertools runs request validation ahead of every user
    middleware, hence this subclass in its place."""

    def handler(self, app: Any, next_middleware: Any) -> Any:
        event = app.current_event
        if event.raw_path != "/chat":  # verifies its own token, in its own shape
            app.append_context(identity=authenticate(event.headers))
        body = event.body
        if body is not None and len(body) > MAX_BODY_BYTES * (
            4 / 3 if event.is_base64_encoded else 1
        ):
            raise PayloadTooLarge(f"Request body must be at most {MAX_BODY_BYTES} bytes")
        return super().handler(app, next_middleware)


app._request_validation_middleware = _AuthenticateThenValidate()  # type: ignore[no-untyped-call]
app._response_validation_middleware = OpenAPIResponseValidationMiddleware(
    validation_serializer=app._serializer,
    has_response_validation_error=app._has_response_validation_error,
)


def _request_id() -> str:
    try:
        return str(app.current_event.request_context.request_id)
    except (AttributeError, KeyError, TypeError):
        return "unknown"


def _error(exc: Exception) -> Response[Any]:
    request_id = _request_id()
    reply = to_reply(exc, request_id)  # logs what the client must not see
    if _is_compat():
        body: dict[str, Any] = {"error": reply.message}
        if reply.status == 500:
            body["message"] = request_id
    else:
        body = {"error": {"code": reply.code, "message": reply.message, "requestId": request_id}}
    payload = json.dumps(body, separators=(",", ":"))
    return Response(reply.status, "application/json", payload, dict(reply.headers))


def _is_compat() -> bool:
    try:
        return bool(app.current_event.raw_path == "/chat")
    except (AttributeError, KeyError, TypeError):
        return False


def _validation_reply(exc: RequestValidationError) -> ErrorReply:
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return ErrorReply(400, "bad_request", "Request body must be valid JSON")
    parts = []
    for problem in problems[:5]:
        where = ".".join(str(x) for x in problem.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return ErrorReply(422, "validation_error", "; ".join(parts) or "Invalid request")


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def _on_validation(exc: RequestValidationError) -> Response[Any]:
    reply = _validation_reply(exc)
    error: Exception = (BadRequest if reply.status == 400 else InvalidInput)(reply.message)
    return _error(error)


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _on_error(exc: Exception) -> Response[Any]:
    return _error(exc)


@app.not_found
def _on_not_found(exc: Exception) -> Response[Any]:
    return _error(NotFound("No such route"))


@app.get(
    "/openapi.json",
    summary="This document",
    tags=["meta"],
    responses={200: {"description": "OpenAPI 3 document"}, **errors()},
)
def openapi_document(who: CurrentUser) -> Response[Any]:
    return Response(200, "application/json", openapi_json())


def openapi_json() -> str:
    """The generated document, with the compatible route's hand-parsed body described too."""
    schema = json.loads(app.get_openapi_json_schema())
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            # Powertools documents a body for `Response[None]`; a 204 has none.
            operation.get("responses", {}).get("204", {}).pop("content", None)
    operation = schema["paths"]["/chat"]["post"]
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}},
    }
    request_schema = ChatRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    request_schema["properties"]["prompt"].update({"minLength": 1, "maxLength": 32_000})
    schema.setdefault("components", {}).setdefault("schemas", {})["ChatRequest"] = request_schema
    return json.dumps(schema)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
