"""Call a Lambda HTTP handler in-process with API Gateway payload-2.0 events."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.events import LambdaContext, http_event


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str
    request_id: str = ""

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


def route_key(method: str, path: str) -> str:
    """The manifest route a concrete path matches (`/conversations/abc` → `/conversations/{id}`)."""
    parts = path.split("/")
    names = {2: "{id}", 4: "{userId}"}
    templated = [
        names[i] if i in names and len(parts) > i and parts[1] == "conversations" else part
        for i, part in enumerate(parts)
    ]
    return f"{method} {'/'.join(templated)}"


def call(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    method: str,
    path: str,
    *,
    function_name: str = "chat_api",
    **kwargs: Any,
) -> ApiResponse:
    """Invoke `handler` as API Gateway would and decode its payload-2.0 answer."""
    event = http_event(method, path, route=route_key(method, path), **kwargs)
    result = handler(event, LambdaContext(function_name))
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    request_id = event["requestContext"]["requestId"]
    return ApiResponse(int(result["statusCode"]), headers, body, request_id)
