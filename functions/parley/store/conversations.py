"""Conversations and their members.

`CONV#<id> / META` holds the conversation; `CONV#<id> / MEMBER#<sub>` one member each, projected
into GSI1 (`USER#<sub>` / `<updated_at>#CONV#<id>`) so "my conversations by recent activity" is
one Query. The members' copies (activity key, title) are moved by the change feed
(`parley.activity`), not by the request that changed META.

Deleting is two steps: the request marks META `deleted_at` (from then on the conversation is
gone for every reader and every guarded write), and the change feed purges the items under it
in passes (`purge_pass`), deleting META last (`parley.cleanup`).

Who may read or change a conversation is decided in the domain layer (`parley.access`,
`parley.conversations`); this repository only reads and writes the items.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from parley.errors import Conflict, ConversationNotFound
from parley.ids import new_ulid, now_iso
from parley.models import AssistantRef, Conversation, Kind, Member, MemberRole, Persona, Profile
from parley.store.housekeeping import sweep_key
from parley.store.table import (
    activity_sk,
    conv_pk,
    decode_cursor,
    encode_cursor,
    member_sk,
    query_items,
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
    model: str | None = None
    """The catalog id of the model that answers (`parley.catalog`); None: the default."""
    persona: Persona | None = None
    """A chat started from an assistant: the assistant as it was then (`parley.assistants`)."""

    def view(self, role: MemberRole) -> Conversation:
        return Conversation(
            id=self.id,
            kind=self.kind,
            title=self.title,
            owner_id=self.owner_id,
            role=role,
            created_at=self.created_at,
            updated_at=self.updated_at,
            model=self.model,
            assistant=_ref(self.persona),
        )


def _ref(persona: Persona | None) -> AssistantRef | None:
    if persona is None:
        return None
    return AssistantRef(id=persona.id, name=persona.name, handle=persona.handle)


def _persona_of(item: dict[str, Any]) -> Persona | None:
    """The assistant a chat was started from, as stored on META (flat attributes, so a list
    reads its name without the instructions)."""
    if not item.get("assistant_id"):
        return None
    return Persona(
        id=str(item["assistant_id"]),
        name=str(item.get("assistant_name", "")),
        handle=str(item.get("assistant_handle", "")),
        instructions=str(item.get("assistant_instructions", "")),
        temperature=float(item.get("assistant_temperature", 1)),
    )


def _persona_item(persona: Persona) -> dict[str, Any]:
    return {
        "assistant_id": persona.id,
        "assistant_name": persona.name,
        "assistant_handle": persona.handle,
        "assistant_instructions": persona.instructions,
        "assistant_temperature": Decimal(str(persona.temperature)),
    }


def _record(item: dict[str, Any]) -> ConversationRecord:
    return ConversationRecord(
        id=str(item["pk"]).removeprefix("CONV#"),
        kind=item["kind"],
        title=str(item["title"]),
        owner_id=str(item["owner_id"]),
        created_at=str(item["created_at"]),
        updated_at=str(item["updated_at"]),
        titled=bool(item.get("titled", True)),
        model=str(item["model_id"]) if item.get("model_id") else None,
        persona=_persona_of(item),
    )


def _model_of(head: dict[str, Any]) -> str | None:
    return str(head["model_id"]) if head.get("model_id") else None


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
        if item is None or "deleted_at" in item:
            raise ConversationNotFound()
        return _record(item)

    def member(self, conversation_id: str, user_id: str) -> Member | None:
        """The user's member item, or None (also when the conversation is being deleted).

        One BatchGetItem reads the member item and META together (strongly consistent), so a
        deleted conversation's members, still there until the purge, are no longer members.
        """
        pk = conv_pk(conversation_id)
        keys = [{"pk": pk, "sk": member_sk(user_id)}, {"pk": pk, "sk": "META"}]
        request: Any = {self.table.name: {"Keys": keys, "ConsistentRead": True}}
        found: dict[str, dict[str, Any]] = {}
        while request:
            response = self.table.meta.client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table.name, []):
                found[str(item["sk"])] = item
            request = response.get("UnprocessedKeys") or {}
        meta, mine = found.get("META"), found.get(member_sk(user_id))
        if meta is None or "deleted_at" in meta or mine is None:
            return None
        return _member(mine)

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
        heads = self._heads([str(item["pk"]) for item in response.get("Items", [])])
        items = [
            Conversation(
                id=str(item["pk"]).removeprefix("CONV#"),
                kind=item["kind"],
                # META is the truth for the title: a member's copy follows it through the change
                # feed, a second or so later, and a rename must show in the list at once.
                title=str(heads.get(str(item["pk"]), {}).get("title", item["title"])),
                owner_id=str(item["owner_id"]),
                role=item["role"],
                created_at=str(item["created_at"]),
                updated_at=str(item["updated_at"]),
                model=_model_of(heads.get(str(item["pk"]), {})),
                assistant=_ref(_persona_of(heads.get(str(item["pk"]), {}))),
            )
            for item in response.get("Items", [])
            if "deleted_at" not in heads.get(str(item["pk"]), {})
        ]
        return items, encode_cursor(response.get("LastEvaluatedKey"))

    def _heads(self, pks: list[str]) -> dict[str, dict[str, Any]]:
        """The META items' title and deleted mark of these conversations, by `pk`: one
        BatchGetItem. Members go in the background after a delete, so the list drops a deleted
        conversation here at once; and it shows the title as it is now."""
        if not pks:
            return {}
        keys = [{"pk": pk, "sk": "META"} for pk in dict.fromkeys(pks)]
        request: Any = {
            self.table.name: {
                "Keys": keys,
                "ProjectionExpression": (
                    "pk, deleted_at, title, model_id, assistant_id, assistant_name, "
                    "assistant_handle"
                ),
            }
        }
        heads: dict[str, dict[str, Any]] = {}
        while request:
            response = self.table.meta.client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table.name, []):
                heads[str(item["pk"])] = item
            request = response.get("UnprocessedKeys") or {}
        return heads

    def members(self, conversation_id: str) -> list[Member]:
        items = self._query_all(conversation_id, "MEMBER#")
        return [_member(item) for item in items]

    # -- writing -------------------------------------------------------------------------------
    def create(
        self,
        owner: Profile,
        *,
        kind: Kind,
        title: str | None,
        model: str | None = None,
        persona: Persona | None = None,
    ) -> Conversation:
        now = now_iso()
        record = ConversationRecord(
            id=new_ulid(),
            kind=kind,
            title=title or DEFAULT_TITLE,
            owner_id=owner.id,
            created_at=now,
            updated_at=now,
            titled=title is not None,
            model=model,
            persona=persona,
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
        if model is not None:
            meta["model_id"] = model
        if persona is not None:
            meta.update(_persona_item(persona))
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

    def set_model(self, record: ConversationRecord, model: str) -> ConversationRecord:
        """Store the model that writes the next reply (`ConversationNotFound` if gone)."""
        try:
            self.table.update_item(
                Key={"pk": conv_pk(record.id), "sk": "META"},
                UpdateExpression="SET model_id = :m",
                ConditionExpression=Attr("pk").exists() & Attr("deleted_at").not_exists(),
                ExpressionAttributeValues={":m": model},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            raise ConversationNotFound() from None
        return replace(record, model=model)

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
        condition: Any = Attr("pk").exists() & Attr("deleted_at").not_exists()
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
        return ConversationRecord(
            id=record.id,
            kind=record.kind,
            title=title,
            owner_id=record.owner_id,
            created_at=record.created_at,
            updated_at=now,
            titled=True,
            model=record.model,
        )

    def touch(
        self,
        conversation_id: str,
        at: str | None = None,
        *,
        member_ids: Iterable[str] | None = None,
    ) -> str:
        """Record activity: META and every member's GSI1 key move to `at` (the change feed does
        this, `parley.activity`). Doing it again with the same `at` moves the members a failed
        first attempt did not reach; an older `at` than META's changes nothing. A caller that
        has just read the members passes their ids and saves the Query."""
        now = at or now_iso()
        try:
            self.table.update_item(
                Key={"pk": conv_pk(conversation_id), "sk": "META"},
                UpdateExpression="SET updated_at = :u",
                ConditionExpression=Attr("pk").exists()
                & Attr("deleted_at").not_exists()
                & Attr("updated_at").lte(now),
                ExpressionAttributeValues={":u": now},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return now  # deleted meanwhile, or a later activity already won
        self._touch_members(conversation_id, now, member_ids=member_ids)
        return now

    def copy_title(self, conversation_id: str, title: str) -> None:
        """Copy META's title to every member item (the GSI1 list shows it without a read)."""
        for item in self._query_all(conversation_id, "MEMBER#", keys_only=True):
            try:
                self.table.update_item(
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET title = :t",
                    ConditionExpression=Attr("pk").exists(),
                    ExpressionAttributeValues={":t": title},
                )
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise  # left meanwhile

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

    def purge(self, conversation_id: str, pass_number: int, *, limit: int) -> bool:
        """Delete up to `limit` items of a conversation marked deleted, META last. True when
        it is all gone; False when more remain, after bumping META's `purge_pass` so the next
        pass follows as its own change (each pass stays far inside the function's timeout).
        Running a pass twice is harmless: deletes of gone items change nothing."""
        pk = conv_pk(conversation_id)
        args: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(pk),
            "ProjectionExpression": "pk, sk",
            "Limit": limit + 1,
        }
        keys: list[dict[str, Any]] = []
        while len(keys) <= limit:
            response = self.table.query(**args)
            keys.extend(i for i in response.get("Items", []) if i["sk"] != "META")
            if "LastEvaluatedKey" not in response:
                break
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        more = len(keys) > limit
        with self.table.batch_writer() as batch:
            for key in keys[:limit]:
                batch.delete_item(Key={"pk": key["pk"], "sk": key["sk"]})
        try:
            if more:
                self.table.update_item(
                    Key={"pk": pk, "sk": "META"},
                    UpdateExpression="SET purge_pass = :next",
                    ConditionExpression=Attr("deleted_at").exists()
                    & Attr("purge_pass").lt(pass_number + 1),
                    ExpressionAttributeValues={":next": pass_number + 1},
                )
            else:
                self.table.delete_item(
                    Key={"pk": pk, "sk": "META"},
                    ConditionExpression=Attr("deleted_at").exists(),
                )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise  # already purged, or a later pass is under way
        return not more

    def _query_all(
        self, conversation_id: str, prefix: str | None, *, keys_only: bool = False
    ) -> list[dict[str, Any]]:
        condition: Any = Key("pk").eq(conv_pk(conversation_id))
        if prefix:
            condition = condition & Key("sk").begins_with(prefix)
        args: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        if keys_only:
            args["ProjectionExpression"] = "pk, sk"
        return list(query_items(self.table, **args))
