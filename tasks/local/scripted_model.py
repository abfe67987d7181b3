"""A scripted OpenAI-compatible chat completions server for tests and the local stack.

It speaks the wire format the `openai` SDK expects (`POST /v1/chat/completions` streaming as SSE
or not, with `usage`; `GET /v1/models`), answers with programmable replies, injects faults
(slow tokens, 429, 500, a hang, a stream broken mid-way, a stream that never ends until the
client goes away) and records every request so tests can check what the product sent.

In-process:  `with ScriptedModel() as model: model.enqueue(Reply(text="hi")); model.base_url`
CLI:         `python -m tasks.local.scripted_model --port 0 --ready-file /tmp/model.json`
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MODEL_NAME = "scripted-model"
DEFAULT_TEXT = "Hello! I am the scripted assistant."


@dataclass(frozen=True)
class Reply:
    """One scripted answer, or one fault.

    status: an HTTP error status (429, 500…) answered with an OpenAI-style error body, with
        `error_code` as its `code` (OpenAI's `context_length_exceeded`, for one).
    hang: seconds to wait before anything is sent (longer than the client timeout = timeout).
    token_delay: seconds between streamed chunks.
    break_after: close the connection after this many chunks (a broken stream).
    endless: keep streaming until the client disconnects (for stop/cancel tests).
    pause_after: hold the stream after this many chunks until `resume` is set (a test acts
        while a reply is surely mid-way, whatever the machine's speed).
    """

    text: str = DEFAULT_TEXT
    chunks: tuple[str, ...] | None = None
    status: int = 200
    error_message: str = "scripted failure"
    error_code: str | None = None
    retry_after: int | None = None
    hang: float = 0.0
    token_delay: float = 0.0
    break_after: int | None = None
    endless: bool = False
    prompt_tokens: int | None = None
    finish_reason: str = "stop"
    pause_after: int | None = None
    resume: threading.Event | None = field(default=None, compare=False)

    def pieces(self) -> list[str]:
        """The reply split into stream chunks: given ones, else word by word."""
        if self.chunks is not None:
            return list(self.chunks)
        words = self.text.split(" ")
        return [w if i == 0 else " " + w for i, w in enumerate(words)]


@dataclass
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    at: float = field(default_factory=time.time)
    disconnected: bool = False


def count_tokens(body: dict[str, Any]) -> int:
    """A deterministic stand-in for a tokenizer: words of every message."""
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            total += len(content.split()) + 4
    return total


class ScriptedModel:
    """The server; replies are taken from a queue, then the default reply is used."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, default: Reply | None = None
    ) -> None:
        self.default = default or Reply()
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The value for MODEL_BASE_URL (the openai SDK appends /chat/completions)."""
        return f"{self.url}/v1"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def reset(self, default: Reply | None = None) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.default = default or Reply()

    def completions(self) -> list[RecordedRequest]:
        """The chat completion requests received so far."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def next_reply(self) -> Reply:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> ScriptedModel:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="scripted-model", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def __enter__(self) -> ScriptedModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    """Request headers with lower-case names, as HTTP/2 and most servers present them."""
    return {name.lower(): value for name, value in handler.headers.items()}


def _make_handler(model: ScriptedModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ScriptedModel/1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `model.requests` instead of the access log."""

        # -- helpers ---------------------------------------------------------------------
        def _json(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _read_body(self) -> dict[str, Any] | None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return None
            try:
                body = json.loads(raw)
            except ValueError:
                return None
            return body if isinstance(body, dict) else None

        def _wait(self, seconds: float) -> None:
            model.stopping.wait(seconds)

        # -- routes ----------------------------------------------------------------------
        def do_GET(self) -> None:
            model.record(RecordedRequest("GET", self.path, _headers(self), None))
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                self._json(
                    200,
                    {
                        "object": "list",
                        "data": [
                            {
                                "id": MODEL_NAME,
                                "object": "model",
                                "created": 0,
                                "owned_by": "parley",
                            }
                        ],
                    },
                )
            elif self.path in ("/health", "/"):
                self._json(200, {"status": "ok"})
            else:
                self._json(
                    404, {"error": {"message": "not found", "type": "invalid_request_error"}}
                )

        def do_POST(self) -> None:
            body = self._read_body()
            recorded = RecordedRequest("POST", self.path, _headers(self), body)
            model.record(recorded)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(
                    404, {"error": {"message": "not found", "type": "invalid_request_error"}}
                )
                return
            if body is None or not isinstance(body.get("messages"), list):
                self._json(
                    400,
                    {"error": {"message": "messages is required", "type": "invalid_request_error"}},
                )
                return
            reply = model.next_reply()
            if reply.hang:
                self._wait(reply.hang)
            if reply.status != 200:
                headers = {"Retry-After": str(reply.retry_after)} if reply.retry_after else {}
                self._json(
                    reply.status,
                    {
                        "error": {
                            "message": reply.error_message,
                            "type": "server_error"
                            if reply.status >= 500
                            else "invalid_request_error",
                            "code": reply.error_code,
                        }
                    },
                    headers,
                )
                return
            prompt_tokens = (
                reply.prompt_tokens if reply.prompt_tokens is not None else count_tokens(body)
            )
            try:
                if body.get("stream"):
                    self._stream(body, reply, prompt_tokens)
                else:
                    self._complete(body, reply, prompt_tokens)
            except (BrokenPipeError, ConnectionResetError):
                recorded.disconnected = True

        def _complete(self, body: dict[str, Any], reply: Reply, prompt_tokens: int) -> None:
            pieces = reply.pieces()
            if reply.break_after is not None:
                # A truncated body, then the connection goes away.
                data = b'{"id": "chatcmpl-broken", "choices": [{"message": {"con'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data) + 100))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                self.close_connection = True
                return
            if reply.token_delay:
                self._wait(reply.token_delay * len(pieces))
            self._json(
                200,
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model") or MODEL_NAME,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(pieces)},
                            "finish_reason": reply.finish_reason,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": len(pieces),
                        "total_tokens": prompt_tokens + len(pieces),
                    },
                },
            )

        def _stream(self, body: dict[str, Any], reply: Reply, prompt_tokens: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            ident = f"chatcmpl-{uuid.uuid4().hex}"
            created = int(time.time())
            name = body.get("model") or MODEL_NAME

            def chunk(delta: dict[str, Any], finish: str | None = None) -> None:
                payload = {
                    "id": ident,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": name,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

            chunk({"role": "assistant", "content": ""})
            sent = 0
            pieces = reply.pieces()
            index = 0
            while reply.endless or index < len(pieces):
                if model.stopping.is_set():
                    return
                if reply.break_after is not None and sent >= reply.break_after:
                    # Broken mid-way: the connection closes without a finish or [DONE].
                    return
                if sent == reply.pause_after and reply.resume is not None:
                    while not reply.resume.wait(0.05):
                        if model.stopping.is_set():
                            return
                piece = pieces[index % len(pieces)] if pieces else "…"
                chunk({"content": piece})
                sent += 1
                index += 1
                if reply.token_delay or reply.endless:
                    self._wait(reply.token_delay or 0.02)
            chunk({}, reply.finish_reason)
            if (body.get("stream_options") or {}).get("include_usage"):
                usage: dict[str, Any] = {
                    "id": ident,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": name,
                    "choices": [],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": sent,
                        "total_tokens": prompt_tokens + sent,
                    },
                }
                self.wfile.write(f"data: {json.dumps(usage)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def main(argv: list[str] | None = None) -> int:
    """CLI: serve until interrupted; print (and optionally write) `{"url", "baseUrl"}`."""
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible model server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", default=DEFAULT_TEXT, help="the text every answer streams")
    parser.add_argument("--token-delay", type=float, default=0.03)
    parser.add_argument("--ready-file", type=Path)
    args = parser.parse_args(argv)
    model = ScriptedModel(
        args.host, args.port, Reply(text=args.reply, token_delay=args.token_delay)
    )
    model.start()
    ready = json.dumps({"url": model.url, "baseUrl": model.base_url})
    if args.ready_file:
        args.ready_file.write_text(ready + "\n", encoding="utf-8")
    sys.stdout.write(ready + "\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        model.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
