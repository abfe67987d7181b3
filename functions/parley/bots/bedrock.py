"""Amazon Bedrock providers: Converse stream for models, InvokeAgent for Bedrock Agents.

Both run over boto3 (in the runtime already); the clients are created on first use so a
function that never calls a model does not pay for them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from parley.bots import (
    ChatTurn,
    ContextTooLong,
    Delta,
    Done,
    ProviderError,
    collect,
    estimate_tokens,
)
from parley.config import ModelSettings
from parley.errors import ServiceUnavailable
from parley.models import Usage

if TYPE_CHECKING:
    from mypy_boto3_bedrock_agent_runtime import AgentsforBedrockRuntimeClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

logger = logging.getLogger("parley.bots")

RETRYABLE_CODES = {
    "ThrottlingException",
    "ModelTimeoutException",
    "ServiceUnavailableException",
    "InternalServerException",
    "ModelNotReadyException",
    "ModelStreamErrorException",
}


CONTEXT_MESSAGE = re.compile(
    r"too long|too many (input )?tokens|context (length|window)|maximum context", re.IGNORECASE
)
"""How Bedrock words a prompt over the model's context window: a `ValidationException` whose
message is all that tells it from other invalid requests ("Input is too long for requested
model", "prompt is too long", "too many input tokens")."""


SESSION_ID = re.compile(r"[0-9a-zA-Z._:-]{2,100}")
"""The session ids InvokeAgent accepts."""


def agent_session_id(conversation_id: str | None) -> str:
    """The agent's session for a conversation: its id when the agent accepts it as a session id,
    else a digest of it (stable, and distinct from every id used as it is); a fresh session
    when there is no conversation."""
    if conversation_id is None:
        return uuid.uuid4().hex
    if SESSION_ID.fullmatch(conversation_id) and not conversation_id.startswith("sha256-"):
        return conversation_id
    return "sha256-" + hashlib.sha256(conversation_id.encode()).hexdigest()


def _config(settings: ModelSettings) -> Config:
    return Config(
        connect_timeout=5,
        read_timeout=settings.model_timeout_seconds,
        retries={"max_attempts": settings.model_max_retries + 1, "mode": "standard"},
    )


def _error(exc: Exception) -> ProviderError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        logger.warning("bedrock call failed: %s", code)
        if code == "ThrottlingException":
            return ProviderError(
                "The assistant is busy, please retry shortly", retryable=True, unavailable=True
            )
        if code in RETRYABLE_CODES:
            return ProviderError("The assistant failed to answer", retryable=True)
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if code == "ValidationException" and CONTEXT_MESSAGE.search(message):
            return ContextTooLong()
        return ProviderError("The assistant rejected the request", retryable=False)
    logger.warning("bedrock call failed: %s", type(exc).__name__)
    return ProviderError("The assistant could not be reached", retryable=True, unavailable=True)


def converse_messages(turns: Sequence[ChatTurn]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Converse's `system` and `messages`: consecutive same-role turns merged, as it requires."""
    system = [{"text": t.content} for t in turns if t.role == "system" and t.content]
    messages: list[dict[str, Any]] = []
    for turn in turns:
        if turn.role == "system" or not turn.content:
            continue
        blocks: list[dict[str, Any]] = [{"text": turn.content}]
        blocks += [
            {"image": {"format": image.media_type.split("/")[1], "source": {"bytes": image.data}}}
            for image in turn.images
        ]
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": turn.role, "content": blocks})
    return system, messages


def converse_events(events: Any) -> Iterator[Delta | Done]:
    """Deltas and the final Done from a ConverseStream event stream."""
    stop_reason = "end_turn"
    usage = Usage(input_tokens=0, output_tokens=0)
    for event in events:
        if "contentBlockDelta" in event:
            text = event["contentBlockDelta"].get("delta", {}).get("text")
            if text:
                yield Delta(text=text)
        elif "messageStop" in event:
            stop_reason = event["messageStop"].get("stopReason", stop_reason)
        elif "metadata" in event:
            raw = event["metadata"].get("usage", {})
            usage = Usage(
                input_tokens=int(raw.get("inputTokens", 0)),
                output_tokens=int(raw.get("outputTokens", 0)),
            )
        else:
            if RETRYABLE_CODES & set(event):
                raise ProviderError("The assistant failed to answer", retryable=True)
    yield Done(usage=usage, stop_reason=stop_reason)


class BedrockConverseProvider:
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._client: BedrockRuntimeClient | None = None

    @property
    def client(self) -> BedrockRuntimeClient:
        if self._client is None:
            self._client = boto3.client(
                "bedrock-runtime",
                region_name=self.settings.aws_region,
                config=_config(self.settings),
            )
        return self._client

    def stream(
        self,
        turns: Sequence[ChatTurn],
        *,
        max_tokens: int | None = None,
        session_id: str | None = None,
        temperature: float | None = None,
    ) -> Iterator[Delta | Done]:
        system, messages = converse_messages(turns)
        try:
            response = self.client.converse_stream(
                modelId=self.settings.model_id,
                messages=messages,
                system=system,  # type: ignore[arg-type]
                inferenceConfig=_inference(
                    max_tokens or self.settings.model_max_output_tokens, temperature
                ),
            )
            events = response["stream"]
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        try:
            yield from converse_events(events)
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        finally:
            events.close()

    def complete(
        self,
        turns: Sequence[ChatTurn],
        *,
        max_tokens: int | None = None,
        session_id: str | None = None,
    ) -> tuple[str, Usage]:
        return collect(self.stream(turns, max_tokens=max_tokens))


def _inference(max_tokens: int, temperature: float | None) -> Any:
    """Converse's `inferenceConfig`: the output limit, and the temperature when one is set."""
    config: dict[str, Any] = {"maxTokens": max_tokens}
    if temperature is not None:
        config["temperature"] = temperature
    return config


class BedrockAgentProvider:
    """A Bedrock Agent remembers a session: each conversation is one (`agent_session_id`).

    The agent keeps that memory only while the session lives (its idle TTL) and never sees the
    room's messages that did not ask it, so the question still carries a short transcript.
    """

    def __init__(self, settings: ModelSettings) -> None:
        if not settings.bedrock_agent_id or not settings.bedrock_agent_alias_id:
            raise ServiceUnavailable("The assistant is not configured correctly")
        self.settings = settings
        self._client: AgentsforBedrockRuntimeClient | None = None

    @property
    def client(self) -> AgentsforBedrockRuntimeClient:
        if self._client is None:
            self._client = boto3.client(
                "bedrock-agent-runtime",
                region_name=self.settings.aws_region,
                config=_config(self.settings),
            )
        return self._client

    def stream(
        self,
        turns: Sequence[ChatTurn],
        *,
        max_tokens: int | None = None,
        session_id: str | None = None,
        temperature: float | None = None,
    ) -> Iterator[Delta | Done]:
        question = agent_input(turns)
        assert self.settings.bedrock_agent_id
        assert self.settings.bedrock_agent_alias_id
        try:
            response = self.client.invoke_agent(
                agentId=self.settings.bedrock_agent_id,
                agentAliasId=self.settings.bedrock_agent_alias_id,
                sessionId=agent_session_id(session_id),
                inputText=question,
                enableTrace=False,
            )
            events = response["completion"]
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        parts: list[str] = []
        try:
            for event in events:
                chunk = event.get("chunk")
                if chunk and chunk.get("bytes"):
                    text = chunk["bytes"].decode("utf-8", errors="replace")
                    parts.append(text)
                    yield Delta(text=text)
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        finally:
            events.close()
        # Agents report no token counts: estimate them so quotas still apply.
        usage = Usage(
            input_tokens=estimate_tokens(question), output_tokens=estimate_tokens("".join(parts))
        )
        yield Done(usage=usage, stop_reason="end_turn")

    def complete(
        self,
        turns: Sequence[ChatTurn],
        *,
        max_tokens: int | None = None,
        session_id: str | None = None,
    ) -> tuple[str, Usage]:
        return collect(self.stream(turns, max_tokens=max_tokens, session_id=session_id))


def agent_input(turns: Sequence[ChatTurn]) -> str:
    """The last user turn, preceded by a short transcript of the turns before it."""
    dialogue = [t for t in turns if t.role != "system"]
    if not dialogue:
        return ""
    *before, last = dialogue
    if not before:
        return last.content
    transcript = "\n".join(f"{t.role}: {t.content}" for t in before[-6:])
    return f"Conversation so far:\n{transcript}\n\nUser: {last.content}"
