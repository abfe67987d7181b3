"""A local API Gateway: HTTP API, WebSocket API (+ @connections) and Lambda's Invoke API.

Routes come from `functions/manifest.yaml`; every handler runs unchanged in its own execution
environment (see `lambdas.py`). `LocalGateway` binds the three servers, resolves the manifest
refs that depend on them, and serves until stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tasks.core.manifest import Manifest
from tasks.local.gateway.http_api import HttpApi, routes_from_manifest
from tasks.local.gateway.jwt_authorizer import JwtAuthorizer
from tasks.local.gateway.lambda_api import LambdaApi
from tasks.local.gateway.lambdas import DeadLetter, LambdaRuntime
from tasks.local.gateway.settings import GatewaySettings, function_specs
from tasks.local.gateway.sweeper import sweep_forever
from tasks.local.gateway.websocket_api import WebSocketApi
from tasks.local.servers import AsgiServer, bind, port_of

__all__ = ["Endpoints", "GatewaySettings", "JwtConfig", "LocalGateway"]


Listen = int | socket.socket
"""Where a server listens: a port to bind (0: a free one) or a socket bound already."""


def _listen(host: str, where: Listen, what: str) -> socket.socket:
    return where if isinstance(where, socket.socket) else bind(host, where, what)


@dataclass(frozen=True)
class JwtConfig:
    """The HTTP API's JWT authorizer: the pool's issuer, its app client, where its keys are."""

    issuer: str
    audiences: tuple[str, ...]
    jwks_url: str


@dataclass(frozen=True)
class Endpoints:
    http_url: str
    ws_url: str
    management_url: str
    lambda_url: str


class LocalGateway:
    """The three APIs in the current event loop: `await start()`, then `await stop()`."""

    def __init__(
        self,
        manifest: Manifest,
        refs: Mapping[str, str],
        env: Mapping[str, str],
        settings: GatewaySettings | None = None,
        *,
        jwt: JwtConfig | None = None,
        sweep: tuple[Any, str] | None = None,
        dead_letter: DeadLetter | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.manifest = manifest
        self.settings = settings or GatewaySettings()
        self._refs = dict(refs)
        self._env = dict(env)
        self._jwt = jwt
        self._sweep = sweep
        self._dead_letter = dead_letter
        self._host = host
        self._servers: list[AsgiServer] = []
        self._sweeper: asyncio.Task[None] | None = None
        self.runtime: LambdaRuntime | None = None
        self.http: HttpApi | None = None
        self.websocket: WebSocketApi | None = None
        self.endpoints: Endpoints | None = None

    async def start(
        self,
        http_port: Listen = 0,
        ws_port: Listen = 0,
        lambda_port: Listen = 0,
    ) -> Endpoints:
        """Serve the three APIs, each on a port (0: a free one) or on a socket bound already."""
        host = self._host
        socks = (
            _listen(host, http_port, "HTTP API"),
            _listen(host, ws_port, "WebSocket API"),
            _listen(host, lambda_port, "Lambda API"),
        )
        http_port, ws_port, lambda_port = (port_of(s) for s in socks)
        stage = self.settings.stage
        endpoints = Endpoints(
            http_url=f"http://{host}:{http_port}",
            ws_url=f"ws://{host}:{ws_port}/{stage}",
            management_url=f"http://{host}:{ws_port}/{stage}",
            lambda_url=f"http://{host}:{lambda_port}",
        )
        refs = {
            "bot_worker_function_name": "bot_worker",
            "fanout_function_name": "fanout",
            **self._refs,
        }
        refs["ws_management_endpoint"] = endpoints.management_url
        env = {
            "AWS_REGION": self.settings.region,
            "AWS_DEFAULT_REGION": self.settings.region,
            **self._env,
            "AWS_ENDPOINT_URL_LAMBDA": endpoints.lambda_url,
            "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": endpoints.management_url,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_XRAY_SDK_ENABLED": "false",
        }
        try:
            specs = function_specs(self.manifest, refs, self.settings)
        except Exception:
            for sock in socks:
                sock.close()
            raise
        self.runtime = LambdaRuntime(specs, env, dead_letter=self._dead_letter)
        authorizer = (
            JwtAuthorizer(self._jwt.issuer, self._jwt.audiences, self._jwt.jwks_url)
            if self._jwt
            else None
        )
        self.http = HttpApi(
            routes_from_manifest(self.manifest), self.runtime, authorizer, self.settings
        )
        self.http.domain = f"{host}:{http_port}"
        ws_authorizers = [
            f.name for f in self.manifest.functions.values() if f.triggers.authorizer == "websocket"
        ]
        self.websocket = WebSocketApi(
            {route: f.name for route, f in self.manifest.websocket_routes().items()},
            ws_authorizers[0] if ws_authorizers else None,
            self.runtime,
            self.settings,
        )
        self.websocket.domain = f"{host}:{ws_port}"
        self._servers = [
            AsgiServer(self.http, socks[0]),
            AsgiServer(self.websocket, socks[1]),
            AsgiServer(LambdaApi(self.runtime), socks[2]),
        ]
        for server in self._servers:
            await server.start()
        if self._sweep is not None:
            client, table = self._sweep
            self._sweeper = asyncio.create_task(
                sweep_forever(client, table, self.settings.sweep_interval)
            )
        self.endpoints = endpoints
        return endpoints

    async def warm(self) -> None:
        """Start one execution environment per function (a dev stack answers its first click
        without cold starts)."""
        if self.runtime is not None:
            await asyncio.gather(
                *(p.warm() for p in self.runtime.pools.values()), return_exceptions=True
            )

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self.websocket is not None:
            await self.websocket.close()
        for server in self._servers:
            await server.stop()
        if self.runtime is not None:
            await self.runtime.close()
