"""Usage rollups from the change feed: what each user did per UTC day and month.

* a user's message (a `MSG#` item inserted with role `user`) counts one message for its author
  on the day it was written;
* an assistant reply that ends (its status leaves `streaming`) counts its input and output
  tokens for who asked for it, and one `stopped` or `failed` when it ended so, on the day the
  reply began (the day its quota claim was made).

Each counts once per message id (`RollupRepository.count_once`), however often the change is
delivered. Deleting a conversation changes no rollup: usage is history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.changes import Change
from parley.store.rollups import Counts

if TYPE_CHECKING:
    from parley.store import Store

ENDED = ("complete", "stopped", "failed")


def counts_of(change: Change) -> tuple[str, Counts] | None:
    """Who a change counts for and what, or None when it counts nothing."""
    if not change.sk.startswith("MSG#") or change.new is None:
        return None
    new = change.new
    if change.event == "INSERT" and new.get("role") == "user":
        return str(new["author_id"]), Counts(messages=1)
    if new.get("role") != "assistant" or new.get("status") not in ENDED:
        return None
    if change.old is not None and change.old.get("status") in ENDED:
        return None  # ended before: counted then
    usage: dict[str, Any] = new.get("usage") or {}
    status = new.get("status")
    return str(new.get("requested_by", "")), Counts(
        tokens_in=int(usage.get("input_tokens", 0)),
        tokens_out=int(usage.get("output_tokens", 0)),
        stopped=int(status == "stopped"),
        failed=int(status == "failed"),
    )


class UsageRollups:
    def __init__(self, store: Store) -> None:
        self.store = store

    def apply(self, change: Change) -> None:
        found = counts_of(change)
        if found is None or not found[0]:
            return
        user_id, counts = found
        assert change.new is not None
        day = str(change.new["created_at"])[:10]
        message_id = change.sk.removeprefix("MSG#")
        self.store.rollups.count_once(message_id, user_id, day, counts)
