"""OpenAPI fragments shared by the routes: the error responses each route can give."""

from __future__ import annotations

from typing import Any

from parley.models import ErrorResponse, GatewayError

_DESCRIPTIONS = {
    400: "Malformed request (unreadable JSON, bad cursor)",
    401: "Missing or invalid token (`GatewayError` when the gateway's JWT authorizer refuses it)",
    403: "Not allowed for the caller's role",
    404: "No such resource for this user",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Request failed validation",
    429: "Daily token quota exceeded (see Retry-After)",
    500: "Internal error; `requestId` identifies it in the logs",
    502: "The assistant failed to answer; the user's message was saved",
    503: "The assistant or a dependency is unavailable; retry later",
}

COMMON = (400, 401, 413, 422, 500)


def errors(*statuses: int) -> dict[int, Any]:
    """Response documentation for these statuses plus the ones every route can give."""
    documented: dict[int, Any] = {}
    for status in sorted({*COMMON, *statuses}):
        # Behind the gateway's JWT authorizer, a refused token never reaches the function.
        model: Any = ErrorResponse | GatewayError if status == 401 else ErrorResponse
        documented[status] = {
            "description": _DESCRIPTIONS[status],
            "content": {"application/json": {"model": model}},
        }
    return documented


def ok(status: int, model: Any, description: str) -> dict[int, Any]:
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}
