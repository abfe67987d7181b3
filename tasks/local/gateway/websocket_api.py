"""The WebSocket API and its `@connections` management endpoint, as API Gateway runs them.

`$connect` goes through the REQUEST authorizer (identity source: the `Sec-WebSocket-Protocol`
header, where the app puts `parley, <token>`) on every connection — API Gateway caches only HTTP
API authorizers — then the `$connect` route; the subprotocol the client gets is the one the
`$connect` response names, as API Gateway does. Text messages are routed on
`$request.body.action`, else to `$default`; a binary frame closes the connection with 1003.
Functions answer clients only through `POST /@connections/{id}` (boto3's
`apigatewaymanagementapi` client, unchanged), which this same server answers — 410
GoneException for a connection that is no more.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fnmatch
import json
import logging
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from tasks.local.gateway.lambdas import FunctionError, LambdaRuntime
from tasks.local.gateway.settings import WS_POST_LIMIT, GatewaySettings
from tasks.local.gateway.throttle import TokenBucket

log = logging.getLogger("parley.local.websocket")
access_log = logging.getLogger("parley.local.access")

IDENTITY_HEADER = "sec-websocket-protocol"


def _canonical(name: str) -> str:
    """Header names as a browser sends them (`Sec-WebSocket-Protocol`); ASGI lower-cases them."""
    words = [w.capitalize() for w in name.split("-")]
    return "-".join("WebSocket" if w == "Websocket" else w for w in words)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _request_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _aws_error(status: int, kind: str, message: str) -> Response:
    return Response(
        json.dumps({"message": message}),
        status,
        {"x-amzn-errortype": kind, "content-type": "application/json"},
    )


@dataclass
class Connection:
    """A live client connection, as `GET /@connections/{id}` describes it."""

    id: str
    socket: WebSocket
    source_ip: str
    user_agent: str
    authorizer: dict[str, Any]
    connected_at: int = field(default_factory=_now_ms)
    last_active_at: int = field(default_factory=_now_ms)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False

    async def send(self, data: bytes) -> bool:
        """Send one frame; False when the client is gone."""
        async with self.lock:
            if self.closed or self.socket.application_state != WebSocketState.CONNECTED:
                return False
            try:
                try:
                    await self.socket.send_text(data.decode("utf-8"))
                except UnicodeDecodeError:
                    await self.socket.send_bytes(data)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.closed = True
                return False
        return True

    async def close(self, code: int, reason: str) -> None:
        """Close from the server side, after any frame being sent; nothing is sent after."""
        self.closed = True
        async with self.lock:
            with contextlib.suppress(RuntimeError, OSError):
                await self.socket.close(code=code, reason=reason)


class WebSocketApi:
    """An ASGI app: WebSocket connections on any path, `@connections` over HTTP."""

    def __init__(
        self,
        routes: Mapping[str, str],
        authorizer: str | None,
        runtime: LambdaRuntime,
        settings: GatewaySettings,
    ) -> None:
        self.routes = dict(routes)
        """Route key (`$connect`, `sendMessage`…) → function name."""
        self.authorizer = authorizer
        self.runtime = runtime
        self.settings = settings
        self.connections: dict[str, Connection] = {}
        self.bucket = TokenBucket(settings.ws_throttle.rate, settings.ws_throttle.burst)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.domain = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._serve_socket(WebSocket(scope, receive, send))
        elif scope["type"] == "http":
            response = await self._management(Request(scope, receive))
            await response(scope, receive, send)

    # -- events -------------------------------------------------------------------------------
    def _context(
        self, connection_id: str, route: str, kind: str, connected_at: int, **extra: Any
    ) -> dict[str, Any]:
        now = _now_ms()
        context: dict[str, Any] = {
            "routeKey": route,
            "eventType": kind,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.settings.stage,
            "connectedAt": connected_at,
            "requestTimeEpoch": now,
            "requestId": uuid.uuid4().hex[:16],
            "domainName": self.domain,
            "connectionId": connection_id,
            "apiId": self.settings.ws_api_id,
        }
        context.update(extra)
        return context

    @staticmethod
    def _headers(socket: WebSocket) -> tuple[dict[str, str], dict[str, list[str]]]:
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for raw_name, raw_value in socket.scope["headers"]:
            name = _canonical(raw_name.decode("latin-1"))
            value = raw_value.decode("latin-1")
            multi.setdefault(name, []).append(value)
            single[name] = ",".join(multi[name])
        return single, multi

    # -- the connection's life ----------------------------------------------------------------
    async def _serve_socket(self, socket: WebSocket) -> None:
        connection_id = base64.b64encode(secrets.token_bytes(9)).decode().replace("/", "_")
        connected_at = _now_ms()
        headers, multi = self._headers(socket)
        client = socket.client
        identity = {
            "sourceIp": client.host if client else "127.0.0.1",
            "userAgent": headers.get("User-Agent", ""),
        }
        if not self.bucket.take():
            await self._deny(socket, connection_id, 429, "throttled")
            return
        authorizer_context: dict[str, Any] = {}
        if self.authorizer is not None:
            status, authorizer_context = await self._authorize(
                socket, connection_id, connected_at, headers, multi, identity
            )
            if status != 200:
                await self._deny(socket, connection_id, status, "authorizer")
                return
        subprotocol: str | None = None
        if "$connect" in self.routes:
            event = {
                "headers": headers,
                "multiValueHeaders": multi,
                "requestContext": self._context(
                    connection_id,
                    "$connect",
                    "CONNECT",
                    connected_at,
                    identity=identity,
                    authorizer=authorizer_context or None,
                ),
                "isBase64Encoded": False,
            }
            status, response_headers = await self._connect(event)
            if not 200 <= status < 300:
                await self._deny(socket, connection_id, status, "$connect")
                return
            subprotocol = next(
                (v for k, v in response_headers.items() if k.lower() == IDENTITY_HEADER), None
            )
        connection = Connection(
            connection_id,
            socket,
            identity["sourceIp"],
            identity["userAgent"],
            authorizer_context,
            connected_at,
        )
        await socket.accept(subprotocol=subprotocol)
        self.connections[connection_id] = connection
        self._log(connection_id, "$connect", 200)
        close_code, reason = 1000, "Client closed"
        ends_at = time.monotonic() + self.settings.ws_max_duration
        try:
            while True:
                now = time.monotonic()
                wait = min(self.settings.ws_idle_timeout, ends_at - now)
                try:
                    message = await asyncio.wait_for(socket.receive(), timeout=max(wait, 0.0))
                except TimeoutError:
                    idle = ends_at - now > self.settings.ws_idle_timeout
                    close_code, reason = 1001, "Going away"
                    log.info("closing %s: %s", connection_id, "idle" if idle else "lifetime over")
                    await connection.close(close_code, reason)
                    break
                if message["type"] == "websocket.disconnect":
                    close_code = int(message.get("code") or 1005)
                    reason = str(message.get("reason") or "Client closed")
                    break
                data: str | None = message.get("text")
                if data is None:  # API Gateway accepts no binary frame from a client
                    close_code, reason = 1003, "Binary frames are not supported"
                    await connection.close(close_code, reason)
                    break
                if len(data.encode()) > self.settings.frame_limit:
                    close_code, reason = 1009, "Message too big"
                    await connection.close(close_code, reason)
                    break
                connection.last_active_at = _now_ms()
                self._spawn(self._route(connection, data))
        except WebSocketDisconnect as exc:
            close_code = exc.code
        finally:
            connection.closed = True
            self.connections.pop(connection_id, None)
            self._spawn(self._disconnect(connection, close_code, reason))

    async def _deny(self, socket: WebSocket, connection_id: str, status: int, why: str) -> None:
        message = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests"}.get(
            status, "Internal Server Error"
        )
        await socket.send_denial_response(
            Response(json.dumps({"message": message}), status, media_type="application/json")
        )
        self._log(connection_id, "$connect", status, why)

    async def _authorize(
        self,
        socket: WebSocket,
        connection_id: str,
        connected_at: int,
        headers: dict[str, str],
        multi: dict[str, list[str]],
        identity: dict[str, str],
    ) -> tuple[int, dict[str, Any]]:
        """Run the REQUEST authorizer: (status, context)."""
        assert self.authorizer is not None
        if not headers.get(_canonical(IDENTITY_HEADER)):
            return 401, {}
        s = self.settings
        method_arn = (
            f"arn:aws:execute-api:{s.region}:{s.account_id}:{s.ws_api_id}/{s.stage}/$connect"
        )
        event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            "headers": headers,
            "multiValueHeaders": multi,
            "queryStringParameters": dict(socket.query_params) or {},
            "multiValueQueryStringParameters": {
                k: socket.query_params.getlist(k) for k in socket.query_params
            },
            "stageVariables": {},
            "requestContext": self._context(
                connection_id, "$connect", "CONNECT", connected_at, identity=identity
            ),
        }
        try:
            policy = await self.runtime.invoke(self.authorizer, event)
        except FunctionError as exc:
            if exc.error.get("errorMessage") == "Unauthorized":
                return 401, {}
            log.warning("authorizer failed: %s", exc)
            return 500, {}
        allowed, context = self._evaluate(policy, method_arn)
        if allowed is None:
            return 500, {}
        return (200 if allowed else 403), context

    @staticmethod
    def _evaluate(policy: Any, method_arn: str) -> tuple[bool | None, dict[str, Any]]:
        """IAM evaluation of the returned policy for this method: explicit Deny wins."""
        if not isinstance(policy, dict) or not isinstance(policy.get("policyDocument"), dict):
            return None, {}
        statements = policy["policyDocument"].get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        allowed = False
        for statement in statements:
            actions = statement.get("Action", [])
            resources = statement.get("Resource", [])
            actions = [actions] if isinstance(actions, str) else actions
            resources = [resources] if isinstance(resources, str) else resources
            if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
                continue
            if not any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
                continue
            if statement.get("Effect") == "Deny":
                return False, {}
            if statement.get("Effect") == "Allow":
                allowed = True
        context = {
            k: v
            for k, v in (policy.get("context") or {}).items()
            if isinstance(v, str | int | float | bool)
        }
        context["principalId"] = str(policy.get("principalId", ""))
        return allowed, context

    async def _connect(self, event: dict[str, Any]) -> tuple[int, dict[str, str]]:
        try:
            result = await self.runtime.invoke(self.routes["$connect"], event)
        except FunctionError as exc:
            log.warning("$connect failed: %s", exc)
            return 500, {}
        if isinstance(result, dict) and "statusCode" in result:
            return int(result["statusCode"]), dict(result.get("headers") or {})
        return 200, {}

    async def _route(self, connection: Connection, text: str) -> None:
        """Route one message by `$request.body.action` (else `$default`) and invoke it."""
        if not self.bucket.take():
            await self._error(connection, "Too Many Requests")
            return
        route = "$default"
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        action = body.get("action") if isinstance(body, dict) else None
        if isinstance(action, str) and action in self.routes and not action.startswith("$"):
            route = action
        function = self.routes.get(route)
        request_id = uuid.uuid4().hex[:16]
        if function is None:
            await self._error(connection, "Forbidden", request_id)
            self._log(connection.id, route, 403)
            return
        event = {
            "requestContext": self._context(
                connection.id,
                route,
                "MESSAGE",
                connection.connected_at,
                messageId=uuid.uuid4().hex[:16],
                identity={"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                authorizer=connection.authorizer or None,
                requestId=request_id,
            ),
            "body": text,
            "isBase64Encoded": False,
        }
        started = time.monotonic()
        try:
            await self.runtime.invoke(function, event, request_id)
        except FunctionError as exc:
            log.warning("%s failed: %s", route, exc)
            await self._error(connection, "Internal server error", request_id)
            self._log(connection.id, route, 500, str(exc), started)
            return
        self._log(connection.id, route, 200, None, started)

    async def _error(self, connection: Connection, message: str, request_id: str = "") -> None:
        """The frame API Gateway itself sends when a message cannot be handled."""
        frame = {
            "message": message,
            "connectionId": connection.id,
            "requestId": request_id or uuid.uuid4().hex[:16],
        }
        await connection.send(json.dumps(frame).encode())

    async def _disconnect(self, connection: Connection, code: int, reason: str) -> None:
        function = self.routes.get("$disconnect")
        if function is None or self._closing:
            return  # the whole API is going away: nothing is left to clean up after
        event = {
            "headers": {"Host": self.domain},
            "multiValueHeaders": {"Host": [self.domain]},
            "requestContext": self._context(
                connection.id,
                "$disconnect",
                "DISCONNECT",
                connection.connected_at,
                disconnectStatusCode=code,
                disconnectReason=reason,
                identity={"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                authorizer=connection.authorizer or None,
            ),
            "isBase64Encoded": False,
        }
        try:
            await self.runtime.invoke(function, event)
            self._log(connection.id, "$disconnect", 200)
        except FunctionError as exc:
            log.warning("$disconnect failed: %s", exc)
            self._log(connection.id, "$disconnect", 500, str(exc))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("route invocation failed", exc_info=task.exception())

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for in-flight route invocations (tests and shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        self._closing = True
        for connection in list(self.connections.values()):
            await connection.close(1001, "Going away")
        await self.drain(timeout=10)

    def _log(
        self,
        connection_id: str,
        route: str,
        status: int,
        error: str | None = None,
        started: float | None = None,
    ) -> None:
        access_log.info(
            "%s",
            json.dumps(
                {
                    "api": "websocket",
                    "connectionId": connection_id,
                    "routeKey": route,
                    "status": status,
                    "requestTime": _request_time(_now_ms()),
                    "integrationLatency": None
                    if started is None
                    else round((time.monotonic() - started) * 1000),
                    "error": error,
                }
            ),
        )

    # -- @connections -------------------------------------------------------------------------
    async def _management(self, request: Request) -> Response:
        parts = [p for p in request.url.path.split("/") if p]
        if parts and parts[0] == self.settings.stage:
            parts = parts[1:]
        if len(parts) != 2 or parts[0] != "@connections":
            return _aws_error(404, "NotFoundException", "Not Found")
        connection_id = unquote(parts[1])
        connection = self.connections.get(connection_id)
        if connection is None or connection.closed:
            return _aws_error(410, "GoneException", f"connection {connection_id} is gone")
        if request.method == "POST":
            data = await request.body()
            if len(data) > WS_POST_LIMIT:
                return _aws_error(413, "PayloadTooLargeException", "Payload too large")
            if not await connection.send(data):
                return _aws_error(410, "GoneException", f"connection {connection_id} is gone")
            return Response(status_code=200)
        if request.method == "GET":
            return Response(
                json.dumps(
                    {
                        "connectedAt": _iso(connection.connected_at),
                        "identity": {
                            "sourceIp": connection.source_ip,
                            "userAgent": connection.user_agent,
                        },
                        "lastActiveAt": _iso(connection.last_active_at),
                    }
                ),
                200,
                media_type="application/json",
            )
        if request.method == "DELETE":
            self.connections.pop(connection_id, None)
            await connection.close(1000, "Deleted")
            return Response(status_code=204)
        return _aws_error(405, "MethodNotAllowed", "Method Not Allowed")


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
