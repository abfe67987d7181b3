"""Messages: `CONV#<id> / MSG#<ulid>`, one item each, so history has no size cap.

A user message sent with a `clientMessageId` is stored with a conditional
`CONV#<id> / CLIENTMSG#<client id>` item in the same transaction: a retry finds the first
message instead of storing a second one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from parley.errors import BadRequest, Conflict, ConversationNotFound, MessageNotFound
from parley.ids import new_ulid, now_iso
from parley.models import Message, Status, Usage
from parley.store.table import conv_pk, decode_cursor, encode_cursor, message_sk, plain

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


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
        usage=Usage.model_validate(plain(usage)) if usage else None,
        created_at=str(item["created_at"]),
        updated_at=str(item["updated_at"]),
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
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    if message.usage is not None:
        item["usage"] = message.usage.model_dump()
    return item


class MessageRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def put_user_message(
        self,
        conversation_id: str,
        *,
        author_id: str,
        author_name: str | None,
        content: str,
        client_message_id: str | None = None,
    ) -> tuple[Message, bool]:
        """Store a user's message; `(message, False)` when this clientMessageId was stored before.

        The conversation's META must exist (checked in the same transaction), so a message
        never lands in a deleted conversation.
        """
        now = now_iso()
        message = Message(
            id=new_ulid(),
            conversation_id=conversation_id,
            author_id=author_id,
            author_name=author_name,
            role="user",
            content=content,
            status="complete",
            client_message_id=client_message_id,
            created_at=now,
            updated_at=now,
        )
        name = self.table.name
        transact: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": {"pk": conv_pk(conversation_id), "sk": "META"},
                    "ConditionExpression": "attribute_exists(pk)",
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
        try:
            # The resource's client takes plain Python values (boto3 serializes them).
            self.table.meta.client.transact_write_items(TransactItems=transact)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConversationNotFound() from None
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

    def get(self, conversation_id: str, message_id: str) -> Message:
        item = self.table.get_item(
            Key={"pk": conv_pk(conversation_id), "sk": message_sk(message_id)},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            raise MessageNotFound()
        return to_message(item)

    def put_assistant_message(
        self,
        conversation_id: str,
        *,
        reply_to: str,
        content: str = "",
        status: Status = "streaming",
        usage: Usage | None = None,
        author_id: str = "assistant",
        author_name: str | None = "Assistant",
    ) -> Message:
        now = now_iso()
        message = Message(
            id=new_ulid(),
            conversation_id=conversation_id,
            author_id=author_id,
            author_name=author_name,
            role="assistant",
            content=content,
            status=status,
            reply_to=reply_to,
            usage=usage,
            created_at=now,
            updated_at=now,
        )
        self.table.put_item(
            Item=_message_item(message), ConditionExpression="attribute_not_exists(pk)"
        )
        return message

    def finish(
        self,
        conversation_id: str,
        message_id: str,
        *,
        content: str,
        status: Status,
        usage: Usage | None = None,
    ) -> Message:
        """Final content, status and usage of an assistant message (only once it streams)."""
        values: dict[str, Any] = {":c": content, ":s": status, ":u": now_iso()}
        expression = "SET content = :c, #st = :s, updated_at = :u"
        if usage is not None:
            expression += ", #usage = :usage"
            values[":usage"] = usage.model_dump()
        try:
            response = self.table.update_item(
                Key={"pk": conv_pk(conversation_id), "sk": message_sk(message_id)},
                UpdateExpression=expression,
                ConditionExpression=Attr("pk").exists() & Attr("status").eq("streaming"),
                ExpressionAttributeNames={
                    "#st": "status",
                    **({"#usage": "usage"} if usage is not None else {}),
                },
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self.get(conversation_id, message_id)
        return to_message(response["Attributes"])

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

    def recent(self, conversation_id: str, limit: int = 50) -> list[Message]:
        """The latest messages, oldest first (the order a model reads history in)."""
        items, _ = self.page(conversation_id, limit=limit, cursor=None)
        return list(reversed(items))

    def reply_to(self, conversation_id: str, message_id: str) -> Message | None:
        """A completed assistant reply to this message among the recent ones, if any."""
        for message in self.recent(conversation_id, limit=100):
            if (
                message.reply_to == message_id
                and message.role == "assistant"
                and message.status == "complete"
            ):
                return message
        return None
