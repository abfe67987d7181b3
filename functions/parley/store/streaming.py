"""The state of assistant replies while they stream, kept on the reply's message item.

The reply is an ordinary message item (``CONV#<c> / MSG#<reply id>``, status ``streaming``) that
the worker updates at every coalesced delta with the text so far and its ``seq``; a client that
reloads mid-reply reads that snapshot and applies only deltas with a larger ``seq``. The same
update returns ``stop_requested``, the cancel flag a `stop` action sets, so the worker learns of
a stop within one coalescing window at no extra request. A small marker item
``CONV#<c> / STREAM#<reply id>`` lives while the reply streams, so `subscribe` finds the live
replies of a room with one Query that reads only them, however long the history is.

The reply id is chosen by `ws_message` before the worker is invoked; `begin` creates the item
only if it does not exist, which is what makes a retried async invoke harmless.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from parley.ids import iso

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb.service_resource import Table

ASSISTANT_ID = "assistant"
"""The author id of the assistant's messages."""
ASSISTANT_NAME = "Assistant"

Status = Literal["streaming", "complete", "stopped", "failed"]


class ReplyNotFound(Exception):
    """No such reply in this conversation."""


class ReplyNotStreaming(Exception):
    """The reply has already ended (complete, stopped or failed)."""


class StopNotAllowed(Exception):
    """Only the member who asked for the reply, or the room's owner, may stop it."""


@dataclass(frozen=True, slots=True)
class ReplyState:
    """What is known of a reply (streaming or ended)."""

    conversation_id: str
    message_id: str
    reply_to: str | None
    requested_by: str
    status: Status
    content: str
    seq: int
    stop_requested: bool
    created_at: str
    updated_at: str
    item: dict[str, Any]

    def age_seconds(self, now: float | None = None) -> float:
        """Seconds since the worker last wrote the reply (its heartbeat)."""
        updated = datetime.fromisoformat(self.updated_at.replace("Z", "+00:00")).timestamp()
        return (time.time() if now is None else now) - updated


def iso_now(clock: Callable[[], float] = time.time) -> str:
    """ISO 8601 UTC with ``Z`` and milliseconds, the format of every stored timestamp."""
    return iso(datetime.fromtimestamp(clock(), tz=UTC))


def _key(conversation_id: str, message_id: str) -> dict[str, str]:
    return {"pk": f"CONV#{conversation_id}", "sk": f"MSG#{message_id}"}


def _marker(conversation_id: str, message_id: str) -> dict[str, str]:
    return {"pk": f"CONV#{conversation_id}", "sk": f"STREAM#{message_id}"}


def _is_conditional(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def _state(item: dict[str, Any]) -> ReplyState:
    return ReplyState(
        conversation_id=str(item["pk"]).removeprefix("CONV#"),
        message_id=str(item["sk"]).removeprefix("MSG#"),
        reply_to=str(item["reply_to"]) if item.get("reply_to") else None,
        requested_by=str(item.get("requested_by", "")),
        status=item.get("status", "complete"),
        content=str(item.get("content", "")),
        seq=int(item.get("seq", 0)),
        stop_requested=bool(item.get("stop_requested", False)),
        created_at=str(item.get("created_at", "")),
        updated_at=str(item.get("updated_at", "")),
        item=item,
    )


class StreamingRepository:
    """Reply lifecycle on the `chat` table: begin → progress* → finish | fail."""

    def __init__(self, table: Table, *, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._clock = clock

    def begin(
        self, conversation_id: str, message_id: str, *, reply_to: str, requested_by: str
    ) -> tuple[ReplyState, bool]:
        """Create the streaming reply; ``(state, False)`` if it already exists (a retry)."""
        now = iso_now(self._clock)
        item: dict[str, Any] = {
            **_key(conversation_id, message_id),
            "author_id": ASSISTANT_ID,
            "author_name": ASSISTANT_NAME,
            "role": "assistant",
            "content": "",
            "status": "streaming",
            "reply_to": reply_to,
            "requested_by": requested_by,
            "seq": 0,
            "created_at": now,
            "updated_at": now,
        }
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if not _is_conditional(exc):
                raise
            existing = self.get(conversation_id, message_id)
            if existing is None:  # deleted in between: the conversation is going away
                raise ReplyNotFound(message_id) from None
            return existing, False
        self._table.put_item(
            Item={
                **_marker(conversation_id, message_id),
                "message_id": message_id,
                "started_at": now,
            }
        )
        return _state(item), True

    def get(self, conversation_id: str, message_id: str) -> ReplyState | None:
        item = self._table.get_item(Key=_key(conversation_id, message_id), ConsistentRead=True).get(
            "Item"
        )
        return _state(item) if item else None

    def progress(self, conversation_id: str, message_id: str, content: str, seq: int) -> bool:
        """Persist the text so far (as of delta ``seq``); return True if a stop was asked.

        The write is conditional on "streaming and not stopped", so the common case costs one
        request; only a refused write reads the item to tell a stop from an ended reply
        (`ReplyNotStreaming`). On a stop the caller stores the final text with `finish`.
        """
        try:
            self._table.update_item(
                Key=_key(conversation_id, message_id),
                UpdateExpression="SET content = :c, seq = :s, updated_at = :t",
                ConditionExpression="#st = :streaming AND attribute_not_exists(stop_requested)",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":c": content,
                    ":s": seq,
                    ":t": iso_now(self._clock),
                    ":streaming": "streaming",
                },
            )
        except ClientError as exc:
            if not _is_conditional(exc):
                raise
            state = self.get(conversation_id, message_id)
            if state is not None and state.status == "streaming" and state.stop_requested:
                return True
            raise ReplyNotStreaming(message_id) from None
        return False

    def request_stop(
        self, conversation_id: str, message_id: str, *, user_id: str, is_owner: bool
    ) -> ReplyState:
        """Set the cancel flag of a streaming reply the user may stop."""
        state = self.get(conversation_id, message_id)
        if state is None or state.item.get("role") != "assistant":
            raise ReplyNotFound(message_id)
        if state.requested_by != user_id and not is_owner:
            raise StopNotAllowed(message_id)
        if state.status != "streaming":
            raise ReplyNotStreaming(message_id)
        try:
            self._table.update_item(
                Key=_key(conversation_id, message_id),
                UpdateExpression="SET stop_requested = :t",
                ConditionExpression="#st = :streaming",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={":t": True, ":streaming": "streaming"},
            )
        except ClientError as exc:
            if _is_conditional(exc):
                raise ReplyNotStreaming(message_id) from None
            raise
        return state

    def finish(
        self,
        conversation_id: str,
        message_id: str,
        *,
        content: str,
        seq: int,
        status: Status,
        usage: dict[str, int] | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        """Store the final text and status; returns the message item. Ends the marker."""
        names = {"#st": "status"}
        values: dict[str, Any] = {
            ":c": content,
            ":s": seq,
            ":status": status,
            ":t": iso_now(self._clock),
            ":streaming": "streaming",
        }
        expression = "SET content = :c, seq = :s, #st = :status, updated_at = :t"
        if usage is not None:
            expression += ", #usage = :u"
            names["#usage"] = "usage"
            values[":u"] = usage
        if error is not None:
            expression += ", #error = :e"
            names["#error"] = "error"
            values[":e"] = error
        try:
            result = self._table.update_item(
                Key=_key(conversation_id, message_id),
                UpdateExpression=expression + " REMOVE stop_requested",
                ConditionExpression="#st = :streaming",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _is_conditional(exc):
                raise ReplyNotStreaming(message_id) from None
            raise
        self.end_marker(conversation_id, message_id)
        return dict(result["Attributes"])

    def mark_announced(self, conversation_id: str, message_id: str) -> None:
        """Remember that the room was told how the reply ended (a retry then stays silent)."""
        self._table.update_item(
            Key=_key(conversation_id, message_id),
            UpdateExpression="SET announced = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": True},
        )

    def end_marker(self, conversation_id: str, message_id: str) -> None:
        self._table.delete_item(Key=_marker(conversation_id, message_id))

    def streaming(self, conversation_id: str) -> list[ReplyState]:
        """The replies of the room still streaming (markers of ended ones are cleaned up)."""
        markers = self._table.query(
            KeyConditionExpression=Key("pk").eq(f"CONV#{conversation_id}")
            & Key("sk").begins_with("STREAM#"),
            ConsistentRead=True,
        ).get("Items", [])
        live: list[ReplyState] = []
        for marker in markers:
            message_id = str(marker["sk"]).removeprefix("STREAM#")
            state = self.get(conversation_id, message_id)
            if state is not None and state.status == "streaming":
                live.append(state)
            else:
                self.end_marker(conversation_id, message_id)
        return sorted(live, key=lambda s: s.message_id)
