"""A loopback HTTP server that turns requests into payload-2.0 events for a Lambda handler.

Used where a real HTTP client must talk to the handler (schemathesis, benchmarks): the same
event shape API Gateway sends, without the gateway's own checks (that is the local stack's).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.api import route_key
from tests.support.events import LambdaContext, http_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LambdaHttpServer:
    def __init__(self, handler: Handler, function_name: str = "chat_api") -> None:
        lambda_handler = handler

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                event = http_event(
                    self.command,
                    url.path,
                    route=route_key(self.command, url.path),
                    raw_body=raw.decode("utf-8", errors="replace") if raw is not None else None,
                    headers=headers,
                    query=dict(parse_qsl(url.query, keep_blank_values=True)) or None,
                )
                event["rawQueryString"] = url.query
                result = lambda_handler(event, LambdaContext(function_name))
                body = result.get("body") or ""
                data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
                self.send_response(int(result["statusCode"]))
                for name, value in (result.get("headers") or {}).items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LambdaHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
