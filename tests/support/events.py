"""Sample events from tests/events/*.json and API Gateway HTTP API (payload 2.0) events."""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"


@cache
def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of tests/events/<name>.json."""
    return copy.deepcopy(_load(name))


def http_event(
    method: str,
    path: str,
    *,
    route: str | None = None,
    body: Any = None,
    raw_body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API payload-format-2.0 event as API Gateway sends it to the function.

    `claims` fills requestContext.authorizer.jwt.claims the way the gateway's JWT authorizer
    does (every value a string); `body` is JSON-encoded, `raw_body` is sent as is.
    """
    event = load_event("http_api_request")
    all_headers = {"content-type": "application/json"} if body is not None else {}
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    if isinstance(raw_body, bytes):
        raw_body = base64.b64encode(raw_body).decode() if base64_body else raw_body.decode("utf-8")
    elif raw_body is not None and base64_body:
        raw_body = base64.b64encode(raw_body.encode()).decode()
    now = time.time()
    event.update(
        {
            "routeKey": route or f"{method} {path}",
            "rawPath": path,
            "rawQueryString": urlencode(query or {}),
            "headers": all_headers,
            "isBase64Encoded": base64_body,
        }
    )
    if query:
        event["queryStringParameters"] = dict(query)
    else:
        event.pop("queryStringParameters", None)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    else:
        event.pop("pathParameters", None)
    if raw_body is not None:
        event["body"] = raw_body
    else:
        event.pop("body", None)
    context = event["requestContext"]
    context["http"]["method"] = method
    context["http"]["path"] = path
    context["requestId"] = uuid.uuid4().hex[:16]
    context["routeKey"] = event["routeKey"]
    context["timeEpoch"] = int(now * 1000)
    if claims is not None:
        context["authorizer"] = {
            "jwt": {"claims": {k: str(v) for k, v in claims.items()}, "scopes": None}
        }
    else:
        context.pop("authorizer", None)
    return event


class LambdaContext:
    """The attributes of the Lambda context object that Powertools and our handlers read."""

    function_name = "chat_api"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:chat_api"

    def __init__(self, function_name: str = "chat_api") -> None:
        self.function_name = function_name
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/27/[$LATEST]test"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000
