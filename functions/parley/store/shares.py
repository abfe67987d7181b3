"""Share links of conversations: two items each, and the snapshot's object.

* `SHARE#<share id> / SHARE` — what the public route reads: the conversation, its owner, when
  it was made, when it expires, whether (and why) it ended, and how many messages it shows.
  Kept after it ends so the link answers "gone" rather than "unknown"; `purge_at` (the table's
  TTL) removes it a while later.
* `CONV#<conversation id> / SHARE#<slot>` — the owner's list of the conversation's links, one
  of `MAX_LINKS` numbered slots (`00`…`19`) taken with a conditional put, so two links made at
  the same instant can never exceed the limit. Under the conversation, so deleting it purges
  the list with everything else; each slot's REMOVE on the change feed (a purge, a revoke, or
  the TTL a while after expiry) ends its link and deletes the snapshot (`parley.shares`).
* `shares/<share id>.json` in the shares bucket — the snapshot itself (any size a conversation
  reaches; an item holds at most 400 KB).

The snapshot is written first and both items last, in one transaction that also checks the
conversation is still the owner's and not deleted: a failed write leaves no link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from parley.errors import ConversationNotFound
from parley.store.messages import to_message
from parley.store.table import conv_pk, query_items

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client

    from parley.models import Message

SHARE_PREFIX = "SHARE#"
OBJECT_PREFIX = "shares/"


def lookup_key(share_id: str) -> dict[str, str]:
    return {"pk": f"{SHARE_PREFIX}{share_id}", "sk": "SHARE"}


def listing_key(conversation_id: str, slot: int) -> dict[str, str]:
    return {"pk": conv_pk(conversation_id), "sk": f"{SHARE_PREFIX}{slot:02d}"}


def object_key(share_id: str) -> str:
    return f"{OBJECT_PREFIX}{share_id}.json"


@dataclass(frozen=True, slots=True)
class ShareRecord:
    id: str
    conversation_id: str
    owner_id: str
    created_at: str
    message_count: int
    slot: int
    expires_at: str | None = None
    ended_at: str | None = None
    ended_reason: str | None = None
    """`revoked` (by the owner) or `deleted` (the conversation was)."""


def _record(item: dict[str, Any]) -> ShareRecord:
    return ShareRecord(
        id=str(item["share_id"]),
        slot=int(item["slot"]),
        conversation_id=str(item["conversation_id"]),
        owner_id=str(item["owner_id"]),
        created_at=str(item["created_at"]),
        message_count=int(item.get("message_count", 0)),
        expires_at=item.get("expires_at"),
        ended_at=item.get("ended_at"),
        ended_reason=item.get("ended_reason"),
    )


def _fields(record: ShareRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "share_id": record.id,
        "slot": record.slot,
        "conversation_id": record.conversation_id,
        "owner_id": record.owner_id,
        "created_at": record.created_at,
        "message_count": record.message_count,
    }
    if record.expires_at is not None:
        fields["expires_at"] = record.expires_at
    return fields


def _cancelled(exc: ClientError) -> list[str | None]:
    if exc.response["Error"]["Code"] != "TransactionCanceledException":
        raise exc
    return [r.get("Code") for r in exc.response.get("CancellationReasons", [])]


class SlotTaken(Exception):
    """Another link took the slot between the read and the write: read again."""


class ShareRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create(
        self, record: ShareRecord, *, lookup_purge_at: int | None, listing_purge_at: int | None
    ) -> None:
        """Both items at once, while the conversation is the owner's and not deleted
        (`ConversationNotFound` otherwise) and the slot is free (`SlotTaken` otherwise):
        nothing is written unless all of it is."""
        lookup = {**lookup_key(record.id), **_fields(record)}
        listing = {**listing_key(record.conversation_id, record.slot), **_fields(record)}
        if lookup_purge_at is not None:
            lookup["purge_at"] = lookup_purge_at
        if listing_purge_at is not None:
            listing["purge_at"] = listing_purge_at
        name = self.table.name
        transact: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": {"pk": conv_pk(record.conversation_id), "sk": "META"},
                    "ConditionExpression": "owner_id = :owner AND attribute_not_exists(deleted_at)",
                    "ExpressionAttributeValues": {":owner": record.owner_id},
                }
            },
            {
                "Put": {
                    "TableName": name,
                    "Item": lookup,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": name,
                    "Item": listing,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        try:
            # The resource's client takes plain Python values (boto3 serializes them).
            self.table.meta.client.transact_write_items(TransactItems=transact)  # type: ignore[arg-type]
        except ClientError as exc:
            reasons = _cancelled(exc)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise ConversationNotFound() from None
            if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
                raise SlotTaken() from None
            raise

    def get(self, share_id: str) -> ShareRecord | None:
        """The link as the public route reads it (strongly: a revoke is seen at once)."""
        item = self.table.get_item(Key=lookup_key(share_id), ConsistentRead=True).get("Item")
        return _record(item) if item is not None else None

    def listed(self, conversation_id: str) -> list[ShareRecord]:
        """The conversation's listed links (not revoked, not long expired), by slot."""
        items = query_items(
            self.table,
            KeyConditionExpression=Key("pk").eq(conv_pk(conversation_id))
            & Key("sk").begins_with(SHARE_PREFIX),
            ConsistentRead=True,
        )
        return [_record(i) for i in items]

    def end(
        self,
        conversation_id: str,
        share_id: str,
        *,
        slot: int | None,
        reason: str,
        at: str,
        purge_at: int,
    ) -> bool:
        """Mark the link ended (once: the first reason stays) and, given its `slot`, take it
        off the conversation's list in the same transaction. False when there is no such link
        of this conversation, or it had ended already."""
        update: dict[str, Any] = {
            "Update": {
                "TableName": self.table.name,
                "Key": lookup_key(share_id),
                "UpdateExpression": "SET ended_at = :at, ended_reason = :why, purge_at = :purge",
                "ConditionExpression": "conversation_id = :c AND attribute_not_exists(ended_at)",
                "ExpressionAttributeValues": {
                    ":at": at,
                    ":why": reason,
                    ":purge": purge_at,
                    ":c": conversation_id,
                },
            }
        }
        transact = [update]
        if slot is not None:
            transact.append(
                {
                    "Delete": {
                        "TableName": self.table.name,
                        "Key": listing_key(conversation_id, slot),
                        "ConditionExpression": "share_id = :id",
                        "ExpressionAttributeValues": {":id": share_id},
                    }
                }
            )
        try:
            self.table.meta.client.transact_write_items(TransactItems=transact)  # type: ignore[arg-type]
        except ClientError as exc:
            if "ConditionalCheckFailed" in _cancelled(exc):
                return False
            raise
        return True

    def messages(self, conversation_id: str) -> list[Message]:
        """Every message of the conversation, oldest first (strongly read: what was just
        posted is in the snapshot)."""
        items = query_items(
            self.table,
            KeyConditionExpression=Key("pk").eq(conv_pk(conversation_id))
            & Key("sk").begins_with("MSG#"),
            ConsistentRead=True,
        )
        return [to_message(i) for i in items]


class SnapshotBucket:
    """The snapshots' objects, `shares/<id>.json`, in the shares bucket."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def put(self, share_id: str, body: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=object_key(share_id),
            Body=body,
            ContentType="application/json",
        )

    def get(self, share_id: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=object_key(share_id))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return response["Body"].read()

    def delete(self, share_id: str) -> None:
        """Deleting an object that is gone already succeeds (redelivery is safe)."""
        self.client.delete_object(Bucket=self.bucket, Key=object_key(share_id))
