"""Checks that run before Powertools validates a request: the token, then the body.

A caller without a valid token gets 401 and learns nothing about the request schema; a huge
body is refused before it is decoded or parsed; a body that is not UTF-8, or not declared as
JSON, is a 400 with a clear message (Powertools would answer 500, or parse a form).

Powertools puts its own request validation ahead of every user middleware when the resolver
has `enable_validation=True`. So `chat_api.app` builds the resolver without it and `install`
registers, through the public `app.use`, the guard followed by Powertools' public validation
middlewares: the same validation, in the order this API needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)

from chat_api.deps import authenticate
from chat_api.errors import COMPAT_PATH
from parley.errors import BadRequest, PayloadTooLarge

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

MAX_BODY_BYTES = 256 * 1024
"""A 32,000-character message is at most ~128 KB of JSON; anything larger is refused early."""
NOT_UTF8 = "Request body must be valid JSON encoded in UTF-8"
NOT_JSON = "Request body must be JSON, sent with Content-Type: application/json"


def guard(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    event = app.current_event
    compat = event.raw_path == COMPAT_PATH  # verifies its own token, reads its own body
    if not compat:
        app.append_context(identity=authenticate(event.headers))  # type: ignore[no-untyped-call]
    if event.body:
        check_body(event, json_only=not compat)
    return next_middleware(app)


def check_body(event: APIGatewayProxyEventV2, *, json_only: bool) -> None:
    # The gateway base64-encodes a body that is not UTF-8 text.
    limit = MAX_BODY_BYTES * (4 / 3 if event.is_base64_encoded else 1)
    if len(event.body or "") > limit:
        raise PayloadTooLarge(f"Request body must be at most {MAX_BODY_BYTES} bytes")
    try:
        event.decoded_body  # noqa: B018 — decoded once (cached) for validation and the route
    except ValueError:  # binascii.Error, UnicodeDecodeError
        raise BadRequest(NOT_UTF8) from None
    # What Powertools reads as JSON: no type, or one starting with application/json.
    content_type = event.headers.get("content-type", "").strip()
    if json_only and content_type and not content_type.startswith("application/json"):
        raise BadRequest(NOT_JSON)


def install(app: APIGatewayHttpResolver) -> None:
    """The guard, then Powertools' request validation, then its response validation (last, so
    it sees what the route returned). `app` must not have `enable_validation` (it would
    validate before the guard)."""
    app.use(
        [
            guard,
            OpenAPIRequestValidationMiddleware(),  # type: ignore[no-untyped-call]
            OpenAPIResponseValidationMiddleware(),
        ]
    )
