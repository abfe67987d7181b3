"""The change feed: what happened to one `chat` table item, and the projections that follow it.

DynamoDB Streams (NEW_AND_OLD_IMAGES) delivers every write to the `chat` table to
`stream_processor`; locally a poller does the same from moto's stream (`tasks/local/streams.py`).
Each stream record becomes one `Change` — plain Python values, no DynamoDB JSON — and the
processor applies every projection of `projections()` to it, in order.

**Adding a projection** (search index, upload clean-up, …): write a class in its own module of
`parley` that takes the `Store` and has `apply(change) -> None`, and add it to the list in
`projections()` below. That list is the one registration point. A projection must be:

* **idempotent**: a batch is redelivered after any failure (Lambda retries the whole batch,
  then bisects it), so applying a change twice must leave the same state — use conditional
  writes keyed by the item's own key or `Change.event_id`, never a blind `ADD`;
* **order-tolerant across items**: changes of one item arrive in order (one shard per key),
  changes of different items may interleave;
* **quiet about items it does not own**: return early on keys it does not read, and raise
  only when the change must be retried (the record then goes back, and after the retries to
  the dead-letter queue, where `invoke redrive` replays it).

Only `CONV#…` items reach the processor: the event source mapping filters on that prefix (see
`STREAM_KEY_PREFIX`), so the projections' own writes (`USER#…` rollups, `EVENT#…` markers) do
not wake it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from parley.store.table import plain

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from parley.store import Store

log = logging.getLogger(__name__)

EventName = Literal["INSERT", "MODIFY", "REMOVE"]

STREAM_KEY_PREFIX = "CONV#"
"""The partition-key prefix the event source mapping lets through (manifest `stream.filter`)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One write to one item, as the stream saw it."""

    event: EventName
    event_id: str
    """The stream record's id: the same on every redelivery of the record."""
    keys: dict[str, str]
    """The item's primary key (`pk`, `sk`)."""
    old: dict[str, Any] | None
    """The item before the write (None for INSERT)."""
    new: dict[str, Any] | None
    """The item after the write (None for REMOVE)."""
    approximate_at: float = 0.0
    """When DynamoDB wrote it (epoch seconds, the record's ApproximateCreationDateTime)."""

    @property
    def pk(self) -> str:
        return self.keys["pk"]

    @property
    def sk(self) -> str:
        return self.keys["sk"]

    @property
    def image(self) -> dict[str, Any]:
        """The newest image there is: `new`, or `old` for a REMOVE."""
        return self.new if self.new is not None else (self.old or {})

    def field_changed(self, name: str) -> bool:
        return (self.old or {}).get(name) != (self.new or {}).get(name)

    @classmethod
    def from_record(cls, record: DynamoDBRecord) -> Change:
        """A stream record (Powertools' data class) as a `Change` of plain Python values."""
        stream = record.dynamodb
        if stream is None or record.event_name is None or record.event_id is None:
            raise ValueError("not a DynamoDB stream record")
        created = stream.approximate_creation_date_time
        return cls(
            event=cast("EventName", record.event_name.name),
            event_id=record.event_id,
            keys={k: str(v) for k, v in (stream.keys or {}).items()},
            old=plain(stream.old_image) if stream.old_image else None,
            new=plain(stream.new_image) if stream.new_image else None,
            approximate_at=float(created) if created is not None else 0.0,
        )


class Projection(Protocol):
    """Something kept up to date from the change feed."""

    def apply(self, change: Change) -> None: ...


def projections(store: Store) -> list[Projection]:
    """THE list of projections, applied to every change in this order."""
    from parley.activity import MemberActivity
    from parley.attachments import AttachmentCleanup
    from parley.cleanup import ConversationCleanup
    from parley.rollups import UsageRollups
    from parley.search import SearchIndex
    from parley.shares import ShareCleanup

    return [
        MemberActivity(store),
        UsageRollups(store),
        SearchIndex(store),
        ConversationCleanup(store),
        AttachmentCleanup.from_environment(),
        ShareCleanup.from_environment(store),
    ]


class ChangeFeed:
    """Applies every projection to each change; a projection's error fails the change (the
    record is retried, then sent to the dead-letter queue) after the others have run."""

    def __init__(self, items: list[Projection]) -> None:
        self.projections = items

    def apply(self, change: Change) -> None:
        errors: list[Exception] = []
        for projection in self.projections:
            try:
                projection.apply(change)
            except Exception as exc:  # every projection runs; the first error is raised
                log.exception(
                    "projection failed",
                    extra={"projection": type(projection).__name__, "event_id": change.event_id},
                )
                errors.append(exc)
        if errors:
            raise errors[0]
