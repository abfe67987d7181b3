"""`share_api`: `GET /shared/{shareId}` — a shared conversation's snapshot, without sign-in.

The one route of the API that anyone may call (no authorizer: the manifest says `auth: none`),
so it runs as its own function with its own role: it may read share items (`SHARE#…` keys
only) and snapshot objects (`shares/…` only), and nothing else (`parley.shares.SharedReader`).
It answers the snapshot (200), 404 for an unknown link and 410 with the reason for one revoked,
expired or whose conversation was deleted. The route has its own throttle at the gateway.

Caching: a snapshot may be kept by the reader's browser but never used without asking again,
and by no shared cache (`private, no-cache`): a revoked link stops showing at the next load,
everywhere. Errors are not stored at all. `Referrer-Policy: no-referrer` and
`X-Robots-Tag: noindex` on every answer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from parley.errors import Gone, NotFound, to_reply
from parley.observability import lambda_handler
from parley.services import shared_reader

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ROUTE = "GET /shared/{shareId}"
SNAPSHOT_CACHE = "private, no-cache"
"""Never from a shared cache, and from a browser's only after asking again: a revoke is seen at
the next load."""
COMMON_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


def respond(event: dict[str, Any]) -> dict[str, Any]:
    request_id = str((event.get("requestContext") or {}).get("requestId", "unknown"))
    try:
        if event.get("routeKey") != ROUTE:
            raise NotFound("No such route")
        share_id = str((event.get("pathParameters") or {}).get("shareId", ""))
        body = shared_reader().read(share_id)
    except Exception as exc:  # noqa: BLE001 — every error has the HTTP API's shape (to_reply logs)
        reply = to_reply(exc, request_id)
        error: dict[str, Any] = {
            "code": reply.code,
            "message": reply.message,
            "requestId": request_id,
        }
        if isinstance(exc, Gone):
            error["reason"] = exc.reason
        return {
            "statusCode": reply.status,
            "headers": {
                **COMMON_HEADERS,
                **reply.headers,
                "Content-Type": "application/json",
                "Cache-Control": "no-store",
            },
            "body": json.dumps({"error": error}, separators=(",", ":")),
        }
    return {
        "statusCode": 200,
        "headers": {
            **COMMON_HEADERS,
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": SNAPSHOT_CACHE,
        },
        "body": body.decode(),
    }


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return respond(event)
