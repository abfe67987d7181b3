"""The model of `functions/manifest.yaml`, the one description of every Lambda function.

`invoke build`, the local gateway and the contract tests read the manifest through this module,
so a mistake in it fails early with a message that names the file and the field.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_PATH = ROOT / "functions" / "manifest.yaml"
TABLES_PATH = ROOT / "functions" / "tables.yaml"

EnvRef = Literal[
    "chat_table_name",
    "connections_table_name",
    "user_pool_id",
    "user_pool_client_id",
    "jwks_url",
    "daily_token_quota",
    "ws_management_endpoint",
    "bot_worker_function_name",
    "fanout_function_name",
    "uploads_bucket_name",
    "upload_max_document_bytes",
    "upload_max_image_bytes",
    "upload_max_attachments",
    "retention_days",
    "exports_bucket_name",
    "export_state_machine_arn",
    "signup_allowed_domains",
    "signup_invites",
    "app_url",
]
"""Values only the deployment knows; Terraform and the local stack each resolve every one."""

Architecture = Literal["arm64", "x86_64"]
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
_ROUTE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>/[A-Za-z0-9_.{}/+-]*)$")
_RESOURCE = re.compile(
    r"^(\*|table:[a-z_]+|index:[a-z_]+/[A-Za-z0-9_]+|function:[a-z_]+|websocket:manage"
    r"|ssm:[a-z_]+|bedrock:(model|agent)|sqs:[a-z_]+|bucket:[a-z_]+|statemachine:[a-z_]+"
    r"|userpool:main)$"
)
_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z]+$")
_HANDLER = re.compile(r"^(?P<package>[a-z_][a-z0-9_]*)(\.[a-z_][a-z0-9_]*)*\.(?P<func>[a-z_]\w*)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ref(_Strict):
    """An environment value resolved at deploy time (never a secret)."""

    ref: EnvRef


EnvValue = Annotated[str, Field(max_length=1024)] | Ref
Environment = dict[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")], EnvValue]

RESERVABLE_CONCURRENCY = 900
"""What functions may reserve together: Lambda keeps 100 of an account's concurrency unreserved,
and an account starts with 1000 (raise the quota before raising this)."""


def _check_environment(value: dict[str, Any]) -> dict[str, Any]:
    for key in value:
        if key.startswith("AWS_") or key.startswith("LAMBDA_"):
            raise ValueError(f"{key} is reserved by the Lambda runtime")
        if any(word in key for word in ("SECRET", "PASSWORD", "API_KEY")) and not key.endswith(
            "_PARAMETER"
        ):
            raise ValueError(f"{key} looks like a secret: store it in SSM and pass its name")
    return value


class HttpRoute(_Strict):
    route: str
    auth: Literal["jwt", "none"] = "jwt"

    @field_validator("route")
    @classmethod
    def _route_key(cls, value: str) -> str:
        match = _ROUTE.match(value)
        if not match or match["method"] not in HTTP_METHODS:
            raise ValueError(f"must look like 'GET /path/{{id}}' with a method in {HTTP_METHODS}")
        return value

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.route.split(" ", 1)[1]


class AsyncConfig(_Strict):
    max_retries: Annotated[int, Field(ge=0, le=2)] = 2
    max_event_age_seconds: Annotated[int, Field(ge=60, le=21600)] = 3600
    on_failure: Literal["dlq"] | None = "dlq"


class StreamConfig(_Strict):
    """A DynamoDB stream event source mapping: Lambda polls the table's stream and invokes the
    function with batches (partial batch responses on; retries bisect a failing batch)."""

    table: Annotated[str, Field(pattern=r"^[a-z_]+$")]
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 100
    batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = 0
    max_retries: Annotated[int, Field(ge=0, le=10000)] = 5
    max_record_age_seconds: Annotated[int, Field(ge=60, le=604800)] = 3600
    bisect_on_error: bool = True
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    key_prefix: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """Only records whose partition key starts so invoke the function (an event filter)."""
    on_failure: Literal["dlq"] | None = "dlq"


class Schedule(_Strict):
    """An EventBridge Scheduler schedule that invokes the function with a fixed input."""

    expression: Annotated[str, Field(pattern=r"^(cron|rate)\(.+\)$")]
    timezone: str = "UTC"
    input: dict[str, Any] = {}
    max_retries: Annotated[int, Field(ge=0, le=185)] = 3
    max_event_age_seconds: Annotated[int, Field(ge=60, le=86400)] = 3600


class S3Trigger(_Strict):
    """S3 notifies the function (asynchronously) of these events under `prefix` of a bucket."""

    bucket: Literal["uploads"]
    prefix: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+/$")]
    events: Annotated[
        list[Literal["s3:ObjectCreated:*", "s3:ObjectCreated:Post"]], Field(min_length=1)
    ]


class Triggers(_Strict):
    stream: StreamConfig | None = None
    http: list[HttpRoute] = []
    websocket: list[
        Annotated[str, Field(pattern=r"^(\$connect|\$disconnect|\$default|[a-zA-Z]+)$")]
    ] = []
    authorizer: Literal["websocket"] | None = None
    async_: AsyncConfig | None = Field(default=None, alias="async")
    cognito: list[
        Literal["PostConfirmation", "PreSignUp", "PreTokenGeneration", "CustomMessage"]
    ] = []
    s3: S3Trigger | None = None
    schedule: Schedule | None = None
    workflow: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = []
    """State machines (functions/workflows/<name>.asl.json) whose tasks invoke the function."""


class Permission(_Strict):
    resource: str
    actions: Annotated[list[str], Field(min_length=1)]
    leading_keys: (
        Annotated[list[Annotated[str, Field(pattern=r"^[A-Z0-9#]+\*?$")]], Field(min_length=1)]
        | None
    ) = None
    """A table's items these actions are limited to, by partition key (`USER#*`, `AUDIT`):
    IAM's `dynamodb:LeadingKeys` condition."""

    @model_validator(mode="after")
    def _leading_keys_on_tables(self) -> Permission:
        if self.leading_keys is not None and not self.resource.startswith("table:"):
            raise ValueError("leading_keys applies to a table:<t> resource only")
        return self

    @field_validator("resource")
    @classmethod
    def _resource(cls, value: str) -> str:
        if not _RESOURCE.match(value):
            raise ValueError(
                "must be '*', table:<t>, index:<t>/<index>, function:<name>, websocket:manage, "
                "ssm:<name>, sqs:<name>, bucket:<name>, statemachine:<name>, userpool:main "
                "or bedrock:model|agent"
            )
        return value

    @field_validator("actions")
    @classmethod
    def _actions(cls, value: list[str]) -> list[str]:
        for action in value:
            if action == "*" or not _ACTION.match(action):
                raise ValueError(f"'{action}' is not a 'service:Action' name (no wildcards)")
        return value


class Defaults(_Strict):
    runtime: Literal["python3.12"] = "python3.12"
    architecture: Architecture = "arm64"
    memory: Annotated[int, Field(ge=128, le=10240)] = 256
    timeout: Annotated[int, Field(ge=1, le=900)] = 10
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365] = 30
    tracing: bool = True
    environment: Environment = {}
    """Set in every function; a function's own value for the same name wins."""

    _environment = field_validator("environment")(_check_environment)


class Function(_Strict):
    """One Lambda function. Unset sizing fields take the manifest's defaults."""

    name: str = ""
    description: Annotated[str, Field(min_length=1, max_length=256)]
    handler: str
    memory: Annotated[int, Field(ge=128, le=10240)] | None = None
    timeout: Annotated[int, Field(ge=1, le=900)] | None = None
    architecture: Architecture | None = None
    reserved_concurrency: Annotated[int, Field(ge=1, le=RESERVABLE_CONCURRENCY)] | None = None
    """Executions kept for this function and never exceeded; unset shares the account's pool.
    0 would refuse every invocation, so it is not a manifest value."""
    environment: Environment = {}
    triggers: Triggers = Triggers()
    permissions: list[Permission] = []

    @field_validator("handler")
    @classmethod
    def _handler(cls, value: str) -> str:
        if not _HANDLER.match(value):
            raise ValueError("must be '<package>.<module>.<function>', e.g. chat_api.app.handler")
        return value

    _environment = field_validator("environment")(_check_environment)

    @property
    def package(self) -> str:
        """The handler's top-level package, i.e. the folder under functions/."""
        return self.handler.split(".", 1)[0]


class Layer(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")] = "deps"
    description: str = ""


class Manifest(_Strict):
    version: Literal[1]
    defaults: Defaults = Defaults()
    layer: Layer = Layer()
    functions: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Function]

    @model_validator(mode="after")
    def _names_and_routes(self) -> Manifest:
        seen: dict[str, str] = {}
        for name, function in self.functions.items():
            object.__setattr__(function, "name", name)
            # Every reader (build, Terraform, local gateway) sees the merged environment.
            merged = {**self.defaults.environment, **function.environment}
            object.__setattr__(function, "environment", merged)
            if function.package != name:
                raise ValueError(
                    f"functions.{name}.handler: must live in functions/{name}/ "
                    f"(got package '{function.package}')"
                )
            for route in function.triggers.http:
                if route.route in seen:
                    raise ValueError(
                        f"functions.{name}.triggers.http: route '{route.route}' is already "
                        f"served by {seen[route.route]}"
                    )
                seen[route.route] = name
            stream = function.triggers.stream
            if stream is not None and stream.table not in load_tables():
                raise ValueError(
                    f"functions.{name}.triggers.stream.table: '{stream.table}' is not a table "
                    "of functions/tables.yaml"
                )
            for perm in function.permissions:
                if (
                    perm.resource.startswith("function:")
                    and perm.resource[9:] not in self.functions
                ):
                    raise ValueError(
                        f"functions.{name}.permissions: unknown function '{perm.resource[9:]}'"
                    )
        reserved = {n: f.reserved_concurrency for n, f in self.functions.items()}
        total = sum(v for v in reserved.values() if v is not None)
        if total > RESERVABLE_CONCURRENCY:
            shares = ", ".join(f"{n} {v}" for n, v in reserved.items() if v is not None)
            raise ValueError(
                f"functions.*.reserved_concurrency: {total} in all ({shares}); Lambda keeps 100 "
                f"of an account's default 1000 unreserved, so at most {RESERVABLE_CONCURRENCY}"
            )
        return self

    def memory(self, function: Function) -> int:
        return function.memory or self.defaults.memory

    def timeout(self, function: Function) -> int:
        return function.timeout or self.defaults.timeout

    def architecture(self, function: Function) -> Architecture:
        return function.architecture or self.defaults.architecture

    @cached_property
    def architectures(self) -> list[Architecture]:
        """Every architecture a function runs on: the layer is built once per architecture."""
        return sorted({self.architecture(f) for f in self.functions.values()})

    def http_routes(self) -> list[tuple[HttpRoute, Function]]:
        return [(r, f) for f in self.functions.values() for r in f.triggers.http]

    def websocket_routes(self) -> dict[str, Function]:
        return {r: f for f in self.functions.values() for r in f.triggers.websocket}


class ManifestError(Exception):
    """The manifest is invalid; the message names the file and each offending field."""


_MESSAGES = {
    "less_than_equal": "must be ≤ {le}",
    "greater_than_equal": "must be ≥ {ge}",
    "extra_forbidden": "unknown field",
    "missing": "required field is missing",
    "literal_error": "must be one of {expected}",
}


def _describe(path: Path, error: Any) -> str:
    location = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
    template = _MESSAGES.get(error["type"])
    message = template.format(**error.get("ctx", {})) if template else error["msg"]
    message = message.removeprefix("Value error, ")
    try:
        shown = path.relative_to(ROOT)
    except ValueError:
        shown = path
    return f"{shown}: {location}: {message}" if location else f"{shown}: {message}"


def parse_manifest(data: Any, path: Path = MANIFEST_PATH) -> Manifest:
    """Validate already-loaded manifest data; raise ManifestError with one line per problem."""
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError("\n".join(_describe(path, e) for e in exc.errors())) from None


def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Read and validate `functions/manifest.yaml` (or another file of the same shape)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not valid YAML: {exc}") from None
    return parse_manifest(data, path)


def load_tables(path: Path = TABLES_PATH) -> dict[str, Any]:
    """The table definitions shared by Terraform, the local stack and the tests."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables: dict[str, Any] = data["tables"]
    return tables
