"""The local stack for the browser tests, with the scripted model steerable over HTTP.

    python -m tests.e2e.stack --ready-file PATH

Runs `LocalStack` (moto, the gateway emulator, the scripted model, the built web app) in this
process, plus a small control server on loopback so a browser test can script the next
answers: `POST /enqueue` with a JSON list of `Reply` fields (text, token_delay, status,
endless…), `POST /reset`. It also shows a user's WebSocket connections as the server keeps
them (`GET /connections?user=SUB`) and can make their tokens look expired to the server
(`POST /connections/expire {"user": SUB}`). The ready file is the stack's ready JSON plus
`controlUrl`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tasks.local.bootstrap import clients
from tasks.local.scripted_model import Reply
from tasks.local.stack import LocalStack, StackConfig

ROOT = Path(__file__).resolve().parents[2]
FIELDS = set(Reply.__dataclass_fields__)


class Connections:
    """A user's WebSocket connections in the stack's connections table, read and changed the
    way a test needs: the ids from the user's `USER#<sub> / CONNS` item, and each one's
    `CONN#<id> / META` item (gone once the connection has ended)."""

    def __init__(self, stack: LocalStack) -> None:
        resources = stack.resources
        self._dynamodb = clients(resources.endpoint_url, resources.region)[0]
        self._table = resources.connections_table

    def _ids(self, user: str) -> list[str]:
        item = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"USER#{user}"}, "sk": {"S": "CONNS"}},
            ConsistentRead=True,
        ).get("Item", {})
        return sorted(item.get("conns", {}).get("M", {}))

    def _meta(self, connection_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"CONN#{connection_id}"}, "sk": {"S": "META"}},
            ConsistentRead=True,
        ).get("Item")
        return item

    def of(self, user: str) -> list[dict[str, Any]]:
        """[{id, tokenExpiresAt}] for each connection the user has open."""
        found = []
        for connection_id in self._ids(user):
            meta = self._meta(connection_id)
            if meta is None:
                continue
            expires = meta.get("token_expires_at", {}).get("N")
            found.append(
                {"id": connection_id, "tokenExpiresAt": None if expires is None else int(expires)}
            )
        return found

    def expire(self, user: str) -> list[str]:
        """Make the tokens of the user's open connections look expired a minute ago."""
        past = int(time.time()) - 60
        expired = []
        for connection in self.of(user):
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"CONN#{connection['id']}"}, "sk": {"S": "META"}},
                UpdateExpression="SET token_expires_at = :past",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":past": {"N": str(past)}},
            )
            expired.append(connection["id"])
        return expired


def control_server(stack: LocalStack) -> ThreadingHTTPServer:
    """Loopback HTTP: POST /enqueue [{…Reply fields}], POST /reset, GET /requests,
    GET /connections?user=SUB, POST /connections/expire {"user": SUB}."""
    connections = Connections(stack)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/connections":
                user = parse_qs(url.query).get("user", [""])[0]
                if not user:
                    return self._answer(400, {"error": "GET /connections?user=SUB"})
                return self._answer(200, {"connections": connections.of(user)})
            if self.path != "/requests":
                return self._answer(404, {"error": "not found"})
            completions = stack.scripted_model.completions()
            self._answer(
                200, [{"body": r.body, "disconnected": r.disconnected} for r in completions]
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            if self.path == "/reset":
                stack.scripted_model.reset()
                return self._answer(200, {"ok": True})
            if self.path == "/connections/expire":
                user = body.get("user") if isinstance(body, dict) else None
                if not isinstance(user, str) or not user:
                    return self._answer(400, {"error": 'POST /connections/expire {"user": SUB}'})
                return self._answer(200, {"expired": connections.expire(user)})
            if self.path != "/enqueue" or not isinstance(body, list):
                return self._answer(400, {"error": "POST /enqueue with a list of replies"})
            replies = []
            for item in body:
                unknown = set(item) - FIELDS
                if unknown:
                    return self._answer(400, {"error": f"unknown fields {sorted(unknown)}"})
                if "chunks" in item and item["chunks"] is not None:
                    item["chunks"] = tuple(item["chunks"])
                replies.append(Reply(**item))
            stack.scripted_model.enqueue(*replies)
            self._answer(200, {"queued": len(replies)})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready-file", type=Path, required=True)
    # The browser suite's halves run side by side: each logs to its own folder.
    logs = ROOT / ".local" / "e2e-logs" / os.environ.get("PARLEY_E2E_OUTPUT", "default")
    parser.add_argument("--log-dir", type=Path, default=logs)
    args = parser.parse_args(argv)
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        print("error: frontend/dist is missing: run `invoke frontend-build`", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    args.log_dir.mkdir(parents=True, exist_ok=True)
    # Sign-up as an environment may limit it: every test's address is at example.com (newUser),
    # so only signup.spec.ts's refused one meets the rule.
    config = StackConfig(
        model="scripted",
        log_dir=args.log_dir,
        warm=True,
        signup_domains=("example.com",),
        signup_invites=True,
    )
    stack = LocalStack(config)
    try:
        info = stack.start()
        control = control_server(stack)
        info["controlUrl"] = f"http://127.0.0.1:{control.server_address[1]}"
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        tmp.replace(args.ready_file)
        print(json.dumps(info), flush=True)
        stop.wait()
        control.shutdown()
    finally:
        args.ready_file.unlink(missing_ok=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
