"""Model providers behind one small interface (docs/contracts.md, "Model provider interface").

`stream()` yields `Delta` pieces then one `Done` with token usage; closing the generator cancels
the underlying HTTP stream (that is how `stop` works). Failures raise `ProviderError` with
`retryable` set, so callers tell "try again" from "this will not work". Provider SDKs are
imported lazily: `chat_api`'s cold start should not pay for `openai` before it needs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel

from parley.config import ModelSettings
from parley.models import Usage

if TYPE_CHECKING:
    from parley.catalog import ModelEntry

SYSTEM_PROMPT = (
    "You are Parley's assistant: helpful, accurate and concise. Answer in the user's language."
)


class ImagePart(BaseModel):
    """An image the user attached, for models that see images."""

    media_type: str
    data: bytes


IMAGE_TOKENS = 1_000
"""What one image is budgeted at (a high-detail image of ~1,000 px costs models about this)."""


class ChatTurn(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str
    images: list[ImagePart] = []


class Delta(BaseModel):
    """A piece of the reply."""

    text: str


class Done(BaseModel):
    usage: Usage
    stop_reason: str


class ProviderError(Exception):
    """The model could not answer. `message` is safe to show; details stay in the logs."""

    def __init__(self, message: str, *, retryable: bool, unavailable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.unavailable = unavailable
        """True when the model could not be reached at all (503) rather than answered badly."""


CONTEXT_TOO_LONG = (
    "Your message and the conversation before it are too long for the assistant; "
    "shorten the message or start a new chat"
)


class ContextTooLong(ProviderError):
    """The prompt does not fit the model's context window: asking again cannot help."""

    def __init__(self) -> None:
        super().__init__(CONTEXT_TOO_LONG, retryable=False)


class Provider(Protocol):
    """`session_id` names the conversation, for providers that keep memory per session (a
    Bedrock Agent); the others ignore it."""

    def stream(
        self,
        turns: Sequence[ChatTurn],
        *,
        max_tokens: int | None = None,
        session_id: str | None = None,
        temperature: float | None = None,
    ) -> Iterator[Delta | Done]: ...

    def complete(
        self,
        turns: Sequence[ChatTurn],
        *,
        max_tokens: int | None = None,
        session_id: str | None = None,
    ) -> tuple[str, Usage]: ...


def estimate_tokens(text: str) -> int:
    """About four ASCII characters a token, one token for any other character, four for the
    turn: enough to budget history without a tokenizer (why: `parley.budget`)."""
    plain = len(text.encode("ascii", "ignore"))
    return (plain + 3) // 4 + (len(text) - plain) + 4


def trim_history(turns: Sequence[ChatTurn], budget: int) -> list[ChatTurn]:
    """System turns plus the most recent turns that fit `budget` tokens, oldest first: the
    oldest turns are dropped first.

    The newest turn is the question: it is sent whole or not at all (`ContextTooLong`), never
    cut, so the model never answers half a question.
    """
    system = [t for t in turns if t.role == "system"]
    rest = [t for t in turns if t.role != "system"]
    left = budget - sum(estimate_tokens(t.content) for t in system)
    kept: list[ChatTurn] = []
    for turn in reversed(rest):
        cost = estimate_tokens(turn.content)
        if cost > left:
            if not kept:
                raise ContextTooLong()
            break
        kept.append(turn)
        left -= cost
    # A conversation shown to a model starts with a user turn.
    while len(kept) > 1 and kept[-1].role != "user":
        kept.pop()
    return system + list(reversed(kept))


def collect(stream: Iterator[Delta | Done]) -> tuple[str, Usage]:
    """Drain a stream into the full text and its usage (for providers without a plain call)."""
    parts: list[str] = []
    usage = Usage(input_tokens=0, output_tokens=0)
    for event in stream:
        if isinstance(event, Delta):
            parts.append(event.text)
        else:
            usage = event.usage
    return "".join(parts), usage


@cache
def get_provider(settings: ModelSettings) -> Provider:
    """The provider these settings name, built once per cold start."""
    if settings.model_provider == "bedrock":
        from parley.bots.bedrock import BedrockConverseProvider

        return BedrockConverseProvider(settings)
    if settings.model_provider == "bedrock-agent":
        from parley.bots.bedrock import BedrockAgentProvider

        return BedrockAgentProvider(settings)
    from parley.bots.openai import OpenAIProvider

    return OpenAIProvider(settings)


def prepare_providers(region: str) -> None:
    """Import what building any provider needs (the OpenAI SDK, the Bedrock providers) and make
    the parameter client the API keys are read with, without a network call: the work a
    function's first reply would otherwise do, for a function to do while it initialises."""
    from importlib import import_module

    from parley.bots.secrets import parameters

    # The OpenAI SDK's import is most of a first reply's set-up.
    for module in ("openai", "parley.bots.openai", "parley.bots.bedrock"):
        import_module(module)
    parameters(region)


def provider_for(settings: ModelSettings, entry: ModelEntry) -> Provider:
    """The provider of one catalog model (`parley.catalog`), built once per cold start and
    model: the function's timeouts and retries, the model's provider, id, URL, key and agent."""
    provider: Literal["openai", "bedrock", "bedrock-agent"] = (
        "openai" if entry.provider == "local" else entry.provider
    )
    return get_provider(
        settings.model_copy(
            update={
                "model_provider": provider,
                "model_id": entry.model or entry.id,
                "model_base_url": entry.base_url,
                "model_api_key_parameter": entry.api_key_parameter,
                "bedrock_agent_id": entry.agent_id,
                "bedrock_agent_alias_id": entry.agent_alias_id,
                "model_max_output_tokens": entry.max_output_tokens,
                "model_context_window": entry.context_window,
            }
        )
    )


__all__ = [
    "CONTEXT_TOO_LONG",
    "IMAGE_TOKENS",
    "ChatTurn",
    "ContextTooLong",
    "Delta",
    "Done",
    "ImagePart",
    "Provider",
    "ProviderError",
    "Usage",
    "collect",
    "estimate_tokens",
    "get_provider",
    "provider_for",
    "trim_history",
]
