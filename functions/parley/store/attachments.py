"""Attachments: `CONV#<id> / ATT#<ulid>`, one item per file a member uploads to a conversation.

The item is written when the upload is granted (`pending`), settled once by the upload
processor (`ready` with the extracted text, zlib-compressed, or `rejected` with a reason), and
marked with the first message that references it. Living under the conversation's partition,
it is purged with the conversation, and its REMOVE on the change feed deletes the file
(`parley.attachments.AttachmentCleanup`). Who may attach, reference or download is decided in
`parley.attachments`, never here.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from parley.errors import ConversationNotFound
from parley.ids import now_iso
from parley.store.table import conv_pk, plain

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mypy_boto3_dynamodb.service_resource import Table

AttachmentStatus = Literal["pending", "ready", "rejected"]
AttachmentKind = Literal["document", "image"]
LIVE = "attribute_exists(pk) AND attribute_not_exists(deleted_at)"
"""The conversation's META exists and is not being deleted."""
_SUMMARY = (
    "pk, sk, owner_id, #name, content_type, #size, kind, #status, reason, detail, object_key, "
    "created_at, updated_at, message_id, text_chars, truncated, pages"
)


def attachment_sk(attachment_id: str) -> str:
    return f"ATT#{attachment_id}"


@dataclass(frozen=True)
class AttachmentRecord:
    id: str
    conversation_id: str
    owner_id: str
    name: str
    content_type: str
    size: int
    kind: AttachmentKind
    status: AttachmentStatus
    object_key: str
    created_at: str
    updated_at: str
    reason: str | None = None
    detail: str | None = None
    message_id: str | None = None
    text_chars: int | None = None
    truncated: bool = False
    pages: int | None = None
    text: str | None = field(default=None, repr=False)
    """The extracted text (documents), only when read with `with_text`."""


def _record(item: dict[str, Any]) -> AttachmentRecord:
    raw = item.get("text_z")
    text = None
    if raw is not None:
        data = bytes(raw)  # a boto3 Binary or bytes
        text = zlib.decompress(data).decode("utf-8")
    value = plain({k: v for k, v in item.items() if k != "text_z"})
    return AttachmentRecord(
        id=str(value["sk"]).removeprefix("ATT#"),
        conversation_id=str(value["pk"]).removeprefix("CONV#"),
        owner_id=str(value["owner_id"]),
        name=str(value["name"]),
        content_type=str(value["content_type"]),
        size=int(value["size"]),
        kind=value["kind"],
        status=value["status"],
        object_key=str(value["object_key"]),
        created_at=str(value["created_at"]),
        updated_at=str(value["updated_at"]),
        reason=value.get("reason"),
        detail=value.get("detail"),
        message_id=value.get("message_id"),
        text_chars=value.get("text_chars"),
        truncated=bool(value.get("truncated", False)),
        pages=value.get("pages"),
        text=text,
    )


class AttachmentRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def _key(self, conversation_id: str, attachment_id: str) -> dict[str, str]:
        return {"pk": conv_pk(conversation_id), "sk": attachment_sk(attachment_id)}

    def create(self, record: AttachmentRecord) -> None:
        """Store a granted upload, only while the conversation lives."""
        item: dict[str, Any] = {
            **self._key(record.conversation_id, record.id),
            "owner_id": record.owner_id,
            "name": record.name,
            "content_type": record.content_type,
            "size": record.size,
            "kind": record.kind,
            "status": record.status,
            "object_key": record.object_key,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        }
        name = self.table.name
        try:
            self.table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": name,
                            "Key": {"pk": conv_pk(record.conversation_id), "sk": "META"},
                            "ConditionExpression": LIVE,
                        }
                    },
                    {
                        "Put": {
                            "TableName": name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]  # the resource's client takes plain values
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConversationNotFound() from None
            raise

    def get(
        self, conversation_id: str, attachment_id: str, *, with_text: bool = False
    ) -> AttachmentRecord | None:
        args: dict[str, Any] = {
            "Key": self._key(conversation_id, attachment_id),
            "ConsistentRead": True,
        }
        if not with_text:
            args["ProjectionExpression"] = _SUMMARY
            args["ExpressionAttributeNames"] = {
                "#name": "name",
                "#size": "size",
                "#status": "status",
            }
        item = self.table.get_item(**args).get("Item")
        return _record(item) if item is not None else None

    def many(
        self, conversation_id: str, attachment_ids: Iterable[str], *, with_text: bool = False
    ) -> dict[str, AttachmentRecord]:
        """The attachments of this conversation among `attachment_ids` (absent ids are left
        out), read strongly: a file settled a moment ago is seen settled."""
        ids = sorted(set(attachment_ids))
        found: dict[str, AttachmentRecord] = {}
        name = self.table.name
        for start in range(0, len(ids), 100):
            request: dict[str, Any] = {
                "Keys": [self._key(conversation_id, i) for i in ids[start : start + 100]],
                "ConsistentRead": True,
            }
            if not with_text:
                request["ProjectionExpression"] = _SUMMARY
                request["ExpressionAttributeNames"] = {
                    "#name": "name",
                    "#size": "size",
                    "#status": "status",
                }
            pending: dict[str, Any] = {name: request}
            while pending:
                response = self.table.meta.client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(name, []):
                    record = _record(item)
                    found[record.id] = record
                pending = dict(response.get("UnprocessedKeys") or {})
        return found

    def settle(
        self,
        record: AttachmentRecord,
        *,
        status: Literal["ready", "rejected"],
        content_type: str | None = None,
        text: str | None = None,
        truncated: bool = False,
        pages: int | None = None,
        reason: str | None = None,
        detail: str | None = None,
    ) -> AttachmentRecord | None:
        """Record the processor's verdict once; None when it was settled before (a redelivered
        event) or the conversation has gone."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":status": status, ":now": now_iso()}
        sets = ["#status = :status", "updated_at = :now"]
        optional: dict[str, Any] = {
            "content_type": content_type,
            "truncated": truncated or None,
            "pages": pages,
            "reason": reason,
            "detail": detail[:300] if detail else None,
        }
        if text is not None:
            optional["text_z"] = Binary(zlib.compress(text.encode("utf-8"), 6))
            optional["text_chars"] = len(text)
        for key, value in optional.items():
            if value is not None:
                sets.append(f"{key} = :{key}")
                values[f":{key}"] = value
        try:
            self.table.update_item(
                Key=self._key(record.conversation_id, record.id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=Attr("status").eq("pending"),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return replace(
            record,
            status=status,
            content_type=content_type or record.content_type,
            reason=reason,
            detail=detail,
            text_chars=len(text) if text is not None else None,
            truncated=truncated,
            pages=pages,
        )

    def reference_items(
        self, conversation_id: str, attachment_ids: Iterable[str], *, owner_id: str, message_id: str
    ) -> list[dict[str, Any]]:
        """Transaction items that mark each attachment as sent in `message_id`, each guarded:
        still `ready` and still the sender's (stored with the message, in one transaction)."""
        return [
            {
                "Update": {
                    "TableName": self.table.name,
                    "Key": self._key(conversation_id, attachment_id),
                    "UpdateExpression": "SET message_id = if_not_exists(message_id, :message)",
                    "ConditionExpression": "#status = :ready AND owner_id = :owner",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":ready": "ready",
                        ":owner": owner_id,
                        ":message": message_id,
                    },
                }
            }
            for attachment_id in attachment_ids
        ]
