"""A loopback stand-in for API Gateway's WebSocket ``@connections`` management API.

boto3's ``apigatewaymanagementapi`` client talks to it unchanged (``endpoint_url=server.url``):
``POST /<stage>/@connections/<id>`` records a frame, ``GET`` describes a connection and
``DELETE`` closes it. A connection can be marked gone (410 ``GoneException``, as AWS answers
for a client that has left), a latency can be added to every call, and frames larger than the
WebSocket frame limit are refused with 413 ``PayloadTooLargeException`` so tests catch oversize
events the way API Gateway would.

It can also record asynchronous Lambda invokes (``POST /2015-03-31/functions/<name>/invocations``)
so a test can point ``AWS_ENDPOINT_URL_LAMBDA`` at it and then run the invoked handler itself.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

FRAME_LIMIT = 32 * 1024
_CONNECTIONS = "/@connections/"
_INVOKE_PREFIX = "/2015-03-31/functions/"


@dataclass
class Invoke:
    """One recorded Lambda invoke."""

    function: str
    invocation_type: str
    payload: bytes

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class _State:
    latency: float = 0.0
    frame_limit: int = FRAME_LIMIT
    posts: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    gone: set[str] = field(default_factory=set)
    deleted: list[str] = field(default_factory=list)
    invokes: list[Invoke] = field(default_factory=list)
    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects
    disable_nagle_algorithm = True  # answer at once, as API Gateway does, not after an ACK
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read the recorded state, not access logs."""

    def _answer(self, status: int, body: dict[str, Any] | None = None, error: str = "") -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _connection_id(self) -> str | None:
        path = self.path.split("?", 1)[0]
        if _CONNECTIONS not in path:
            return None
        return unquote(path.split(_CONNECTIONS, 1)[1])

    def _enter(self) -> _State:
        state = self.server.state
        with state.lock:
            state.calls += 1
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        if state.latency:
            time.sleep(state.latency)
        return state

    def _leave(self, state: _State) -> None:
        with state.lock:
            state.in_flight -= 1
            state.changed.notify_all()

    def do_POST(self) -> None:
        body = self._body()
        if self.path.startswith(_INVOKE_PREFIX):
            self._invoke(body)
            return
        connection_id = self._connection_id()
        if connection_id is None:
            self._answer(404, {"message": "Not Found"})
            return
        state = self._enter()
        try:
            with state.lock:
                gone = connection_id in state.gone
            if gone:
                self._answer(410, {"message": None}, "GoneException")
            elif len(body) > state.frame_limit:
                self._answer(413, {"message": "Message too long"}, "PayloadTooLargeException")
            else:
                with state.lock:
                    state.posts[connection_id].append(body)
                self._answer(200)
        finally:
            self._leave(state)

    def do_GET(self) -> None:
        connection_id = self._connection_id()
        state = self._enter()
        try:
            with state.lock:
                gone = connection_id is None or connection_id in state.gone
            if gone:
                self._answer(410, {"message": None}, "GoneException")
            else:
                self._answer(200, {"identity": {"sourceIp": "127.0.0.1"}})
        finally:
            self._leave(state)

    def do_DELETE(self) -> None:
        connection_id = self._connection_id()
        state = self._enter()
        try:
            with state.lock:
                if connection_id is None or connection_id in state.gone:
                    self._answer(410, {"message": None}, "GoneException")
                    return
                state.gone.add(connection_id)
                state.deleted.append(connection_id)
            self._answer(204)
        finally:
            self._leave(state)

    def _invoke(self, body: bytes) -> None:
        name = unquote(self.path[len(_INVOKE_PREFIX) :].split("/", 1)[0])
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        state = self.server.state
        with state.lock:
            state.invokes.append(Invoke(name, kind, body))
            state.changed.notify_all()
        if kind == "Event":
            self._answer(202)
        else:
            self._answer(200, {})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a fan-out opens dozens of connections at once

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class ConnectionsEndpoint:
    """Emulates the management endpoint; use as a context manager or call start/stop."""

    def __init__(self, *, latency: float = 0.0, frame_limit: int = FRAME_LIMIT) -> None:
        self._state = _State(latency=latency, frame_limit=frame_limit)
        self._server = _Server(self._state)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> ConnectionsEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ConnectionsEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The value for ``WS_MANAGEMENT_ENDPOINT`` (API Gateway's shape: origin + stage)."""
        return f"{self.origin}/test"

    # control -----------------------------------------------------------------------------
    @property
    def latency(self) -> float:
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._state.latency = seconds

    def mark_gone(self, *connection_ids: str) -> None:
        """Answer 410 Gone for these connections from now on."""
        with self._state.lock:
            self._state.gone.update(connection_ids)

    def reset(self) -> None:
        """Forget recorded frames, invokes and counters (gone connections stay gone)."""
        with self._state.lock:
            self._state.posts.clear()
            self._state.invokes.clear()
            self._state.deleted.clear()
            self._state.calls = 0
            self._state.max_in_flight = 0

    # observation -------------------------------------------------------------------------
    @property
    def calls(self) -> int:
        return self._state.calls

    @property
    def max_in_flight(self) -> int:
        """The most management calls served at the same time (shows concurrency)."""
        return self._state.max_in_flight

    @property
    def deleted(self) -> list[str]:
        with self._state.lock:
            return list(self._state.deleted)

    def frames(self, connection_id: str) -> list[bytes]:
        with self._state.lock:
            return list(self._state.posts.get(connection_id, []))

    def events(self, connection_id: str) -> list[dict[str, Any]]:
        """The JSON events posted to one connection, in arrival order."""
        return [json.loads(frame) for frame in self.frames(connection_id)]

    def all_events(self) -> dict[str, list[dict[str, Any]]]:
        with self._state.lock:
            ids = list(self._state.posts)
        return {connection_id: self.events(connection_id) for connection_id in ids}

    def invokes(self) -> list[Invoke]:
        with self._state.lock:
            return list(self._state.invokes)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate()`` holds after some call, or the timeout passes."""
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.changed.wait(remaining)
        return True


# --- API Gateway WebSocket event shapes ------------------------------------------------------
# What API Gateway hands the functions of a WebSocket API, field for field (values made up):
# the REQUEST authorizer event on $connect, then CONNECT, MESSAGE and DISCONNECT route events
# that carry the authorizer's context.

API_ID = "a1b2c3d4e5"
STAGE = "test"
ACCOUNT = "123456789012"
REGION = "us-east-1"
DOMAIN = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
METHOD_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/$connect"


def _request_context(route: str, event_type: str, connection_id: str) -> dict[str, Any]:
    now = time.time()
    return {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": uuid.uuid4().hex[:16] + "=",
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": int(now * 1000) - 1000,
        "requestTimeEpoch": int(now * 1000),
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0 (X11; Linux x86_64)"},
        "requestId": uuid.uuid4().hex[:16] + "=",
        "domainName": DOMAIN,
        "connectionId": connection_id,
        "apiId": API_ID,
    }


def _handshake_headers(protocol: str | None) -> dict[str, str]:
    headers = {
        "Host": DOMAIN,
        "Origin": "https://app.example.com",
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "X-Amzn-Trace-Id": "Root=1-5f84c7a9-0e8a5d1c2b3a4f5e6d7c8b9a",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if protocol is not None:
        headers["Sec-WebSocket-Protocol"] = protocol
    return headers


def authorizer_event(connection_id: str, protocol: str | None) -> dict[str, Any]:
    """The REQUEST authorizer event of a `$connect` (identity source: Sec-WebSocket-Protocol)."""
    headers = _handshake_headers(protocol)
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "stageVariables": {},
        "requestContext": _request_context("$connect", "CONNECT", connection_id),
    }


def connect_event(connection_id: str, context: dict[str, Any], protocol: str) -> dict[str, Any]:
    headers = _handshake_headers(protocol)
    request_context = _request_context("$connect", "CONNECT", connection_id)
    request_context["authorizer"] = {**context, "integrationLatency": 12}
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": request_context,
        "isBase64Encoded": False,
    }


def message_event(
    connection_id: str, context: dict[str, Any], body: str, route: str = "$default"
) -> dict[str, Any]:
    request_context = _request_context(route, "MESSAGE", connection_id)
    request_context["messageId"] = uuid.uuid4().hex[:16] + "="
    request_context["authorizer"] = {**context, "integrationLatency": 0}
    return {"requestContext": request_context, "body": body, "isBase64Encoded": False}


def disconnect_event(connection_id: str, context: dict[str, Any]) -> dict[str, Any]:
    headers = {"Host": DOMAIN, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    request_context = _request_context("$disconnect", "DISCONNECT", connection_id)
    request_context.update({"disconnectStatusCode": 1001, "disconnectReason": "Going away"})
    request_context["authorizer"] = {**context, "integrationLatency": 0}
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": request_context,
        "isBase64Encoded": False,
    }


def route_of(body: str) -> str:
    """API Gateway's route selection `$request.body.action`; `$default` when nothing matches."""
    try:
        action = json.loads(body).get("action")
    except (ValueError, AttributeError):
        return "$default"
    routes = ("subscribe", "unsubscribe", "sendMessage", "retry", "typing", "stop")
    return action if action in routes else "$default"


# --- driving the real handlers like API Gateway does ------------------------------------------


class WsClient:
    """One browser connection, played through the real handlers with API Gateway's events.

    `connect` runs the authorizer, then `ws_connect` with the context it returned; `send`
    routes a frame by its `action` to `ws_message`; what the server posts back is read from
    the connections endpoint.
    """

    def __init__(self, endpoint: ConnectionsEndpoint, token: str | None) -> None:
        self.endpoint = endpoint
        self.token = token
        self.connection_id = uuid.uuid4().hex[:14] + "A="
        self.context: dict[str, Any] = {}

    def authorize(self, protocol: str | None = None) -> dict[str, Any]:
        from ws_authorizer.app import handler

        offered = protocol if protocol is not None else f"parley, {self.token}"
        return handler(authorizer_event(self.connection_id, offered), _context("ws_authorizer"))  # type: ignore[no-any-return]

    def connect(self) -> dict[str, Any]:
        from ws_connect.app import handler

        policy = self.authorize()
        statement = policy["policyDocument"]["Statement"][0]
        assert statement["Effect"] == "Allow", policy
        self.context = {"principalId": policy["principalId"], **policy["context"]}
        event = connect_event(self.connection_id, self.context, f"parley, {self.token}")
        return handler(event, _context("ws_connect"))  # type: ignore[no-any-return]

    def send_raw(self, body: str) -> dict[str, Any]:
        from ws_message.app import handler

        event = message_event(self.connection_id, self.context, body, route_of(body))
        return handler(event, _context("ws_message"))  # type: ignore[no-any-return]

    def send(self, action: str, **fields: Any) -> dict[str, Any]:
        return self.send_raw(json.dumps({"action": action, **fields}))

    def disconnect(self) -> dict[str, Any]:
        from ws_disconnect.app import handler

        return handler(
            disconnect_event(self.connection_id, self.context), _context("ws_disconnect")
        )  # type: ignore[no-any-return]

    def events(self, *types: str) -> list[dict[str, Any]]:
        """Events posted to this connection (of these types, if given), in order."""
        return [
            e for e in self.endpoint.events(self.connection_id) if not types or e["type"] in types
        ]

    def last(self, kind: str) -> dict[str, Any]:
        found = self.events(kind)
        assert found, f"no {kind} event among {[e['type'] for e in self.events()]}"
        return found[-1]


def _context(name: str) -> Any:
    from tests.support.events import LambdaContext

    return LambdaContext(name)


def run_worker(endpoint: ConnectionsEndpoint, invoke: Invoke) -> dict[str, Any]:
    """Run `bot_worker` on a recorded async invoke, as Lambda would."""
    from bot_worker.app import handler

    assert invoke.function == "bot_worker"
    assert invoke.invocation_type == "Event"
    return handler(invoke.json(), _context("bot_worker"))  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    """Serve in a process of its own (benchmarks: the far side must not share our GIL)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Loopback @connections endpoint")
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    with ConnectionsEndpoint(latency=args.latency) as endpoint:
        sys.stdout.write(json.dumps({"url": endpoint.url}) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # serve until the parent closes our stdin
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
