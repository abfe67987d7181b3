"""Clean-up after a delete, from the change feed.

`DELETE /conversations/{id}` only marks META `deleted_at` and answers. The mark arrives here as a
META change; each pass deletes up to `PURGE_LIMIT` items under the conversation (messages,
members, reply slots, client-id items, whatever projections keyed under it) and either deletes
META (done) or bumps its `purge_pass`, whose change brings the next pass. Each deleted item
reaches every projection as a REMOVE, so the search index and uploads follow their messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.changes import Change

if TYPE_CHECKING:
    from parley.store import Store

PURGE_LIMIT = 1000
"""Items deleted per pass: 40 BatchWriteItem calls, a few seconds, far inside the timeout."""


class ConversationCleanup:
    def __init__(self, store: Store, *, limit: int | None = None) -> None:
        self.store = store
        self.limit = limit or PURGE_LIMIT

    def apply(self, change: Change) -> None:
        if change.sk != "META" or change.new is None or "deleted_at" not in change.new:
            return
        if (
            change.old is not None
            and "deleted_at" in change.old
            and not change.field_changed("purge_pass")
        ):
            return  # another change of a META already being purged
        self.store.conversations.purge(
            change.pk.removeprefix("CONV#"), int(change.new.get("purge_pass", 0)), limit=self.limit
        )
