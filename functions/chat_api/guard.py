"""Checks that run before Powertools validates a request: the token, then the body size.

A caller without a valid token gets 401 and learns nothing about the request schema; a huge
body is refused before it is parsed. Powertools runs request validation ahead of every user
middleware, so the guard takes the validation middleware's place and then validates.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)

from chat_api.deps import authenticate
from chat_api.errors import COMPAT_PATH
from parley.errors import PayloadTooLarge

MAX_BODY_BYTES = 256 * 1024
"""A 32,000-character message is at most ~128 KB of JSON; anything larger is refused early."""


class AuthenticateThenValidate(OpenAPIRequestValidationMiddleware):
    def handler(self, app: Any, next_middleware: Any) -> Any:
        event = app.current_event
        if event.raw_path != COMPAT_PATH:  # verifies its own token, in its own error shape
            app.append_context(identity=authenticate(event.headers))
        body = event.body
        limit = MAX_BODY_BYTES * (4 / 3 if event.is_base64_encoded else 1)
        if body is not None and len(body) > limit:
            raise PayloadTooLarge(f"Request body must be at most {MAX_BODY_BYTES} bytes")
        return super().handler(app, next_middleware)


def install(app: APIGatewayHttpResolver) -> None:
    """Put the guard where Powertools looks for its request validation middleware."""
    app._request_validation_middleware = AuthenticateThenValidate()  # type: ignore[no-untyped-call]
    app._response_validation_middleware = OpenAPIResponseValidationMiddleware(
        validation_serializer=app._serializer,
        has_response_validation_error=app._has_response_validation_error,
    )
