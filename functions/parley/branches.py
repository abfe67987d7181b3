"""Branches of a chat with the assistant: edited questions and versions of a reply.

In a chat with the assistant each user message records the message it follows (`parent_id`;
the conversation's own id for the first one) and each reply the question it answers
(`reply_to`), so the conversation is a tree. Editing a message adds a sibling that follows what
the original followed — a new branch from there, the original kept; asking again adds a
sibling reply — a new version of the answer (a later "answer with another model" is one more
version). The model reads one branch only: the path from the question back to the start
(`parley.history`). Rooms stay linear: everyone sees, and the model reads, every message in
order.

Messages stored before branches existed carry no `parent_id`: each follows the message before
it, so old conversations read as one branch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.errors import InvalidInput, MessageNotFound

if TYPE_CHECKING:
    from parley.access import Room
    from parley.models import Message
    from parley.store import Store


def parent_for(
    store: Store, room: Room, author_id: str, *, after: str | None, edit_of: str | None
) -> str | None:
    """The message a new message of `author_id` follows (None in a room: rooms are linear)."""
    if room.record.kind != "assistant":
        if after is not None or edit_of is not None:
            raise InvalidInput("Messages in a room follow each other: they cannot be edited")
        return None
    conversation_id = room.record.id
    if edit_of is not None:
        if after is not None:
            raise InvalidInput("Send 'after' or 'editOf', not both")
        original = _message(store, conversation_id, edit_of)
        if original.role != "user" or original.author_id != author_id:
            raise InvalidInput("Only your own messages can be edited")
        return store.messages.parent_of(original)
    if after is not None:
        return _message(store, conversation_id, after).id
    newest = store.messages.newest(conversation_id)
    return newest.id if newest is not None else conversation_id


def _message(store: Store, conversation_id: str, message_id: str) -> Message:
    try:
        return store.messages.get(conversation_id, message_id)
    except MessageNotFound:
        raise MessageNotFound("No such message in this conversation") from None
