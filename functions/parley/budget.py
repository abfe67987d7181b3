"""How much the model can read: one budget from its context window and its output limit.

A model reads the prompt and writes the reply inside one context window, so what the history
may take is ``window - output limit - margin``. The margin covers what the estimate cannot see
(the chat template's tokens around every turn) and its error. The same budget gives the one
limit on a message's length that every transport enforces and the app shows (`GET /me`):
a message that cannot fit with the system prompt is refused with `validation_error` before any
quota is claimed or any model is called, never cut silently.

The context window comes from settings: ``MODEL_CONTEXT_WINDOW`` when set, else the window of
the configured model as listed below, else a conservative default. (A model catalog will
replace the list; the budget stays a function of the window and the output limit.)

Token estimate: about four ASCII characters per token and one token per other character, plus
four per turn (`parley.bots.estimate_tokens`). BPE tokenizers of the GPT, Llama and SmolLM
families average 3.5–4.5 characters per token on English prose and code; CJK text takes one to
two tokens per character and accented Latin letters usually share a token with their
neighbours, so counting every non-ASCII character as a token errs on the safe side. It needs
no tokenizer download, costs one pass over the text, and the provider's own refusal (mapped to
a clear reason in `parley.bots`) still catches what it misjudges.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.bots import SYSTEM_PROMPT, estimate_tokens
from parley.errors import InvalidInput

CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4o-mini": 128_000,
    "gpt-4o": 128_000,
    "gpt-4.1": 1_000_000,
    "gpt-4.1-mini": 1_000_000,
    "anthropic.claude-3-haiku-20240307-v1:0": 200_000,
    "smollm2-135m-instruct": 2048,  # the local demo model, served with n_ctx 2048
    "scripted-model": 8192,  # the test model
}
"""Context windows (tokens) of the models Parley is set up with, by model id."""
DEFAULT_CONTEXT_WINDOW = 8192
"""For a model not listed: small enough for most models served today."""
MAX_MESSAGE_CHARS = 16_000
"""The longest message whatever the model: it must fit one WebSocket frame (`parley.realtime.
protocol.MAX_CONTENT_BYTES`) with room to spare."""
PREFIX_ALLOWANCE = 24
"""Tokens kept for what surrounds a message in the prompt (a room's `"Name": ` prefix)."""
GROUP_PROMPT_ALLOWANCE = 64
"""Tokens kept for the room's addition to the system prompt (`parley.history.GROUP_PROMPT`)."""


def context_window(model_id: str, configured: int | None = None) -> int:
    """The model's context window: the setting, else the list, else the default."""
    if configured:
        return configured
    return CONTEXT_WINDOWS.get(model_id, DEFAULT_CONTEXT_WINDOW)


@dataclass(frozen=True, slots=True)
class Budget:
    """What one model call may read, from the window and the output limit (tokens)."""

    window: int
    max_output: int

    @property
    def margin(self) -> int:
        """Kept back for the chat template and the estimate's error: 5% of the window."""
        return self.window // 20

    @property
    def prompt_tokens(self) -> int:
        """What the whole prompt (system, history and the question) may take."""
        return max(0, self.window - self.max_output - self.margin)

    def history_tokens(self, cap: int | None = None) -> int:
        """The prompt budget, lowered to `cap` (a cost limit on history) when one is set."""
        return min(self.prompt_tokens, cap) if cap else self.prompt_tokens

    @property
    def message_tokens(self) -> int:
        """The largest question: the prompt budget less the system prompt (a room's too)."""
        fixed = estimate_tokens(SYSTEM_PROMPT) + GROUP_PROMPT_ALLOWANCE + PREFIX_ALLOWANCE
        return max(0, self.prompt_tokens - fixed)

    @property
    def message_chars(self) -> int:
        """The longest message in characters (of plain text): the limit the app shows."""
        by_tokens = max(0, (self.message_tokens - 4) * 4)
        return min(MAX_MESSAGE_CHARS, by_tokens)

    def check(self, content: str) -> None:
        """Refuse a message that cannot be sent to the model whole (`validation_error`)."""
        if len(content) > self.message_chars:
            raise InvalidInput(too_long(len(content), self.message_chars))
        tokens = estimate_tokens(content)
        if tokens > self.message_tokens:
            raise InvalidInput(
                f"Message is too long for the assistant: about {tokens:,} tokens; "
                f"the limit is {self.message_tokens:,}."
            )


def too_long(length: int, limit: int) -> str:
    """The refusal of a message over the length limit; the app shows the same sentence."""
    return f"Message is too long: {length:,} characters; the limit is {limit:,}."
