"""Asking the assistant over HTTP: store the user's message, get a reply, store it.

The user's message is stored before the model is called, so a provider failure never loses it;
a retry with the same clientMessageId stores nothing new and returns the earlier reply when
there is one, so nothing is duplicated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from parley.bots import SYSTEM_PROMPT, ChatTurn, Provider, ProviderError, trim_history
from parley.config import ApiSettings
from parley.errors import AssistantUnavailable
from parley.models import Message, Profile
from parley.quota import check_quota, record_usage
from parley.store import Store
from parley.titles import title_from

logger = logging.getLogger("parley.assistant")

HISTORY_MESSAGES = 50


@dataclass(frozen=True)
class Exchange:
    message: Message
    reply: Message
    replayed: bool
    """True when the reply was found from an earlier attempt, not made now."""


def history_turns(store: Store, conversation_id: str, budget: int) -> list[ChatTurn]:
    """The system prompt and the recent complete messages that fit the token budget."""
    turns = [ChatTurn(role="system", content=SYSTEM_PROMPT)]
    for message in store.messages.recent(conversation_id, HISTORY_MESSAGES):
        if message.status == "complete" and message.content:
            turns.append(ChatTurn(role=message.role, content=message.content))
    return trim_history(turns, budget)


def ask(
    store: Store,
    provider: Provider,
    settings: ApiSettings,
    *,
    conversation_id: str,
    author: Profile,
    content: str,
    client_message_id: str | None = None,
) -> Exchange:
    """Post `content` as `author` and answer it (non-streaming)."""
    store.conversations.membership(conversation_id, author.id)
    check_quota(store, author.id, settings.daily_token_quota)
    message, created = store.messages.put_user_message(
        conversation_id,
        author_id=author.id,
        author_name=author.name,
        content=content,
        client_message_id=client_message_id,
    )
    if not created:
        earlier = store.messages.reply_to(conversation_id, message.id)
        if earlier is not None:
            return Exchange(message, earlier, replayed=True)
    else:
        store.conversations.title_from_first_message(conversation_id, title_from(content))

    turns = history_turns(store, conversation_id, settings.history_token_budget)
    try:
        text, usage = provider.complete(turns)
    except ProviderError as exc:
        store.conversations.touch(conversation_id, message.created_at)  # the message is activity
        raise AssistantUnavailable(
            f"{exc.message}. Your message was saved; send it again to retry.",
            retryable=exc.retryable,
            status=503 if exc.unavailable else 502,
        ) from exc
    reply = store.messages.put_assistant_message(
        conversation_id, reply_to=message.id, content=text, status="complete", usage=usage
    )
    record_usage(store, author.id, usage)
    store.conversations.touch(conversation_id, reply.created_at)
    return Exchange(message, reply, replayed=False)
