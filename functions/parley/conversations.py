"""Managing conversations and their members: the rules of `parley.access` applied to the store.

Removing a member (or leaving) also ends that user's live subscriptions to the room, so their
open sockets stop hearing it at once — including a reply that is streaming — and the room is
told who is still there.

Whoever a change concerns is told on every connection they have open, subscribed or not (their
personal event stream): the owner of a new conversation (their other devices list it), the
invitee that they were added, the member removed (or who left on
another device) that the conversation left their list, every member of a conversation renamed
or deleted. These events are decided here, and only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley import access
from parley.assistants import persona
from parley.errors import BadRequest, InvalidInput, MemberNotFound, UserNotFound
from parley.realtime.protocol import ConversationAdded, ConversationRemoved, ConversationUpdated

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from parley.assistants import Assistants
    from parley.catalog import Catalog
    from parley.models import Conversation, Kind, Member, Profile
    from parley.realtime.protocol import _Event
    from parley.store import Store


class RoomPresence:
    """What the realtime side does when membership changes (`parley.realtime.rooms.Rooms`)."""

    def member_removed(self, conversation_id: str, user_id: str) -> None:
        """End the user's subscriptions to the room and tell the room who is left."""

    def tell(self, events: Mapping[str, _Event]) -> None:
        """Send each user (by id) their personal event, on every connection they have open."""


class Conversations:
    def __init__(
        self,
        store: Store,
        presence: RoomPresence | None = None,
        catalog: Callable[[], Catalog] | None = None,
    ) -> None:
        self.store = store
        self.presence = presence or RoomPresence()
        self.catalog = catalog
        """The environment's models (`parley.catalog`); None: conversations name no model."""
        self.on_deleted: Callable[[str], object] | None = None
        """Called with the id of a conversation just deleted (its share links end at once,
        `parley.shares`)."""
        self.assistants: Assistants | None = None
        """Users' assistants (`parley.assistants`): a chat may start from one."""

    def create(
        self,
        owner: Profile,
        *,
        kind: Kind,
        title: str | None,
        model: str | None = None,
        groups: Sequence[str] = (),
        assistant_id: str | None = None,
    ) -> Conversation:
        """Create it with the model asked for (one the owner may use) or the default, and tell
        the owner's open connections, so their other devices list it.

        A chat started from one of the owner's assistants (`assistant_id`; anyone else's is
        `AssistantNotFound`) keeps a snapshot of it: its instructions, name and temperature
        answer here, and its model unless `model` names another; the owner must be allowed to
        use that model now."""
        snapshot = None
        if assistant_id is not None:
            if kind != "assistant":
                raise InvalidInput(
                    "assistantId: a room adds assistants (POST /conversations/{id}/assistants)"
                )
            if self.assistants is None:
                raise BadRequest("This environment offers no assistants")
            record = self.assistants.for_chat(owner.id, assistant_id)
            model = model or record.model
            snapshot = persona(record)
        chosen = self._model(model, groups)
        created = self.store.conversations.create(
            owner, kind=kind, title=title, model=chosen, persona=snapshot
        )
        self.presence.tell({owner.id: ConversationAdded(conversation=created)})
        return created

    def update(
        self,
        conversation_id: str,
        user_id: str,
        *,
        title: str | None = None,
        model: str | None = None,
        groups: Sequence[str] = (),
    ) -> Conversation:
        """Rename it and/or choose the model that writes the next reply; every member's
        devices hear of it."""
        member = access.membership(self.store, conversation_id, user_id)
        record = self.store.conversations.record(conversation_id)
        if title is not None:
            access.require_may_rename(record, member)
        if model is not None:
            access.require_may_choose_model(record, member)
            chosen = self._model(model, groups)
            assert chosen is not None
            record = self.store.conversations.set_model(record, chosen)
        if title is not None:
            record = self.store.conversations.retitle(record, title)
        self.presence.tell(
            {
                m.user_id: ConversationUpdated(conversation=record.view(m.role))
                for m in self.store.conversations.members(conversation_id)
            }
        )
        return record.view(member.role)

    def _model(self, model: str | None, groups: Sequence[str]) -> str | None:
        """The catalog id to store: the one asked for, checked, else the default."""
        if self.catalog is None:
            if model is not None:
                raise BadRequest("This environment offers no choice of model")
            return None
        catalog = self.catalog()
        if model is None:
            return catalog.default
        return catalog.require(model, groups).id

    def get(self, conversation_id: str, user_id: str) -> Conversation:
        member = access.membership(self.store, conversation_id, user_id)
        return self.store.conversations.record(conversation_id).view(member.role)

    def rename(self, conversation_id: str, user_id: str, title: str) -> Conversation:
        member = access.membership(self.store, conversation_id, user_id)
        record = self.store.conversations.record(conversation_id)
        access.require_may_rename(record, member)
        renamed = self.store.conversations.retitle(record, title)
        self.presence.tell(
            {
                m.user_id: ConversationUpdated(conversation=renamed.view(m.role))
                for m in self.store.conversations.members(conversation_id)
            }
        )
        return renamed.view(member.role)

    def delete(self, conversation_id: str, user_id: str) -> None:
        """Mark it deleted and answer at once: it leaves every member's list now, and the change
        feed removes its messages, members and the rest in the background (`parley.cleanup`)."""
        member = access.membership(self.store, conversation_id, user_id)
        access.require_may_delete(member)
        told = self.store.conversations.members(conversation_id)
        self.store.conversations.mark_deleted(conversation_id, owner_id=user_id)
        if self.on_deleted is not None:
            self.on_deleted(conversation_id)
        gone = ConversationRemoved(conversation_id=conversation_id, reason="deleted")
        self.presence.tell({m.user_id: gone for m in told})

    def members(self, conversation_id: str, user_id: str) -> list[Member]:
        access.membership(self.store, conversation_id, user_id)
        return self.store.conversations.members(conversation_id)

    def invite(self, conversation_id: str, user_id: str, email: str) -> Member:
        """Add a user by e-mail. Who may not invite is refused before the address is looked
        up, so only an owner of a room learns whether an address has an account. An address
        without one is still answered UserNotFound, and its invitation is kept for sign-up."""
        room = access.room_for(self.store, conversation_id, user_id)
        access.require_may_invite(room.record, room.caller, len(room.members))
        invited = self.store.profiles.find_by_email(email)
        if invited is None:
            # Kept, so the address may sign up where only invited addresses may (parley.signup).
            self.store.invites.put(email, user_id, conversation_id)
            raise UserNotFound()
        member = self.store.conversations.add_member(room.record, invited)
        added = ConversationAdded(conversation=room.record.view(member.role))
        self.presence.tell({member.user_id: added})
        return member

    def remove(self, conversation_id: str, user_id: str, target_id: str) -> None:
        """Remove a member (the owner) or leave (anyone, themselves)."""
        actor = access.membership(self.store, conversation_id, user_id)
        target = actor if target_id == user_id else None
        if target is None:
            if actor.role != "owner":
                access.require_may_remove(actor, _stranger(target_id))
            target = self.store.conversations.member(conversation_id, target_id)
            if target is None:
                raise MemberNotFound()
        access.require_may_remove(actor, target)
        self.store.conversations.remove_member(conversation_id, target_id)
        self.presence.member_removed(conversation_id, target_id)
        reason = "left" if target_id == user_id else "removed"
        self.presence.tell(
            {target_id: ConversationRemoved(conversation_id=conversation_id, reason=reason)}
        )


def _stranger(user_id: str) -> Member:
    """A placeholder target for a non-owner's request: refused before anyone is looked up."""
    from parley.models import Member

    return Member(user_id=user_id, email="", name="", role="member", joined_at="")
