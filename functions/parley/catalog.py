"""The model catalog: which models an environment offers, to whom, and at what price.

One YAML file per environment (`terraform/envs/<env>/models.yaml`; the local stack's
`tasks/local/models.yaml`) lists the models: an id of Parley's own, the provider and what it
needs (the provider's model id, a base URL and an API key parameter, a Bedrock agent), a label,
the context window and output limit, whether it sees images, the price per million input and
output tokens in USD, and optionally the Cognito groups whose members may use it. One is the
default. `invoke build` and `invoke lint` validate every catalog with this module, and
Terraform grants the functions exactly its Bedrock models.

The functions do not carry the catalog (the same zips run in every environment): Terraform
writes it, validated and compact, to the chat table's `CONFIG / MODELS` item, and each function
reads it once per `MAX_AGE_SECONDS` (docs/contracts.md, "Model catalog").

Who may use a model (`ModelEntry.usable_by`, `Catalog.require`) and what a reply costs
(`ModelEntry.cost`) are decided here and only here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from parley.budget import Budget
from parley.errors import BadRequest, Forbidden, ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from parley.models import Usage

Provider = Literal["openai", "bedrock", "bedrock-agent", "local"]
"""`openai`: any OpenAI-compatible server; `bedrock`: Bedrock Converse; `bedrock-agent`: a
Bedrock Agent (InvokeAgent); `local`: a server the local stack runs (its URL is the stack's)."""
LocalServer = Literal["scripted", "llama"]
"""Which of the local stack's servers answers a `local` model."""

SEES_IMAGES: frozenset[str] = frozenset({"openai", "bedrock", "local"})
"""Providers that can pass images to a model; a Bedrock Agent takes text only."""
MAX_MODELS = 50
MAX_AGE_SECONDS = 300
"""How long a function keeps the catalog it read before reading the item again."""
PER_TOKENS = Decimal(1_000_000)
"""Prices are per million tokens."""

ModelId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Price = Annotated[Decimal, Field(ge=0, le=10_000, decimal_places=6)]
"""USD per million tokens, at most six decimal places (cost stays exact)."""
Group = Annotated[str, Field(pattern=r"^[\w+=,.@-]{1,128}$")]
"""A Cognito group name."""


class CatalogError(Exception):
    """The catalog is invalid; one line per problem, each naming the file and the field."""


class _Strict(BaseModel):
    # Validators are built when a catalog is first read: most routes never read it, so a cold
    # start does not pay for them (about 80 ms of chat_api's import).
    model_config = ConfigDict(
        extra="forbid", frozen=True, protected_namespaces=(), defer_build=True
    )


class Prices(_Strict):
    input: Price
    output: Price


class ModelEntry(_Strict):
    """One model of the catalog."""

    id: ModelId
    """Parley's id for it: what conversations and replies record, and the app sends."""
    label: Annotated[str, Field(min_length=1, max_length=60)]
    provider: Provider
    model: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    """What the provider calls it: an OpenAI model name, a Bedrock model or inference profile
    id, a local server's model alias. Not for `bedrock-agent` (the agent has its model)."""
    base_url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=512)] | None = None
    """`openai`: the server's base URL (absent: api.openai.com); `local`: set by the stack."""
    api_key_parameter: Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./-]{1,1010}$")] | None = None
    """`openai` (and `local`): the SSM SecureString holding the key (absent: no key)."""
    agent_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{10}$")] | None = None
    agent_alias_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{10}$")] | None = None
    server: LocalServer | None = None
    context_window: Annotated[int, Field(ge=512, le=10_000_000)]
    max_output_tokens: Annotated[int, Field(ge=1, le=128_000)]
    vision: bool = False
    price: Prices
    groups: Annotated[list[Group], Field(min_length=1, max_length=20)] | None = None
    """Only members of one of these Cognito groups may use it; absent: everyone."""

    @model_validator(mode="after")
    def _provider_fields(self) -> ModelEntry:
        needs: dict[str, tuple[str, ...]] = {
            "openai": ("model",),
            "bedrock": ("model",),
            "bedrock-agent": ("agent_id", "agent_alias_id"),
            "local": ("model", "server"),
        }
        allowed: dict[str, tuple[str, ...]] = {
            "openai": ("model", "base_url", "api_key_parameter"),
            "bedrock": ("model",),
            "bedrock-agent": ("agent_id", "agent_alias_id"),
            "local": ("model", "server", "base_url", "api_key_parameter"),
        }
        for name in needs[self.provider]:
            if getattr(self, name) is None:
                raise ValueError(f"@{name}: required for provider '{self.provider}'")
        for name in ("model", "base_url", "api_key_parameter", "agent_id", "agent_alias_id"):
            if getattr(self, name) is not None and name not in allowed[self.provider]:
                raise ValueError(f"@{name}: not used by provider '{self.provider}'")
        if self.server is not None and self.provider != "local":
            raise ValueError(f"@server: not used by provider '{self.provider}'")
        if self.vision and self.provider not in SEES_IMAGES:
            raise ValueError(f"@vision: provider '{self.provider}' cannot pass images to a model")
        if self.max_output_tokens >= self.context_window:
            raise ValueError(
                f"@max_output_tokens: must be less than context_window ({self.context_window})"
            )
        return self

    # -- who may use it ------------------------------------------------------------------------
    def usable_by(self, groups: Iterable[str]) -> bool:
        """True when the model is open to everyone, or the caller is in one of its groups."""
        if self.groups is None:
            return True
        return not set(self.groups).isdisjoint(groups)

    # -- what it costs -------------------------------------------------------------------------
    def cost(self, usage: Usage) -> Decimal:
        """USD for what a call used, exactly: tokens × price per million."""
        spent = usage.input_tokens * self.price.input + usage.output_tokens * self.price.output
        return spent / PER_TOKENS

    @property
    def budget(self) -> Budget:
        """What one call may read and write (`parley.budget`)."""
        return Budget(window=self.context_window, max_output=self.max_output_tokens)


class Catalog(_Strict):
    version: Literal[1] = 1
    default: ModelId
    models: Annotated[list[ModelEntry], Field(min_length=1, max_length=MAX_MODELS)]

    @model_validator(mode="after")
    def _ids(self) -> Catalog:
        seen: dict[str, int] = {}
        for index, entry in enumerate(self.models):
            if entry.id in seen:
                raise ValueError(
                    f"@models[{index}].id: '{entry.id}' is already models[{seen[entry.id]}]"
                )
            seen[entry.id] = index
        if self.default not in seen:
            raise ValueError(f"@default: '{self.default}' is not the id of a model in the list")
        if self.models[seen[self.default]].groups is not None:
            raise ValueError(
                f"@default: '{self.default}' is limited to groups; the default must be open "
                "to everyone"
            )
        return self

    # -- reading ------------------------------------------------------------------------------
    def get(self, model_id: str | None) -> ModelEntry | None:
        return next((m for m in self.models if m.id == model_id), None)

    @property
    def default_model(self) -> ModelEntry:
        found = self.get(self.default)
        assert found is not None  # validated
        return found

    def for_conversation(self, model_id: str | None) -> ModelEntry:
        """The model that answers in a conversation: its own, or the default when it has none
        or its model has left the catalog (the default is open to everyone)."""
        return self.get(model_id) or self.default_model

    def usable(self, groups: Iterable[str]) -> list[ModelEntry]:
        """The models a caller in `groups` may use, in catalog order."""
        mine = list(groups)
        return [m for m in self.models if m.usable_by(mine)]

    def require(self, model_id: str, groups: Iterable[str]) -> ModelEntry:
        """The model a caller asks for: `InvalidInput` (400) when the catalog has no such
        model, `Forbidden` (403) when the caller may not use it."""
        entry = self.get(model_id)
        if entry is None:
            raise UnknownModel(model_id)
        if not entry.usable_by(groups):
            raise Forbidden(f"You may not use the model '{model_id}'")
        return entry

    def require_usable(self, entry: ModelEntry, groups: Iterable[str]) -> None:
        """Refuse (`Forbidden`) a caller who may not use the conversation's model."""
        if not entry.usable_by(groups):
            raise Forbidden(
                f"You may not use the model '{entry.id}' that answers here; "
                "ask the owner to choose another"
            )

    # -- the carrier --------------------------------------------------------------------------
    def to_json(self) -> str:
        """The compact JSON the functions read (the `CONFIG / MODELS` item's `catalog`)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    def bedrock_models(self) -> list[str]:
        """The Bedrock model and inference profile ids it names (Terraform's IAM grant)."""
        return sorted({m.model for m in self.models if m.provider == "bedrock" and m.model})


class UnknownModel(BadRequest):
    """A model id the catalog does not list (400)."""

    def __init__(self, model_id: str) -> None:
        shown = model_id if len(model_id) <= 64 else model_id[:64] + "…"
        super().__init__(f"Unknown model '{shown}': GET /models lists the models you may use")


class CatalogSource:
    """The environment's catalog as the functions see it: read from its item on first use and
    again once it is `max_age` seconds old (a changed catalog reaches warm containers within
    that time); parsed again only when the stored text changed."""

    def __init__(
        self,
        read: Callable[[], str | None],
        *,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._text: str | None = None
        self._catalog: Catalog | None = None
        self._read_at = float("-inf")

    def __call__(self) -> Catalog:
        with self._lock:
            now = self._clock()
            if self._catalog is not None and now - self._read_at < self._max_age:
                return self._catalog
            text = self._read()
            if text is None:
                if self._catalog is not None:
                    return self._catalog
                raise ServiceUnavailable("The assistant is not configured: no model catalog")
            if text != self._text or self._catalog is None:
                try:
                    self._catalog = catalog_from_json(text)
                except CatalogError as exc:
                    if self._catalog is None:
                        raise ServiceUnavailable(
                            "The assistant is not configured correctly"
                        ) from exc
                self._text = text
            self._read_at = now
            return self._catalog


# -- validation with precise messages ------------------------------------------------------------
_MESSAGES = {
    "less_than_equal": "must be ≤ {le}",
    "greater_than_equal": "must be ≥ {ge}",
    "extra_forbidden": "unknown field",
    "missing": "required field is missing",
    "literal_error": "must be one of {expected}",
    "decimal_max_places": "at most {decimal_places} decimal places",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "string_pattern_mismatch": "must match {pattern}",
}


def _location(parts: Sequence[Any]) -> str:
    shown = ""
    for part in parts:
        if isinstance(part, int):
            shown += f"[{part}]"
        else:
            shown += f".{part}" if shown else str(part)
    return shown


def _describe(name: str, error: Any) -> str:
    location = _location(error["loc"])
    template = _MESSAGES.get(error["type"])
    message = template.format(**error.get("ctx", {})) if template else error["msg"]
    message = message.removeprefix("Value error, ")
    if message.startswith("@"):  # a rule about one field, raised by a model validator
        field, _, message = message[1:].partition(": ")
        location = f"{location}.{field}" if location and not field.startswith("models") else field
    return f"{name}: {location}: {message}" if location else f"{name}: {message}"


def parse_catalog(data: Any, name: str = "models.yaml", *, deployed: bool = False) -> Catalog:
    """Validate loaded catalog data; `CatalogError` with one line per problem. `deployed`: an
    AWS environment's catalog, where a `local` model cannot run."""
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        raise CatalogError("\n".join(_describe(name, e) for e in exc.errors())) from None
    if deployed:
        local = [
            f"{name}: models[{i}].provider: 'local' runs only on the local stack"
            for i, m in enumerate(catalog.models)
            if m.provider == "local"
        ]
        if local:
            raise CatalogError("\n".join(local))
    return catalog


def load_catalog(path: Path, *, deployed: bool = False, shown: str | None = None) -> Catalog:
    """Read and validate a catalog file."""
    import yaml  # build and test time only: the functions read the JSON item

    name = shown or path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{name}: cannot be read as YAML: {exc}") from None
    return parse_catalog(data, name, deployed=deployed)


def catalog_from_json(text: str) -> Catalog:
    """The catalog as Terraform (or the local stack) stored it."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CatalogError(f"CONFIG/MODELS: not JSON: {exc}") from None
    return parse_catalog(data, "CONFIG/MODELS")
