"""Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`) for boto3's client.

Handlers reach it through AWS_ENDPOINT_URL_LAMBDA, so `ws_message` async-invokes `bot_worker`
with the ordinary `lambda` client. `Event` answers 202 at once and runs with the function's
retry settings; `RequestResponse` answers 200 with the result, or the error document with
`X-Amz-Function-Error: Unhandled`, as Lambda does.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tasks.local.gateway.lambdas import FunctionError, LambdaRuntime

log = logging.getLogger("parley.local.lambda")
_PREFIX = "/2015-03-31/functions/"


def _error(status: int, kind: str, message: str) -> Response:
    return Response(
        json.dumps({"Type": "User", "message": message}),
        status,
        {"x-amzn-errortype": kind, "content-type": "application/json"},
    )


class LambdaApi:
    """An ASGI app serving the one Lambda API call the functions make."""

    def __init__(self, runtime: LambdaRuntime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self._handle(Request(scope, receive))
        await response(scope, receive, send)

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        if request.method != "POST" or not path.startswith(_PREFIX):
            return _error(404, "ResourceNotFoundException", "Unknown operation")
        name, _, rest = path[len(_PREFIX) :].partition("/")
        name = unquote(name)
        if rest != "invocations":
            return _error(404, "ResourceNotFoundException", "Unknown operation")
        pool = self.runtime.resolve(name)
        if pool is None:
            return _error(404, "ResourceNotFoundException", f"Function not found: {name}")
        raw = await request.body()
        try:
            payload: Any = json.loads(raw) if raw else {}
        except ValueError:
            return _error(400, "InvalidRequestContentException", "Could not parse request body")
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if kind == "DryRun":
            return Response(status_code=204)
        if kind == "Event":
            request_id = self.runtime.invoke_event(pool.spec.name, payload)
            return Response(status_code=202, headers={"x-amzn-requestid": request_id})
        if kind != "RequestResponse":
            return _error(400, "InvalidParameterValueException", f"bad invocation type {kind}")
        headers = {"x-amz-executed-version": "$LATEST", "content-type": "application/json"}
        try:
            result = await self.runtime.invoke(pool.spec.name, payload)
        except FunctionError as exc:
            headers["x-amz-function-error"] = "Unhandled"
            return Response(json.dumps(exc.error), 200, headers)
        return Response(json.dumps(result), 200, headers)
