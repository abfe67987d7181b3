"""Who is in a room right now, and what membership changes do to live sockets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.conversations import RoomPresence
from parley.realtime.fanout import RoomMembers
from parley.realtime.metrics import record_broadcast

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from parley.realtime.fanout import Broadcaster
    from parley.realtime.protocol import _Event
    from parley.store import Store
    from parley.store.connections import ConnectionsRepository


class LivePresence(RoomPresence):
    def __init__(
        self, *, store: Store, connections: ConnectionsRepository, broadcaster: Broadcaster
    ) -> None:
        self.store = store
        self.connections = connections
        self.broadcaster = broadcaster

    def members(self, conversation_id: str, known: Collection[str] | None = None) -> RoomMembers:
        """The room's members for a broadcast: `known` if just read, read again when needed."""
        return RoomMembers.of(self.store.conversations, conversation_id, known=known)

    def announce(self, conversation_id: str, members: Collection[str] | None = None) -> None:
        """Tell the room who is in it (members read now unless the caller just read them)."""
        room = self.members(conversation_id, members)
        if not room.current():
            return  # the conversation is gone: nobody to tell
        record_broadcast(self.broadcaster.announce_presence(conversation_id, room))

    def tell(self, events: Mapping[str, _Event]) -> None:
        """Send each user their personal event, on every connection they have open."""
        if events:
            record_broadcast(self.broadcaster.tell_users(events))

    def member_removed(self, conversation_id: str, user_id: str) -> None:
        """End the removed user's subscriptions at once (the room's streaming replies read
        their listeners again before the next chunk), then tell the room who is left."""
        if self.connections.unsubscribe_user(conversation_id, user_id):
            self.store.messages.listeners_changed(conversation_id)
        self.announce(conversation_id)
