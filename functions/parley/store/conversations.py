"""Conversations and their members.

`CONV#<id> / META` holds the conversation; `CONV#<id> / MEMBER#<sub>` one member each, projected
into GSI1 (`USER#<sub>` / `<updated_at>#CONV#<id>`) so "my conversations by recent activity" is
one Query. Who may read or change a conversation is decided in the domain layer (`parley.access`,
`parley.conversations`); this repository only reads and writes the items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from parley.errors import Conflict, ConversationNotFound
from parley.ids import new_ulid, now_iso
from parley.models import Conversation, Kind, Member, MemberRole, Profile
from parley.store.housekeeping import sweep_key
from parley.store.table import (
    activity_sk,
    conv_pk,
    decode_cursor,
    encode_cursor,
    member_sk,
    user_pk,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mypy_boto3_dynamodb.service_resource import Table

DEFAULT_TITLE = "New conversation"


@dataclass(frozen=True)
class ConversationRecord:
    """The META item, the same for every member."""

    id: str
    kind: Kind
    title: str
    owner_id: str
    created_at: str
    updated_at: str
    titled: bool
    """False until a title was given or taken from the first message."""

    def view(self, role: MemberRole) -> Conversation:
        return Conversation(
            id=self.id,
            kind=self.kind,
            title=self.title,
            owner_id=self.owner_id,
            role=role,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def _record(item: dict[str, Any]) -> ConversationRecord:
    return ConversationRecord(
        id=str(item["pk"]).removeprefix("CONV#"),
        kind=item["kind"],
        title=str(item["title"]),
        owner_id=str(item["owner_id"]),
        created_at=str(item["created_at"]),
        updated_at=str(item["updated_at"]),
        titled=bool(item.get("titled", True)),
    )


def _member(item: dict[str, Any]) -> Member:
    return Member(
        user_id=str(item["sk"]).removeprefix("MEMBER#"),
        email=str(item.get("email", "")),
        name=str(item.get("name", "")),
        role=item["role"],
        joined_at=str(item["joined_at"]),
    )


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] in (
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    )


class ConversationRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- reading -------------------------------------------------------------------------------
    def record(self, conversation_id: str) -> ConversationRecord:
        item = self.table.get_item(Key={"pk": conv_pk(conversation_id), "sk": "META"}).get("Item")
        if item is None:
            raise ConversationNotFound()
        return _record(item)

    def member(self, conversation_id: str, user_id: str) -> Member | None:
        """The user's member item, or None."""
        item = self.table.get_item(
            Key={"pk": conv_pk(conversation_id), "sk": member_sk(user_id)}, ConsistentRead=True
        ).get("Item")
        return _member(item) if item is not None else None

    def list_for(
        self, user_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Conversation], str | None]:
        """The user's conversations, most recent activity first."""
        start = decode_cursor(cursor, partition=("gsi1pk", user_pk(user_id)))
        args: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": Key("gsi1pk").eq(user_pk(user_id)),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start:
            args["ExclusiveStartKey"] = start
        response = self.table.query(**args)
        items = [
            Conversation(
                id=str(item["pk"]).removeprefix("CONV#"),
                kind=item["kind"],
                title=str(item["title"]),
                owner_id=str(item["owner_id"]),
                role=item["role"],
                created_at=str(item["created_at"]),
                updated_at=str(item["updated_at"]),
            )
            for item in response.get("Items", [])
        ]
        return items, encode_cursor(response.get("LastEvaluatedKey"))

    def members(self, conversation_id: str) -> list[Member]:
        items = self._query_all(conversation_id, "MEMBER#")
        return [_member(item) for item in items]

    # -- writing -------------------------------------------------------------------------------
    def create(self, owner: Profile, *, kind: Kind, title: str | None) -> Conversation:
        now = now_iso()
        record = ConversationRecord(
            id=new_ulid(),
            kind=kind,
            title=title or DEFAULT_TITLE,
            owner_id=owner.id,
            created_at=now,
            updated_at=now,
            titled=title is not None,
        )
        meta = {
            "pk": conv_pk(record.id),
            "sk": "META",
            "kind": kind,
            "title": record.title,
            "titled": record.titled,
            "owner_id": owner.id,
            "created_at": now,
            "updated_at": now,
            "sweep": sweep_key("CONV", record.id),  # retention finds it by its activity
        }
        # The resource's client takes plain Python values (boto3 serializes them).
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self.table.name,
                    "Item": meta,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table.name,
                    "Item": self._member_item(record, owner, "owner", now),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        self.table.meta.client.transact_write_items(TransactItems=items)
        return record.view("owner")

    def _member_item(
        self, record: ConversationRecord, profile: Profile, role: MemberRole, joined_at: str
    ) -> dict[str, Any]:
        # Conversation fields are copied so the GSI1 list needs no second read.
        return {
            "pk": conv_pk(record.id),
            "sk": member_sk(profile.id),
            "role": role,
            "email": profile.email,
            "name": profile.name,
            "joined_at": joined_at,
            "kind": record.kind,
            "title": record.title,
            "owner_id": record.owner_id,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "gsi1pk": user_pk(profile.id),
            "gsi1sk": activity_sk(record.updated_at, record.id),
        }

    def retitle(self, record: ConversationRecord, title: str) -> ConversationRecord:
        """Store a title (`ConversationNotFound` if the conversation is gone)."""
        return self._retitle(record, title, only_if_untitled=False)

    def title_if_untitled(self, record: ConversationRecord, title: str) -> bool:
        """Store a title unless one was given or set before; True when it was stored."""
        if record.titled:
            return False
        try:
            self._retitle(record, title, only_if_untitled=True)
        except Conflict:
            return False
        return True

    def _retitle(
        self, record: ConversationRecord, title: str, *, only_if_untitled: bool
    ) -> ConversationRecord:
        now = now_iso()
        condition: Any = Attr("pk").exists()
        if only_if_untitled:
            condition = condition & Attr("titled").eq(False)
        try:
            self.table.update_item(
                Key={"pk": conv_pk(record.id), "sk": "META"},
                UpdateExpression="SET title = :t, titled = :y, updated_at = :u",
                ConditionExpression=condition,
                ExpressionAttributeValues={":t": title, ":y": True, ":u": now},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            if only_if_untitled:
                raise Conflict("Already titled") from None
            raise ConversationNotFound() from None
        self._touch_members(record.id, now, title=title)
        return ConversationRecord(
            id=record.id,
            kind=record.kind,
            title=title,
            owner_id=record.owner_id,
            created_at=record.created_at,
            updated_at=now,
            titled=True,
        )

    def touch(
        self,
        conversation_id: str,
        at: str | None = None,
        *,
        member_ids: Iterable[str] | None = None,
    ) -> str:
        """Record activity: META and every member's GSI1 key move to `at`. A caller that has
        just read the members passes their ids and saves the Query."""
        now = at or now_iso()
        try:
            self.table.update_item(
                Key={"pk": conv_pk(conversation_id), "sk": "META"},
                UpdateExpression="SET updated_at = :u",
                ConditionExpression=Attr("pk").exists() & Attr("updated_at").lt(now),
                ExpressionAttributeValues={":u": now},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return now  # deleted meanwhile, or a later activity already won
        self._touch_members(conversation_id, now, member_ids=member_ids)
        return now

    def _touch_members(
        self,
        conversation_id: str,
        now: str,
        *,
        title: str | None = None,
        member_ids: Iterable[str] | None = None,
    ) -> None:
        expression = "SET updated_at = :u, gsi1sk = :g"
        values: dict[str, Any] = {":u": now, ":g": activity_sk(now, conversation_id)}
        if title is not None:
            expression += ", title = :t"
            values[":t"] = title
        if member_ids is None:
            keys = [
                str(item["sk"])
                for item in self._query_all(conversation_id, "MEMBER#", keys_only=True)
            ]
        else:
            keys = [member_sk(user_id) for user_id in member_ids]
        for sk in keys:
            try:
                self.table.update_item(
                    Key={"pk": conv_pk(conversation_id), "sk": sk},
                    UpdateExpression=expression,
                    ConditionExpression=Attr("pk").exists() & Attr("updated_at").lte(now),
                    ExpressionAttributeValues=values,
                )
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise  # left meanwhile, or newer activity: both fine to skip

    def add_member(self, record: ConversationRecord, profile: Profile) -> Member:
        """Add a member (`Conflict` if already one)."""
        item = self._member_item(record, profile, "member", now_iso())
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            raise Conflict("Already a member") from None
        return _member(item)

    def remove_member(self, conversation_id: str, user_id: str) -> None:
        self.table.delete_item(Key={"pk": conv_pk(conversation_id), "sk": member_sk(user_id)})

    def mark_deleted(
        self, conversation_id: str, owner_id: str, *, untouched_before: str | None = None
    ) -> None:
        """Mark the conversation deleted, if `owner_id` still owns it: one write. From here on
        every reader treats it as gone and every guarded write fails; the items under it are
        purged by the change feed (`purge`)."""
        try:
            self.table.update_item(
                Key={"pk": conv_pk(conversation_id), "sk": "META"},
                UpdateExpression="SET deleted_at = :now, purge_pass = :zero",
                ConditionExpression=Attr("owner_id").eq(owner_id)
                & Attr("deleted_at").not_exists()
                & (  # retention (`parley.maintenance`): only if nothing happened since
                    Attr("updated_at").lt(untouched_before)
                    if untouched_before is not None
                    else Attr("pk").exists()
                ),
                ExpressionAttributeValues={":now": now_iso(), ":zero": 0},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            raise ConversationNotFound() from None
        with self.table.batch_writer() as batch:
            for item in self._query_all(conversation_id, None, keys_only=True):
                batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})

    def _query_all(
        self, conversation_id: str, prefix: str | None, *, keys_only: bool = False
    ) -> list[dict[str, Any]]:
        condition: Any = Key("pk").eq(conv_pk(conversation_id))
        if prefix:
            condition = condition & Key("sk").begins_with(prefix)
        args: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        if keys_only:
            args["ProjectionExpression"] = "pk, sk"
        items: list[dict[str, Any]] = []
        while True:
            response = self.table.query(**args)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]
