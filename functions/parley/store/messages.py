"""Messages: `CONV#<id> / MSG#<ulid>`, one item each, so history has no size cap.

This repository owns the message item, whoever writes it:

* a user's message sent with a `clientMessageId` is stored with a conditional
  `CONV#<id> / CLIENTMSG#<client id>` item in the same transaction, so a resend finds the first
  message instead of storing a second one;
* an assistant reply is a message item that streams: `begin_reply` creates it (status
  `streaming`) only if its id is new, which makes a retried worker harmless; `progress` stores
  the text so far with its delta `seq` (every second or so, not every chunk: each write costs
  the whole text) and answers whether a stop was asked (the cancel flag `request_stop` sets);
  `finish_reply` ends it once. A small marker `CONV#<id> / STREAM#<reply id>` lives while a
  reply streams, so `live_replies` finds a room's streaming replies with one Query that reads
  only them, and carries the stop flag too, so the writer checks it between its writes with a
  one-unit read (`stop_asked`).

Who may stop or retry is decided in the domain layer, never here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from parley.errors import BadRequest, Conflict, ConversationNotFound, MessageNotFound
from parley.ids import new_ulid, now_iso
from parley.models import Message, MessageAttachment, Status, Usage
from parley.store.housekeeping import sweep_key
from parley.store.table import conv_pk, decode_cursor, encode_cursor, message_sk, plain

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mypy_boto3_dynamodb.service_resource import Table

ASSISTANT_ID = "assistant"
"""The author id of the assistant's messages."""
ASSISTANT_NAME = "Assistant"


class ReplyNotStreaming(Exception):
    """The reply has already ended (complete, stopped or failed)."""


@dataclass(frozen=True, slots=True)
class ReplyState:
    """An assistant reply as stored, streaming or ended."""

    message: Message
    requested_by: str
    seq: int
    stop_requested: bool
    announced: bool
    error: str | None

    @property
    def conversation_id(self) -> str:
        return self.message.conversation_id

    @property
    def message_id(self) -> str:
        return self.message.id

    @property
    def status(self) -> Status:
        return self.message.status

    @property
    def content(self) -> str:
        return self.message.content

    @property
    def reply_to(self) -> str | None:
        return self.message.reply_to

    def age_seconds(self, now: float | None = None) -> float:
        """Seconds since the worker last wrote the reply (its heartbeat)."""
        updated = datetime.fromisoformat(self.message.updated_at.replace("Z", "+00:00"))
        return (time.time() if now is None else now) - updated.timestamp()


def to_message(item: dict[str, Any]) -> Message:
    usage = item.get("usage")
    return Message(
        id=str(item["sk"]).removeprefix("MSG#"),
        conversation_id=str(item["pk"]).removeprefix("CONV#"),
        author_id=str(item["author_id"]),
        author_name=item.get("author_name"),
        role=item["role"],
        content=str(item.get("content", "")),
        status=item["status"],
        client_message_id=item.get("client_message_id"),
        reply_to=item.get("reply_to"),
        parent_id=item.get("parent_id"),
        usage=Usage.model_validate(plain(usage)) if usage else None,
        model=str(item["model_id"]) if item.get("model_id") else None,
        cost_usd=float(item["cost"]) if item.get("cost") is not None else None,
        assistant_id=str(item["assistant_id"]) if item.get("assistant_id") else None,
        attachments=[MessageAttachment.model_validate(plain(a)) for a in item["attachments"]]
        if item.get("attachments")
        else None,
        created_at=str(item["created_at"]),
        updated_at=str(item["updated_at"]),
    )


def _reply_state(item: dict[str, Any]) -> ReplyState:
    error = item.get("error")
    return ReplyState(
        message=to_message(item),
        requested_by=str(item.get("requested_by", "")),
        seq=int(item.get("seq", 0)),
        stop_requested=bool(item.get("stop_requested", False)),
        announced=bool(item.get("announced", False)),
        error=str(error) if error else None,
    )


def _message_item(message: Message) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": conv_pk(message.conversation_id),
        "sk": message_sk(message.id),
        "author_id": message.author_id,
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
    }
    optional = {
        "author_name": message.author_name,
        "client_message_id": message.client_message_id,
        "reply_to": message.reply_to,
        "parent_id": message.parent_id,
        "model_id": message.model,
        "assistant_id": message.assistant_id,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    if message.usage is not None:
        item["usage"] = message.usage.model_dump()
    if message.attachments:
        item["attachments"] = [a.model_dump() for a in message.attachments]
    return item


def _key(conversation_id: str, message_id: str) -> dict[str, str]:
    return {"pk": conv_pk(conversation_id), "sk": message_sk(message_id)}


@dataclass(frozen=True, slots=True)
class StreamSignal:
    """A streaming reply's marker as its writer reads it between chunks."""

    stop: bool
    listeners: int
    """The version of the room's subscriber list (moved by `listeners_changed`)."""


def _marker(conversation_id: str, message_id: str) -> dict[str, str]:
    return {"pk": conv_pk(conversation_id), "sk": f"STREAM#{message_id}"}


def _is_conditional(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


class MessageRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- user messages ---------------------------------------------------------------------------
    def put_user_message(
        self,
        conversation_id: str,
        *,
        author_id: str,
        author_name: str | None,
        content: str,
        attachments: Sequence[MessageAttachment] = (),
        attachment_guards: Sequence[dict[str, Any]] = (),
        client_message_id: str | None = None,
        message_id: str | None = None,
        parent_id: str | None = None,
    ) -> tuple[Message, bool]:
        """Store a user's message; `(message, False)` when this clientMessageId was stored before.

        The conversation's META must exist (checked in the same transaction), so a message
        never lands in a deleted conversation. `message_id` (a new ULID by default) lets a
        caller that also picks its reply's id keep the two in order.
        """
        now = now_iso()
        message = Message(
            id=message_id or new_ulid(),
            conversation_id=conversation_id,
            author_id=author_id,
            author_name=author_name,
            role="user",
            content=content,
            attachments=list(attachments) or None,
            status="complete",
            client_message_id=client_message_id,
            parent_id=parent_id,
            created_at=now,
            updated_at=now,
        )
        name = self.table.name
        transact: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": {"pk": conv_pk(conversation_id), "sk": "META"},
                    "ConditionExpression": (
                        "attribute_exists(pk) AND attribute_not_exists(deleted_at)"
                    ),
                }
            },
            {
                "Put": {
                    "TableName": name,
                    "Item": _message_item(message),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        if client_message_id is not None:
            transact.append(
                {
                    "Put": {
                        "TableName": name,
                        "Item": {
                            "pk": conv_pk(conversation_id),
                            "sk": f"CLIENTMSG#{client_message_id}",
                            "message_id": message.id,
                            "author_id": author_id,
                            "created_at": now,
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        transact.extend(attachment_guards)  # each attachment still the author's and ready
        try:
            # The resource's client takes plain Python values (boto3 serializes them).
            self.table.meta.client.transact_write_items(TransactItems=transact)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConversationNotFound() from None
            guarded = reasons[len(transact) - len(attachment_guards) :] if attachment_guards else []
            if "ConditionalCheckFailed" in guarded:
                raise Conflict("An attachment is no longer ready to send") from None
            if client_message_id is not None:
                existing = self.by_client_id(conversation_id, client_message_id, author_id)
                if existing is not None:
                    return existing, False
                # Taken by another member of the room: ids are meant to be unique (UUIDs).
                raise Conflict("clientMessageId is already used in this conversation") from None
            raise
        return message, True

    def by_client_id(
        self, conversation_id: str, client_message_id: str, author_id: str
    ) -> Message | None:
        item = self.table.get_item(
            Key={"pk": conv_pk(conversation_id), "sk": f"CLIENTMSG#{client_message_id}"},
            ConsistentRead=True,
        ).get("Item")
        if item is None or item.get("author_id") != author_id:
            return None
        return self.get(conversation_id, str(item["message_id"]))

    # -- reading ---------------------------------------------------------------------------------
    def get(self, conversation_id: str, message_id: str) -> Message:
        item = self.table.get_item(Key=_key(conversation_id, message_id), ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            raise MessageNotFound()
        return to_message(item)

    def page(
        self, conversation_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Message], str | None]:
        """Messages newest first."""
        start = decode_cursor(cursor, partition=("pk", conv_pk(conversation_id)))
        args: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(conv_pk(conversation_id))
            & Key("sk").begins_with("MSG#"),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start:
            if not str(start.get("sk", "")).startswith("MSG#"):
                raise BadRequest("Invalid cursor")
            args["ExclusiveStartKey"] = start
        response = self.table.query(**args)
        items = [to_message(item) for item in response.get("Items", [])]
        return items, encode_cursor(response.get("LastEvaluatedKey"))

    def recent(
        self, conversation_id: str, limit: int = 50, *, up_to: str | None = None
    ) -> list[Message]:
        """The latest messages (up to and including message id `up_to`), oldest first: the order
        a model reads history in. Reads strongly, so a message just written is in it."""
        condition: Any = Key("pk").eq(conv_pk(conversation_id))
        if up_to is None:
            condition = condition & Key("sk").begins_with("MSG#")
        else:
            condition = condition & Key("sk").between("MSG#", message_sk(up_to))
        response = self.table.query(
            KeyConditionExpression=condition,
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        return [to_message(item) for item in reversed(response.get("Items", []))]

    def newest(self, conversation_id: str) -> Message | None:
        """The conversation's latest message (strongly read), or None."""
        found = self.recent(conversation_id, limit=1)
        return found[-1] if found else None

    def parent_of(self, message: Message) -> str:
        """The message `message` follows in its branch (`parley.branches`): its `parent_id`,
        the question of a reply, else (stored before branches) the message before it, or the
        conversation's id for the first."""
        if message.parent_id:
            return message.parent_id
        if message.role == "assistant" and message.reply_to:
            return message.reply_to
        before = self.table.query(
            KeyConditionExpression=Key("pk").eq(conv_pk(message.conversation_id))
            & Key("sk").between("MSG#", message_sk(message.id)),
            ScanIndexForward=False,
            Limit=2,
            ConsistentRead=True,
        ).get("Items", [])
        older = [to_message(i) for i in before if str(i["sk"]) != message_sk(message.id)]
        return older[0].id if older else message.conversation_id

    def branch(self, conversation_id: str, leaf_id: str, limit: int = 50) -> list[Message]:
        """The branch ending at message `leaf_id`, oldest first, at most `limit` messages: the
        leaf and what it follows, back to the start (`parley.branches`). One strongly
        consistent Query, newest first from the leaf, read on until the branch is complete —
        messages of other branches are passed over."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(conv_pk(conversation_id))
            & Key("sk").between("MSG#", message_sk(leaf_id)),
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        path: list[Message] = []
        wanted: str | None = leaf_id
        while True:
            page = self.table.query(**kwargs)
            for item in page.get("Items", []):
                message = to_message(item)
                if wanted is not None and message.id != wanted:
                    continue  # another branch
                path.append(message)
                if len(path) >= limit:
                    return path[::-1]
                if message.parent_id:
                    wanted = message.parent_id
                elif message.role == "assistant" and message.reply_to:
                    wanted = message.reply_to
                else:
                    wanted = None  # stored before branches: the message before it
                if wanted == conversation_id:
                    return path[::-1]
            if "LastEvaluatedKey" not in page:
                return path[::-1]
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def reply_to(self, conversation_id: str, message_id: str) -> Message | None:
        """The latest completed assistant reply to this message, if any."""
        for message in reversed(self.recent(conversation_id, limit=100)):
            if (
                message.reply_to == message_id
                and message.role == "assistant"
                and message.status == "complete"
            ):
                return message
        return None

    # -- assistant replies -----------------------------------------------------------------------
    def begin_reply(
        self,
        conversation_id: str,
        message_id: str,
        *,
        reply_to: str,
        requested_by: str,
        model: str | None = None,
        assistant: tuple[str, str] | None = None,
    ) -> tuple[ReplyState, bool]:
        """Create the streaming reply, written by `model` (a catalog id) as `assistant` (a
        user's assistant's id and name; None: the default assistant); ``(state, False)`` if it
        already exists (a retry)."""
        now = now_iso()
        message = Message(
            id=message_id,
            conversation_id=conversation_id,
            author_id=ASSISTANT_ID,
            author_name=assistant[1] if assistant is not None else ASSISTANT_NAME,
            role="assistant",
            content="",
            status="streaming",
            reply_to=reply_to,
            model=model,
            assistant_id=assistant[0] if assistant is not None else None,
            created_at=now,
            updated_at=now,
        )
        item = {**_message_item(message), "requested_by": requested_by, "seq": 0}
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if not _is_conditional(exc):
                raise
            existing = self.reply(conversation_id, message_id)
            if existing is None:  # deleted in between: the conversation is going away
                raise MessageNotFound() from None
            return existing, False
        self.table.put_item(
            Item={
                **_marker(conversation_id, message_id),
                "message_id": message_id,
                "started_at": now,
                # In the housekeeping index while it lives: maintenance finds dead workers' replies.
                "sweep": sweep_key("STREAM", message_id),
                "updated_at": now,
            }
        )
        return _reply_state(item), True

    def reply(self, conversation_id: str, message_id: str) -> ReplyState | None:
        """An assistant reply, or None (no such message, or not the assistant's)."""
        item = self.table.get_item(Key=_key(conversation_id, message_id), ConsistentRead=True).get(
            "Item"
        )
        if item is None or item.get("role") != "assistant":
            return None
        return _reply_state(item)

    def progress(self, conversation_id: str, message_id: str, content: str, seq: int) -> bool:
        """Persist the text so far (as of delta ``seq``); return True if a stop was asked.

        The write is conditional on "streaming and not stopped", so the common case costs one
        request; only a refused write reads the item to tell a stop from an ended reply
        (`ReplyNotStreaming`). On a stop the caller stores the final text with `finish_reply`.
        """
        try:
            self.table.update_item(
                Key=_key(conversation_id, message_id),
                UpdateExpression="SET content = :c, seq = :s, updated_at = :t",
                ConditionExpression="#st = :streaming AND attribute_not_exists(stop_requested)",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":c": content,
                    ":s": seq,
                    ":t": now_iso(),
                    ":streaming": "streaming",
                },
            )
        except ClientError as exc:
            if not _is_conditional(exc):
                raise
            state = self.reply(conversation_id, message_id)
            if state is not None and state.status == "streaming" and state.stop_requested:
                return True
            raise ReplyNotStreaming(message_id) from None
        return False

    def request_stop(self, conversation_id: str, message_id: str) -> None:
        """Set the cancel flag of a streaming reply (`ReplyNotStreaming` once it has ended)."""
        try:
            self.table.update_item(
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
        try:  # the flag the writer reads between its writes: a tiny item, a cheap read
            self.table.update_item(
                Key=_marker(conversation_id, message_id),
                UpdateExpression="SET stop_requested = :t",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":t": True},
            )
        except ClientError as exc:
            if not _is_conditional(exc):
                raise  # no marker: the reply ended meanwhile, and the flag above is moot

    def stop_asked(self, conversation_id: str, message_id: str) -> bool:
        """Whether a stop was asked: one strongly consistent read of the small marker item
        (1 read unit), instead of a write of the whole text."""
        return self.stream_signal(conversation_id, message_id).stop

    def stream_signal(self, conversation_id: str, message_id: str) -> StreamSignal:
        """What the writer checks between chunks, in one strongly consistent read of the
        marker (1 read unit): whether a stop was asked, and the version of the room's listener
        list (`listeners_changed`), so the subscriber list is read again only when it moved."""
        item = self.table.get_item(
            Key=_marker(conversation_id, message_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            return StreamSignal(stop=False, listeners=0)
        version = item.get("listeners", 0)
        return StreamSignal(
            stop=bool(item.get("stop_requested")),
            listeners=int(version) if isinstance(version, int | Decimal) else 0,
        )

    def listeners_changed(
        self, conversation_id: str, message_ids: Iterable[str] | None = None
    ) -> None:
        """Tell the room's streaming replies (all, or those named) that its subscriptions
        changed: each marker's ``listeners`` version moves, and its writer reads the
        subscriber list again before its next chunk. Called after the subscription write, so
        the read that follows the bump sees it. A marker already gone is left gone."""
        if message_ids is None:
            markers = self.table.query(
                KeyConditionExpression=Key("pk").eq(conv_pk(conversation_id))
                & Key("sk").begins_with("STREAM#"),
                ProjectionExpression="sk",
                ConsistentRead=True,
            ).get("Items", [])
            message_ids = [str(m["sk"]).removeprefix("STREAM#") for m in markers]
        for message_id in message_ids:
            try:
                self.table.update_item(
                    Key=_marker(conversation_id, message_id),
                    UpdateExpression="ADD listeners :one",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":one": 1},
                )
            except ClientError as exc:
                if not _is_conditional(exc):
                    raise

    def finish_reply(
        self,
        conversation_id: str,
        message_id: str,
        *,
        content: str,
        seq: int,
        status: Status,
        usage: Usage | None = None,
        error: str | None = None,
        cost: Decimal | None = None,
    ) -> ReplyState:
        """Store the final text and status once (`ReplyNotStreaming` if it had ended), with
        what it cost (USD) when known."""
        names = {"#st": "status"}
        values: dict[str, Any] = {
            ":c": content,
            ":s": seq,
            ":status": status,
            ":t": now_iso(),
            ":streaming": "streaming",
        }
        expression = "SET content = :c, seq = :s, #st = :status, updated_at = :t"
        if usage is not None:
            expression += ", #usage = :u"
            names["#usage"] = "usage"
            values[":u"] = usage.model_dump()
        if cost is not None:
            expression += ", #cost = :cost"
            names["#cost"] = "cost"
            values[":cost"] = cost
        if error is not None:
            expression += ", #error = :e"
            names["#error"] = "error"
            values[":e"] = error
        try:
            result = self.table.update_item(
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
        self.table.delete_item(Key=_marker(conversation_id, message_id))
        return _reply_state(dict(result["Attributes"]))

    def mark_announced(self, conversation_id: str, message_id: str) -> None:
        """Remember that the room was told how the reply ended (a retry then stays silent)."""
        self.table.update_item(
            Key=_key(conversation_id, message_id),
            UpdateExpression="SET announced = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": True},
        )

    def live_replies(self, conversation_id: str) -> list[ReplyState]:
        """The replies of the room still streaming (markers of ended ones are cleaned up)."""
        markers = self.table.query(
            KeyConditionExpression=Key("pk").eq(conv_pk(conversation_id))
            & Key("sk").begins_with("STREAM#"),
            ConsistentRead=True,
        ).get("Items", [])
        live: list[ReplyState] = []
        for marker in markers:
            message_id = str(marker["sk"]).removeprefix("STREAM#")
            state = self.reply(conversation_id, message_id)
            if state is not None and state.status == "streaming":
                live.append(state)
            else:
                self.table.delete_item(Key=_marker(conversation_id, message_id))
        return sorted(live, key=lambda s: s.message_id)
