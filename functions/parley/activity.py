"""Member activity, kept from the change feed: "my conversations, most recent activity first".

Every member item of a conversation carries a copy of the conversation's `updated_at` and
`title` and its GSI1 sort key (`<updated_at>#CONV#<id>`), so a user's list is one Query. When a
user posts, the request stores the message and nothing that grows with the room; this
projection then moves META and each member's key to the message's time (at most one write per
member, each conditional on being older, so a redelivered or late change never moves a
conversation back). A META change of title (rename, the title from the first message) is copied
to the members the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.changes import Change

if TYPE_CHECKING:
    from parley.store import Store


class MemberActivity:
    def __init__(self, store: Store) -> None:
        self.store = store

    def apply(self, change: Change) -> None:
        if change.new is None or change.new.get("deleted_at"):
            return
        if change.sk.startswith("MSG#") and change.event == "INSERT":
            if change.new.get("role") == "user":
                conversation_id = change.pk.removeprefix("CONV#")
                self.store.conversations.touch(conversation_id, str(change.new["created_at"]))
        elif change.sk == "META" and change.event == "MODIFY" and change.field_changed("title"):
            conversation_id = change.pk.removeprefix("CONV#")
            self.store.conversations.copy_title(conversation_id, str(change.new["title"]))
            self.store.conversations.touch(conversation_id, str(change.new["updated_at"]))
