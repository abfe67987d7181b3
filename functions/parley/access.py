"""Who may do what in a conversation: decided here, once, for every transport.

Membership is the access check: a non-member gets `ConversationNotFound`, exactly as for an id
that does not exist, so nobody learns which conversations exist. Past membership, the rules
are small and named: the owner renames a room, adds and removes members, shares the
conversation (read-only links) and deletes it; anyone may leave; a reply is stopped, or a
message answered again, by who asked or by the owner; any member rates the assistant's finished
replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from parley.errors import AttachmentNotFound, Conflict, ConversationNotFound, Forbidden

if TYPE_CHECKING:
    from parley.models import Member, Message
    from parley.store import Store
    from parley.store.attachments import AttachmentRecord
    from parley.store.conversations import ConversationRecord

MAX_MEMBERS = 50
"""Members of one conversation at most (a room's broadcast stays one small Query)."""


@dataclass(frozen=True)
class Room:
    """A conversation as one member sees it: the record, every member, and the caller."""

    record: ConversationRecord
    members: dict[str, Member]
    caller: Member

    @property
    def member_ids(self) -> frozenset[str]:
        return frozenset(self.members)

    @property
    def is_owner(self) -> bool:
        return self.record.owner_id == self.caller.user_id


def membership(store: Store, conversation_id: str, user_id: str) -> Member:
    """The caller's member item; `ConversationNotFound` when not a member (no leak)."""
    member = store.conversations.member(conversation_id, user_id)
    if member is None:
        raise ConversationNotFound()
    return member


def room_for(store: Store, conversation_id: str, user_id: str) -> Room:
    """The room with all its members, if the user is one of them (one Query, one read)."""
    members = {m.user_id: m for m in store.conversations.members(conversation_id)}
    caller = members.get(user_id)
    if caller is None:
        raise ConversationNotFound()
    return Room(store.conversations.record(conversation_id), members, caller)


def require_may_rename(record: ConversationRecord, member: Member) -> None:
    if record.kind == "group" and member.role != "owner":
        raise Forbidden("Only the owner can rename a group conversation")


def require_may_choose_model(record: ConversationRecord, member: Member) -> None:
    """Who picks the model that answers: anyone in their own chat, the owner in a room."""
    if record.kind == "group" and member.role != "owner":
        raise Forbidden("Only the owner can choose a group conversation's model")


def require_may_invite(record: ConversationRecord, member: Member, member_count: int) -> None:
    """Checked before the invited address is looked up: who may not invite learns nothing."""
    if record.kind != "group":
        raise Conflict("Members can only be added to a group conversation")
    if member.role != "owner":
        raise Forbidden("Only the owner can add members")
    if member_count >= MAX_MEMBERS:
        raise Conflict(f"A conversation has at most {MAX_MEMBERS} members")


def require_may_remove(actor: Member, target: Member) -> None:
    if target.user_id != actor.user_id and actor.role != "owner":
        raise Forbidden("Only the owner can remove other members")
    if target.role == "owner":
        raise Conflict("The owner cannot leave; delete the conversation instead")


def require_may_share(member: Member) -> None:
    """Share links (`parley.shares`) publish the conversation: its owner's decision alone.
    Membership is checked first, so a non-member learns nothing."""
    if member.role != "owner":
        raise Forbidden("Only the owner can share a conversation or manage its links")


def require_may_delete(member: Member) -> None:
    if member.role != "owner":
        raise Forbidden("Only the owner can delete a conversation")


def require_may_stop(room: Room, requested_by: str) -> None:
    if requested_by != room.caller.user_id and not room.is_owner:
        raise Forbidden("Only who asked for this reply, or the room's owner, can stop it")


def require_may_retry(room: Room, author_id: str) -> None:
    if author_id != room.caller.user_id and not room.is_owner:
        raise Forbidden("Only the author or the room's owner can ask again")


# Ratings: membership is checked first (so a non-member learns nothing of the message); every
# member reads every message, so every member may rate any reply.
def require_may_rate(message: Message) -> None:
    """Only the assistant's replies are rated, and only once they have ended: a stopped reply
    is rated as it stands; a failed one has nothing to rate."""
    if message.role != "assistant":
        raise Conflict("Only the assistant's replies can be rated")
    if message.status == "streaming":
        raise Conflict("This reply is still being written; rate it once it has finished")
    if message.status == "failed":
        raise Conflict("This reply failed; there is nothing to rate")


# Attachments: membership is checked first; the record is read from the conversation's own
# partition, so it is of this conversation or None.
def require_may_see_attachment(record: AttachmentRecord | None, user_id: str) -> None:
    """A file is the uploader's until it is sent; then the whole room's. Anyone else learns
    nothing, not even that it exists."""
    if record is None or (record.owner_id != user_id and record.message_id is None):
        raise AttachmentNotFound()


def require_may_download(record: AttachmentRecord | None, user_id: str) -> None:
    require_may_see_attachment(record, user_id)
    assert record is not None
    if record.status != "ready":
        raise Conflict(f"{record.name} cannot be downloaded: it is {record.status}")


def require_may_reference(record: AttachmentRecord | None, author_id: str) -> None:
    """A message carries only its sender's own uploads to this conversation, once ready."""
    if record is None or record.owner_id != author_id:
        raise AttachmentNotFound()
    if record.status == "pending":
        raise Conflict(f"{record.name} is still being checked; send it when it is ready")
    if record.status != "ready":
        raise Conflict(f"{record.name} was rejected and cannot be sent")
