"""The emulated API Gateway's stage settings and the manifest functions turned into local specs.

CORS and throttling mirror what the Terraform `http_api` module configures for the app origin;
the stage-level numbers are the deployed defaults, scaled for one machine where noted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tasks.core.manifest import Manifest, Ref
from tasks.local.gateway.lambdas import ROOT, AsyncPolicy, FunctionSpec

HTTP_INTEGRATION_TIMEOUT = 30.0
"""API Gateway HTTP APIs give up on an integration after 30 seconds."""
WS_FRAME_LIMIT = 32 * 1024
"""WebSocket APIs reject a frame larger than 32 KB (closing with 1009)."""
WS_POST_LIMIT = 128 * 1024
"""PostToConnection accepts at most 128 KB of data."""
HTTP_PAYLOAD_LIMIT = 10 * 1024 * 1024
"""HTTP APIs accept request bodies up to 10 MB."""
WS_IDLE_TIMEOUT = 10 * 60.0
"""WebSocket APIs close a connection after 10 minutes without a frame from the client."""
WS_MAX_DURATION = 2 * 60 * 60.0
"""…and any connection after 2 hours."""


@dataclass(frozen=True)
class Cors:
    """The HTTP API's CORS configuration: only the app's own origin may call it."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    allow_headers: tuple[str, ...] = ("authorization", "content-type", "id_token")
    expose_headers: tuple[str, ...] = ("retry-after",)
    max_age: int = 3600
    allow_credentials: bool = False

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and ("*" in self.allow_origins or origin in self.allow_origins)


@dataclass(frozen=True)
class Throttle:
    """A stage throttling limit: steady requests per second and the burst a bucket holds."""

    rate: float
    burst: int


SHARED_ROUTE = "GET /shared/{shareId}"
ROUTE_THROTTLES: dict[str, Throttle] = {SHARED_ROUTE: Throttle(rate=5.0, burst=10)}
"""Route throttles the emulator enforces, as Terraform's `http_route_throttles` sets them (a
contract test keeps them equal): the public route's. Other routes' own limits are not emulated
(docs/local-stack.md)."""


@dataclass(frozen=True)
class GatewaySettings:
    """Everything about the emulated APIs that is not a function."""

    region: str = "us-east-1"
    account_id: str = "000000000000"
    stage: str = "local"
    http_api_id: str = "localhttp"
    ws_api_id: str = "localws"
    cors: Cors = field(default_factory=Cors)
    http_throttle: Throttle = field(default_factory=lambda: Throttle(rate=100.0, burst=200))
    ws_throttle: Throttle = field(default_factory=lambda: Throttle(rate=1000.0, burst=2000))
    route_throttles: dict[str, Throttle] = field(default_factory=lambda: dict(ROUTE_THROTTLES))
    """HTTP route throttles by route key, checked after the stage's (as API Gateway does)."""
    integration_timeout: float = HTTP_INTEGRATION_TIMEOUT
    frame_limit: int = WS_FRAME_LIMIT
    ws_idle_timeout: float = WS_IDLE_TIMEOUT
    ws_max_duration: float = WS_MAX_DURATION
    sweep_interval: float = 30.0
    max_concurrency: int = 4
    """Execution environments per function (Lambda scales further; two cores do not)."""
    async_retry_delays: tuple[float, ...] = (1.0, 2.0)
    code_root: Path = ROOT / "functions"
    """Where handler packages and `parley/` live (Lambda's /var/task)."""


class MissingRefs(ValueError):
    """The manifest uses refs the local stack was not given a value for."""


def function_specs(
    manifest: Manifest, refs: Mapping[str, str], settings: GatewaySettings
) -> dict[str, FunctionSpec]:
    """Every manifest function with its environment resolved against `refs`."""
    specs: dict[str, FunctionSpec] = {}
    missing: set[str] = set()
    for name, function in manifest.functions.items():
        env: dict[str, str] = {}
        for key, value in function.environment.items():
            if isinstance(value, Ref):
                if value.ref not in refs:
                    missing.add(value.ref)
                    continue
                env[key] = refs[value.ref]
            else:
                env[key] = value
        policy = function.triggers.async_
        specs[name] = FunctionSpec(
            name=name,
            handler=function.handler,
            timeout=float(manifest.timeout(function)),
            memory=manifest.memory(function),
            environment=env,
            max_concurrency=min(
                settings.max_concurrency, function.reserved_concurrency or settings.max_concurrency
            ),
            async_policy=AsyncPolicy(
                max_retries=policy.max_retries,
                max_event_age_seconds=policy.max_event_age_seconds,
                retry_delays=settings.async_retry_delays,
            )
            if policy is not None
            else None,
            code_root=settings.code_root,
        )
    if missing:
        raise MissingRefs(f"no local value for manifest refs: {', '.join(sorted(missing))}")
    return specs
