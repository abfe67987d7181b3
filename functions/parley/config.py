"""Settings from environment variables, validated once per cold start.

Each function reads only the settings model it needs; models compose by inheritance. A missing
or invalid variable fails the cold start with a message naming the variable, never a traceback
from deep inside a request.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from parley.budget import Budget

NonEmpty = Annotated[str, Field(min_length=1)]


class ConfigurationError(RuntimeError):
    """The function's environment is missing or has an invalid variable."""


class BaseSettings(BaseModel):
    """Fields are read from the upper-cased field name; an empty value counts as unset."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    aws_region: NonEmpty = "us-east-1"
    log_level: str = "INFO"


class ChatTableSettings(BaseSettings):
    chat_table_name: NonEmpty


class AuthSettings(BaseSettings):
    cognito_user_pool_id: NonEmpty
    cognito_client_id: NonEmpty
    cognito_jwks_url: str | None = None

    @property
    def issuer(self) -> str:
        """Always the AWS-style issuer, also locally (moto mints tokens with it)."""
        region = self.cognito_user_pool_id.split("_", 1)[0] or self.aws_region
        return f"https://cognito-idp.{region}.amazonaws.com/{self.cognito_user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return self.cognito_jwks_url or f"{self.issuer}/.well-known/jwks.json"


class QuotaSettings(BaseSettings):
    """What claiming a reply's tokens needs (`parley.quota`)."""

    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    daily_token_quota: Annotated[int, Field(ge=0)] = 0
    """Tokens per user per UTC day; 0 means unlimited."""
    model_max_output_tokens: Annotated[int, Field(gt=0, le=32_000)] = 1024


class ContextSettings(QuotaSettings):
    """What sizing a prompt needs (`parley.budget`): the model and its context window."""

    model_id: str = "gpt-4o-mini"
    model_context_window: Annotated[int, Field(ge=512)] | None = None
    """Tokens; unset = the window `parley.budget` lists for `model_id`."""

    @property
    def budget(self) -> Budget:
        from parley.budget import Budget, context_window  # the budget reads the bots' prompt

        window = context_window(self.model_id, self.model_context_window)
        return Budget(window=window, max_output=self.model_max_output_tokens)


class ModelSettings(ContextSettings):
    model_provider: Literal["openai", "bedrock", "bedrock-agent"] = "openai"
    model_base_url: str | None = None
    model_api_key_parameter: str | None = None
    bedrock_agent_id: str | None = None
    bedrock_agent_alias_id: str | None = None
    model_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 20.0
    model_max_retries: Annotated[int, Field(ge=0, le=5)] = 2
    history_token_budget: Annotated[int, Field(gt=0)] = 6000


class UploadSettings(BaseSettings):
    """Attachments (`parley.attachments`): the uploads bucket and this environment's limits.
    Read apart from each function's own settings; without a bucket, attachments are off."""

    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    uploads_bucket_name: str | None = None
    upload_max_document_bytes: Annotated[int, Field(gt=0, le=100 * 1024 * 1024)] = 10_485_760
    upload_max_image_bytes: Annotated[int, Field(gt=0, le=20 * 1024 * 1024)] = 5_242_880
    upload_max_attachments: Annotated[int, Field(gt=0, le=10)] = 10
    model_accepts_images: bool = True
    """False for a model that cannot see images: it gets a note instead, and the app says so."""


class ConnectionsTableSettings(BaseSettings):
    """`ws_connect`: the connections table."""

    connections_table_name: NonEmpty


class ConnectionSettings(ConnectionsTableSettings):
    """Functions that post to clients: the management API too."""

    ws_management_endpoint: NonEmpty


class ManagementSettings(BaseSettings):
    """`fanout`: posts to clients, nothing else."""

    ws_management_endpoint: NonEmpty


class ShardSettings(BaseSettings):
    """`bot_worker`'s sharded fan-out: the `fanout` function, none = the worker posts alone."""

    fanout_function_name: str = ""


class RoomSettings(ConnectionSettings, ChatTableSettings):
    """What any function that checks membership and broadcasts to rooms reads."""


class MessageSettings(RoomSettings, ContextSettings):
    """`ws_message`: rooms, the quota it claims against, the model's budget (a message that
    cannot fit is refused), and the worker it invokes."""

    bot_worker_function_name: NonEmpty


class WorkerSettings(RoomSettings, ModelSettings):
    """`bot_worker`: rooms and the model."""


class AdminSettings(ConnectionSettings, ChatTableSettings, AuthSettings, QuotaSettings):
    """`admin_api`: the pool it manages, the tables, the management API (closing a disabled
    user's sockets) and the deployment's quota (what an override replaces)."""


class ApiSettings(RoomSettings, AuthSettings, ModelSettings):
    """`chat_api`: everything it reads (it writes replies in process and broadcasts them)."""


class ExportRequestSettings(ChatTableSettings):
    """`chat_api`'s exports: the workflow it starts and the bucket it links to."""

    exports_bucket_name: NonEmpty
    export_state_machine_arn: NonEmpty


class ShareSettings(ChatTableSettings):
    """Share links (`parley.shares`): snapshots live under `shares/` in this bucket (the
    exports bucket; `chat_api` writes them, `share_api` reads them, the change feed deletes
    them)."""

    shares_bucket_name: NonEmpty


class ExportWorkerSettings(RoomSettings):
    """`export_worker`: the history, the exports bucket, and the user's connections."""

    exports_bucket_name: NonEmpty


class MaintenanceSettings(RoomSettings, QuotaSettings):
    """`maintenance`: rooms (to tell them of failed replies), the quota it settles, retention."""

    retention_days: Annotated[int, Field(ge=0, le=36_500)] = 0
    """Delete conversations untouched for this many days; 0 (the default) keeps them."""


S = TypeVar("S", bound=BaseSettings)


def load(model: type[S], environ: dict[str, str] | None = None) -> S:
    """Validate `model` from the environment; raise ConfigurationError naming the variables."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name in model.model_fields:
        value = env.get(name.upper())
        if name == "aws_region" and not value:
            value = env.get("AWS_DEFAULT_REGION")
        if value:
            values[name] = value
        elif value == "" and model.model_fields[name].is_required():
            values[name] = value  # let min_length name it as empty, not as missing
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{str(error['loc'][0]).upper()}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"Invalid configuration: {problems}") from None


class _SettingsCache:
    """`get_settings(Model)`: one validated instance per model and cold start."""

    def __init__(self) -> None:
        self._items: dict[type[BaseSettings], BaseSettings] = {}

    def __call__(self, model: type[S]) -> S:
        found = self._items.get(model)
        if found is None:
            found = self._items[model] = load(model)
        assert isinstance(found, model)
        return found

    def cache_clear(self) -> None:
        """Forget the settings, as a new cold start would (tests use this)."""
        self._items.clear()


get_settings = _SettingsCache()


class SignUpSettings(ChatTableSettings):
    """`pre_sign_up` (`parley.signup`): who may create an account. Both unset: anyone."""

    signup_allowed_domains: str = ""
    """Comma-separated e-mail domains whose addresses may sign up (exact match, any case)."""
    signup_invites: bool = False
    """Addresses a room owner invited may sign up."""


class EmailSettings(BaseSettings):
    """`custom_message` (`parley.emails`): the app's name and where it is."""

    app_name: NonEmpty = "Parley"
    app_url: NonEmpty
