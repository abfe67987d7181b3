"""Where every error of the HTTP API is shaped: one mapping (`parley.errors.to_reply`), two
shapes — the contract's `{"error": {code, message, requestId}}` and, on `POST /chat`, the
compatible `{"error": "…"}` (with `"message": <request id>` on a 500)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from parley.errors import BadRequest, InvalidInput, NotFound, ParleyError, to_reply

COMPAT_PATH = "/chat"


def validation_error(exc: RequestValidationError) -> ParleyError:
    """400 for an unreadable body, else 422 naming the first few fields and what is wrong."""
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return BadRequest("Request body must be valid JSON")
    parts = []
    for problem in problems[:5]:
        where = ".".join(str(x) for x in problem.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return InvalidInput("; ".join(parts) or "Invalid request")


def install(app: APIGatewayHttpResolver) -> None:
    """Register the exception and not-found handlers on `app`."""

    def event_field(read: Any, default: str) -> str:
        try:
            return str(read())
        except (AttributeError, KeyError, TypeError):
            return default

    def respond(exc: Exception) -> Response[Any]:
        request_id = event_field(lambda: app.current_event.request_context.request_id, "unknown")
        reply = to_reply(exc, request_id)  # logs what the client must not see
        body: dict[str, Any]
        if event_field(lambda: app.current_event.raw_path, "") == COMPAT_PATH:
            body = {"error": reply.message}
            if reply.status == 500:
                body["message"] = request_id
        else:
            body = {
                "error": {"code": reply.code, "message": reply.message, "requestId": request_id}
            }
        payload = json.dumps(body, separators=(",", ":"))
        return Response(reply.status, "application/json", payload, dict(reply.headers))

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def on_validation(exc: RequestValidationError) -> Response[Any]:
        return respond(validation_error(exc))

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def on_error(exc: Exception) -> Response[Any]:
        return respond(exc)

    @app.not_found
    def on_not_found(exc: Exception) -> Response[Any]:
        return respond(NotFound("No such route"))
