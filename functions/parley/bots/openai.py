"""OpenAI-compatible chat completions through the `openai` SDK (OpenAI, any compatible server,
the local model). Timeouts and bounded retries on 429/5xx are the SDK's own, configured here.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from parley.bots import ChatTurn, ContextTooLong, Delta, Done, ProviderError, estimate_tokens
from parley.bots.secrets import ssm_secret
from parley.config import ModelSettings
from parley.models import Usage

if TYPE_CHECKING:
    from openai import OpenAI

logger = logging.getLogger("parley.bots")

NO_KEY = "no-key"
"""Sent when no key parameter is configured (local servers ignore it)."""
CONTEXT_CODE = "context_length_exceeded"
"""OpenAI's error code for a prompt over the context window (llama.cpp's server uses it too)."""
CONTEXT_MESSAGE = re.compile(
    r"context[ _]length|context window|maximum context|prompt is too long", re.IGNORECASE
)
"""How compatible servers that send no code word the same refusal (llama.cpp: "Requested
tokens (3589) exceed context window of 2048"); the error's text is all they give."""


def openai_message(turn: ChatTurn) -> dict[str, Any]:
    """A chat message; a turn with images becomes text and `image_url` parts (data URLs)."""
    if not turn.images:
        return {"role": turn.role, "content": turn.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": turn.content}]
    for image in turn.images:
        encoded = base64.b64encode(image.data).decode("ascii")
        parts.append(
            {"type": "image_url", "image_url": {"url": f"data:{image.media_type};base64,{encoded}"}}
        )
    return {"role": turn.role, "content": parts}


class OpenAIProvider:
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._client: OpenAI | None = None

    @property
    def client(self) -> OpenAI:
        """The SDK client, built again when the key parameter's value has been rotated."""
        key = NO_KEY
        if self.settings.model_api_key_parameter:
            key = ssm_secret(self.settings.model_api_key_parameter, self.settings.aws_region)
        if self._client is None or self._client.api_key != key:
            from openai import OpenAI, Timeout

            timeout = self.settings.model_timeout_seconds
            self._client = OpenAI(
                api_key=key,
                base_url=self.settings.model_base_url or None,
                timeout=Timeout(timeout, connect=min(5.0, timeout)),
                max_retries=self.settings.model_max_retries,
            )
        return self._client

    def _request(
        self, turns: Sequence[ChatTurn], max_tokens: int | None, temperature: float | None = None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.settings.model_id,
            "messages": [openai_message(t) for t in turns],
            "max_tokens": max_tokens or self.settings.model_max_output_tokens,
        }
        if temperature is not None:
            request["temperature"] = temperature
        return request

    def stream(
        self,
        turns: Sequence[ChatTurn],
        *,
        max_tokens: int | None = None,
        session_id: str | None = None,
        temperature: float | None = None,
    ) -> Iterator[Delta | Done]:
        import openai

        try:
            response = self.client.chat.completions.create(
                **self._request(turns, max_tokens, temperature),
                stream=True,
                stream_options={"include_usage": True},
            )
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from exc
        text: list[str] = []
        finish: str | None = None
        usage: Usage | None = None
        try:
            for chunk in response:
                if chunk.usage is not None:
                    usage = Usage(
                        input_tokens=chunk.usage.prompt_tokens,
                        output_tokens=chunk.usage.completion_tokens,
                    )
                for choice in chunk.choices:
                    if choice.delta.content:
                        text.append(choice.delta.content)
                        yield Delta(text=choice.delta.content)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from exc
        except Exception as exc:
            logger.warning("model stream broke: %s", type(exc).__name__)
            raise ProviderError("The assistant's reply was cut off", retryable=True) from exc
        finally:
            response.close()  # on `gen.close()` too: cancels the HTTP stream
        if finish is None:
            raise ProviderError("The assistant's reply was cut off", retryable=True)
        if usage is None:
            usage = Usage(
                input_tokens=sum(estimate_tokens(t.content) for t in turns),
                output_tokens=estimate_tokens("".join(text)),
            )
        yield Done(usage=usage, stop_reason=finish)

    def complete(
        self,
        turns: Sequence[ChatTurn],
        *,
        max_tokens: int | None = None,
        session_id: str | None = None,
    ) -> tuple[str, Usage]:
        import openai

        try:
            response = self.client.chat.completions.create(**self._request(turns, max_tokens))
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from exc
        if not response.choices:
            raise ProviderError("The assistant gave no answer", retryable=True)
        content = response.choices[0].message.content or ""
        if response.usage is not None:
            usage = Usage(
                input_tokens=response.usage.prompt_tokens,
                output_tokens=response.usage.completion_tokens,
            )
        else:
            usage = Usage(
                input_tokens=sum(estimate_tokens(t.content) for t in turns),
                output_tokens=estimate_tokens(content),
            )
        return content, usage


def _provider_error(exc: Exception) -> ProviderError:
    """Map an SDK error to a message safe to show; the detail goes to the log only."""
    import openai

    logger.warning("model call failed: %s", type(exc).__name__)
    if isinstance(exc, openai.APIError) and _context_exceeded(exc):
        return ContextTooLong()
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError(
            "The assistant took too long to answer", retryable=True, unavailable=True
        )
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError("The assistant could not be reached", retryable=True, unavailable=True)
    if isinstance(exc, openai.RateLimitError):
        return ProviderError(
            "The assistant is busy, please retry shortly", retryable=True, unavailable=True
        )
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return ProviderError("The assistant failed to answer", retryable=True)
        return ProviderError("The assistant rejected the request", retryable=False)
    return ProviderError("The assistant failed to answer", retryable=True)


def _context_exceeded(exc: Exception) -> bool:
    """A refusal because the prompt does not fit the context window (a 4xx or a stream's
    error event, never a server fault)."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return False
    if getattr(exc, "code", None) == CONTEXT_CODE:
        return True
    return CONTEXT_MESSAGE.search(str(getattr(exc, "message", "") or exc)) is not None
