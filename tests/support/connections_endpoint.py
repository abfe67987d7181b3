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
