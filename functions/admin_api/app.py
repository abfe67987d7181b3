"""`admin_api`: the admin console's HTTP routes, `/admin/*`, for members of the `admins` group.

Every request passes one guard before anything else (validation included): the token is
verified (`parley.auth`), a disabled account is refused (`parley.gate`, 401) and so is anyone
whose verified token does not carry `parley:role` = `admin` (403). The routes are in
`admin_api.routes`; errors have the HTTP API's shape (`parley.errors.to_reply`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from admin_api import routes
from parley.auth import Identity, bearer_token, get_verifier
from parley.errors import BadRequest, InvalidInput, NotFound, ParleyError, PayloadTooLarge, to_reply
from parley.gate import account_gate, require_admin
from parley.observability import lambda_handler

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
    from aws_lambda_powertools.utilities.typing import LambdaContext

MAX_BODY_BYTES = 4096
"""The largest admin request is a quota override: a few dozen bytes."""


def admin(headers: dict[str, str]) -> Identity:
    """The caller, if they may use the console: verified, not disabled, an admin."""
    who = get_verifier().verify(bearer_token(headers.get("authorization")))
    account_gate().check(who.sub)
    return require_admin(who)


def guard(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    event = app.current_event
    app.append_context(admin=admin(event.headers))  # type: ignore[no-untyped-call]
    if len(event.body or "") > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Request body must be at most {MAX_BODY_BYTES} bytes")
    content_type = event.headers.get("content-type", "").strip()
    if event.body and content_type and not content_type.startswith("application/json"):
        raise BadRequest("Request body must be JSON, sent with Content-Type: application/json")
    return next_middleware(app)


app = APIGatewayHttpResolver()
app.include_router(routes.router)
app.use(
    [
        guard,
        OpenAPIRequestValidationMiddleware(),  # type: ignore[no-untyped-call]
        OpenAPIResponseValidationMiddleware(),
    ]
)


def _validation_error(exc: RequestValidationError) -> ParleyError:
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return BadRequest("Request body must be valid JSON")
    parts = []
    for problem in problems[:5]:
        where = ".".join(str(x) for x in problem.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return InvalidInput("; ".join(parts) or "Invalid request")


def _respond(exc: Exception) -> Response[Any]:
    try:
        request_id = str(app.current_event.request_context.request_id)
    except (AttributeError, KeyError, TypeError):
        request_id = "unknown"
    reply = to_reply(exc, request_id)
    body = {"error": {"code": reply.code, "message": reply.message, "requestId": request_id}}
    return Response(
        reply.status,
        "application/json",
        json.dumps(body, separators=(",", ":")),
        dict(reply.headers),
    )


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def on_validation(exc: RequestValidationError) -> Response[Any]:
    return _respond(_validation_error(exc))


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def on_error(exc: Exception) -> Response[Any]:
    return _respond(exc)


@app.not_found
def on_not_found(exc: Exception) -> Response[Any]:
    return _respond(NotFound("No such route"))


def openapi_json() -> str:
    """The console's OpenAPI document (the app's admin types are generated from it)."""
    return app.get_openapi_json_schema(title="Parley admin API", version="1")


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
