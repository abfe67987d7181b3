"""Reading API Gateway WebSocket events: who is calling, on which connection, with what body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.errors import Unauthorized

SUBPROTOCOL = "parley"
"""The WebSocket subprotocol a client offers beside its token, and `$connect` accepts."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The user behind a connection, as the `$connect` authorizer vouched for them."""

    connection_id: str
    user_id: str
    name: str
    email: str
    token_expires_at: int | None = None
    """When the token the connection was opened with expires (epoch seconds)."""
    groups: tuple[str, ...] = ()
    """The Cognito groups the token named (which catalog models they may use)."""


def caller(event: dict[str, Any]) -> Caller:
    """The caller of a WebSocket route event.

    API Gateway passes the authorizer's context on every route of the connection, so no route
    re-verifies the token; a missing context means the route is misconfigured, and is refused.
    """
    context = event.get("requestContext") or {}
    connection_id = context.get("connectionId")
    authorizer = context.get("authorizer") or {}
    user_id = authorizer.get("userId") or authorizer.get("principalId")
    if not connection_id or not user_id:
        raise Unauthorized("Not signed in")
    return Caller(
        connection_id=str(connection_id),
        user_id=str(user_id),
        name=str(authorizer.get("name") or "") or "Someone",
        email=str(authorizer.get("email") or ""),
        token_expires_at=_int_or_none(authorizer.get("tokenExpiresAt")),
        groups=tuple(str(authorizer.get("groups") or "").split()),
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        return None


def body(event: dict[str, Any]) -> str | None:
    """The frame's text (API Gateway closes a connection that sends a binary frame, with 1003,
    so a route only ever gets text)."""
    raw = event.get("body")
    return raw if isinstance(raw, str) else None
