"""The HTTP API: routes from the manifest, payload format 2.0 events, JWT authorizer, CORS,
stage throttling and one access-log line per request — API Gateway's behaviour, on loopback."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tasks.local.gateway.jwt_authorizer import JwtAuthorizer, Unauthorized, claims_for_event
from tasks.local.gateway.lambdas import FunctionError, LambdaRuntime
from tasks.local.gateway.settings import HTTP_PAYLOAD_LIMIT, GatewaySettings
from tasks.local.gateway.throttle import TokenBucket

access_log = logging.getLogger("parley.local.access")
log = logging.getLogger("parley.local.http")

_TEXT_TYPES = re.compile(
    r"^(text/|application/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded))", re.I
)


@dataclass(frozen=True)
class HttpRoute:
    """One route key of the API and the function behind it."""

    method: str
    path: str
    function: str
    auth: bool
    pattern: re.Pattern[str]

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @classmethod
    def build(cls, method: str, path: str, function: str, auth: bool) -> HttpRoute:
        regex = ""
        for part in re.split(r"(\{[^}]+\})", path):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        return cls(method, path, function, auth, re.compile(f"^{regex}$"))

    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers literal segments, then single variables, then greedy ones."""
        greedy = self.path.count("+}")
        variables = self.path.count("{") - greedy
        return (greedy, variables, 1 if self.method == "ANY" else 0)


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, dict(headers or {}), "application/json")


class HttpApi:
    """An ASGI app that answers like an API Gateway HTTP API (payload format 2.0)."""

    def __init__(
        self,
        routes: Sequence[HttpRoute],
        runtime: LambdaRuntime,
        authorizer: JwtAuthorizer | None,
        settings: GatewaySettings,
    ) -> None:
        self.routes = sorted(routes, key=HttpRoute.specificity)
        self.runtime = runtime
        self.authorizer = authorizer
        self.settings = settings
        self.bucket = TokenBucket(settings.http_throttle.rate, settings.http_throttle.burst)
        self.route_buckets = {
            key: TokenBucket(limit.rate, limit.burst)
            for key, limit in settings.route_throttles.items()
        }
        self.domain = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        started = time.monotonic()
        request_id = base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("=")
        entry: dict[str, Any] = {"requestId": request_id, "routeKey": "-", "error": None}
        response = await self._handle(request, request_id, entry)
        cors = self._cors_headers(request)
        for name, value in cors.items():
            response.headers[name] = value
        response.headers["apigw-requestid"] = request_id
        client = request.client
        access_log.info(
            "%s",
            json.dumps(
                {
                    "requestId": request_id,
                    "ip": client.host if client else "-",
                    "requestTime": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
                    "httpMethod": request.method,
                    "path": request.url.path,
                    "routeKey": entry["routeKey"],
                    "status": response.status_code,
                    "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
                    "responseLength": int(response.headers.get("content-length", 0)),
                    "integrationLatency": entry.get("integrationLatency"),
                    "latency": round((time.monotonic() - started) * 1000),
                    "error": entry["error"],
                }
            ),
        )
        await response(scope, receive, send)

    # -- the request path -------------------------------------------------------------------
    async def _handle(self, request: Request, request_id: str, entry: dict[str, Any]) -> Response:
        if not self.bucket.take():
            entry["error"] = "throttled"
            return _json(429, {"message": "Too Many Requests"})
        if self._is_preflight(request):
            entry["routeKey"] = "OPTIONS (CORS)"
            return Response(status_code=204)
        match = self._match(request)
        if match is None:
            return _json(404, {"message": "Not Found"})
        route, params = match
        entry["routeKey"] = route.key
        route_bucket = self.route_buckets.get(route.key)
        if route_bucket is not None and not route_bucket.take():
            entry["error"] = "throttled"
            return _json(429, {"message": "Too Many Requests"})
        claims: dict[str, Any] | None = None
        if route.auth:
            if self.authorizer is None:
                entry["error"] = "no authorizer configured"
                return _json(401, {"message": "Unauthorized"})
            try:
                claims = await asyncio.to_thread(
                    self.authorizer.authorize, request.headers.get("authorization")
                )
            except Unauthorized as exc:
                entry["error"] = f"authorizer: {exc}"
                return _json(
                    401,
                    {"message": "Unauthorized"},
                    {"www-authenticate": f'Bearer error="invalid_token" error_description="{exc}"'},
                )
        body = await request.body()
        if len(body) > HTTP_PAYLOAD_LIMIT:
            return _json(413, {"message": "Request Entity Too Large"})
        event = self.event(request, route, params, body, claims, request_id)
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(
                self.runtime.invoke(route.function, event, request_id),
                self.settings.integration_timeout,
            )
        except TimeoutError:
            entry["error"] = "integration timeout"
            return _json(503, {"message": "Service Unavailable"})
        except FunctionError as exc:
            entry["error"] = str(exc)
            return _json(500, {"message": "Internal Server Error"})
        finally:
            entry["integrationLatency"] = round((time.monotonic() - started) * 1000)
        try:
            return self.response(result)
        except (TypeError, ValueError, binascii.Error) as exc:
            entry["error"] = f"malformed integration response: {exc}"
            return _json(500, {"message": "Internal Server Error"})

    def _match(self, request: Request) -> tuple[HttpRoute, dict[str, str]] | None:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        for route in self.routes:
            if route.method not in (request.method, "ANY"):
                continue
            found = route.pattern.match(path)
            if found:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    # -- CORS ---------------------------------------------------------------------------------
    def _is_preflight(self, request: Request) -> bool:
        return (
            request.method == "OPTIONS"
            and bool(self.settings.cors.allow_origins)
            and "origin" in request.headers
            and "access-control-request-method" in request.headers
        )

    def _cors_headers(self, request: Request) -> dict[str, str]:
        cors = self.settings.cors
        origin = request.headers.get("origin")
        if not cors.allows(origin):
            return {}
        assert origin is not None
        headers = {"access-control-allow-origin": origin, "vary": "origin"}
        if cors.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        if self._is_preflight(request):
            headers["access-control-allow-methods"] = ",".join(cors.allow_methods)
            headers["access-control-allow-headers"] = ",".join(cors.allow_headers)
            headers["access-control-max-age"] = str(cors.max_age)
        elif cors.expose_headers:
            headers["access-control-expose-headers"] = ",".join(cors.expose_headers)
        return headers

    # -- payload format 2.0 -------------------------------------------------------------------
    def event(
        self,
        request: Request,
        route: HttpRoute,
        params: Mapping[str, str],
        body: bytes,
        claims: Mapping[str, Any] | None,
        request_id: str,
    ) -> dict[str, Any]:
        """The event API Gateway sends a Lambda integration with payload format 2.0."""
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for raw_name, raw_value in request.scope["headers"]:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            if name == "cookie":
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
                continue
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        query: dict[str, str] = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        now = datetime.now(UTC)
        client = request.client
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.key,
            "rawPath": request.url.path,
            "rawQueryString": raw_query,
            "headers": headers,
            "requestContext": {
                "accountId": self.settings.account_id,
                "apiId": self.settings.http_api_id,
                "domainName": headers.get("host", self.domain),
                "domainPrefix": headers.get("host", self.domain).split(".")[0],
                "http": {
                    "method": request.method,
                    "path": request.url.path,
                    "protocol": f"HTTP/{request.scope.get('http_version', '1.1')}",
                    "sourceIp": client.host if client else "127.0.0.1",
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": request_id,
                "routeKey": route.key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": False,
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = query
        if params:
            event["pathParameters"] = dict(params)
        if claims is not None:
            scope = claims.get("scope")
            event["requestContext"]["authorizer"] = {
                "jwt": {
                    "claims": claims_for_event(claims),
                    "scopes": scope.split() if isinstance(scope, str) else None,
                }
            }
        if body:
            text_type = _TEXT_TYPES.match(headers.get("content-type", "text/plain"))
            try:
                if not text_type:
                    raise UnicodeDecodeError("utf-8", body, 0, 1, "binary content type")
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        return event

    @staticmethod
    def response(result: Any) -> Response:
        """Turn a function's answer into the HTTP response, as payload format 2.0 defines."""
        if not isinstance(result, dict) or "statusCode" not in result:
            return _json(200, result)
        status = int(result["statusCode"])
        if not 100 <= status <= 599:
            raise ValueError(f"statusCode {status} out of range")
        raw = result.get("body")
        body: bytes
        if raw is None:
            body = b""
        elif result.get("isBase64Encoded"):
            body = base64.b64decode(str(raw), validate=True)
        else:
            body = str(raw).encode()
        response = Response(body, status)
        for name, value in (result.get("headers") or {}).items():
            response.headers[str(name).lower()] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.append(str(name).lower(), str(value))
        for cookie in result.get("cookies") or []:
            response.headers.append("set-cookie", str(cookie))
        return response


def routes_from_manifest(manifest: Any) -> list[HttpRoute]:
    """The API's routes: every `triggers.http` entry of the manifest."""
    return [
        HttpRoute.build(route.method, route.path, function.name, route.auth == "jwt")
        for route, function in manifest.http_routes()
    ]
