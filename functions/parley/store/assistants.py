"""Users' assistants and the rooms that added them.

* `USER#<sub> / ASSISTANT#<ulid>` — one assistant: name, handle, instructions, model_id,
  temperature, created_at, updated_at. Under its owner's key: nobody else's id reaches it.
* `USER#<sub> / HANDLE#<handle>` — the handle's claim (assistant_id): a handle is unique per
  user because this key is.
* `USER#<sub> / ASSISTANTS` — how many the user has (`count`), so the limit holds however many
  are made at once.
* `CONV#<id> / ROOMASSISTANT#<assistant id>` — an assistant a room's owner added (owner_id: the
  assistant's owner, added_by, added_at); `CONV#<id> / ROOMASSISTANTS` counts them. Under the
  conversation, so its purge takes them along.

Every change is one transaction over the items it touches (the assistant, its handle's claim,
the count): nothing is ever half-written. Who may do what is decided in `parley.assistants`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from parley.store.table import conv_pk, query_items, user_pk

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mypy_boto3_dynamodb.service_resource import Table

ASSISTANT_PREFIX = "ASSISTANT#"
HANDLE_PREFIX = "HANDLE#"
COUNT_SK = "ASSISTANTS"
ROOM_PREFIX = "ROOMASSISTANT#"
ROOM_COUNT_SK = "ROOMASSISTANTS"


@dataclass(frozen=True, slots=True)
class AssistantRecord:
    id: str
    owner_id: str
    name: str
    handle: str
    instructions: str
    model: str
    temperature: float
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class RoomLink:
    """An assistant added to a room."""

    assistant_id: str
    owner_id: str
    added_by: str
    added_at: str


class HandleTaken(Exception):
    """The owner already has an assistant with this handle."""


class LimitReached(Exception):
    """The count is at its limit."""


class Changed(Exception):
    """The item changed or went away since it was read."""


class RoomGone(Exception):
    """The room is deleted, or the caller does not own it."""


class AlreadyAdded(Exception):
    """The room has this assistant already."""


def assistant_key(owner_id: str, assistant_id: str) -> dict[str, str]:
    return {"pk": user_pk(owner_id), "sk": f"{ASSISTANT_PREFIX}{assistant_id}"}


def handle_key(owner_id: str, handle: str) -> dict[str, str]:
    return {"pk": user_pk(owner_id), "sk": f"{HANDLE_PREFIX}{handle}"}


def link_key(conversation_id: str, assistant_id: str) -> dict[str, str]:
    return {"pk": conv_pk(conversation_id), "sk": f"{ROOM_PREFIX}{assistant_id}"}


def _record(item: dict[str, Any]) -> AssistantRecord:
    return AssistantRecord(
        id=str(item["sk"]).removeprefix(ASSISTANT_PREFIX),
        owner_id=str(item["pk"]).removeprefix("USER#"),
        name=str(item["name"]),
        handle=str(item["handle"]),
        instructions=str(item["instructions"]),
        model=str(item["model_id"]),
        temperature=float(item["temperature"]),
        created_at=str(item["created_at"]),
        updated_at=str(item["updated_at"]),
    )


def _item(record: AssistantRecord) -> dict[str, Any]:
    return {
        **assistant_key(record.owner_id, record.id),
        "name": record.name,
        "handle": record.handle,
        "instructions": record.instructions,
        "model_id": record.model,
        "temperature": Decimal(str(record.temperature)),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _reasons(exc: ClientError) -> list[str | None]:
    if exc.response["Error"]["Code"] != "TransactionCanceledException":
        raise exc
    return [r.get("Code") for r in exc.response.get("CancellationReasons", [])]


def _failed(reasons: list[str | None], index: int) -> bool:
    return len(reasons) > index and reasons[index] == "ConditionalCheckFailed"


def _count_up(table: str, key: dict[str, str], limit: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "ADD #n :one",
            "ConditionExpression": "attribute_not_exists(#n) OR #n < :limit",
            "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": {":one": 1, ":limit": limit},
        }
    }


def _count_down(table: str, key: dict[str, str]) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "ADD #n :minus",
            "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": {":minus": -1},
        }
    }


class AssistantRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- a user's assistants ------------------------------------------------------------------
    def of_user(self, owner_id: str) -> list[AssistantRecord]:
        """The user's assistants, oldest first (ULIDs sort by time)."""
        items = query_items(
            self.table,
            KeyConditionExpression=Key("pk").eq(user_pk(owner_id))
            & Key("sk").begins_with(ASSISTANT_PREFIX),
        )
        return [_record(item) for item in items]

    def get(self, owner_id: str, assistant_id: str) -> AssistantRecord | None:
        item = self.table.get_item(Key=assistant_key(owner_id, assistant_id)).get("Item")
        return _record(item) if item is not None else None

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[str, AssistantRecord]:
        """The assistants at these `(owner id, assistant id)` keys that exist, by id: one
        BatchGetItem."""
        wanted = [assistant_key(owner, aid) for owner, aid in dict.fromkeys(keys)]
        found: dict[str, AssistantRecord] = {}
        if not wanted:
            return found
        request: Any = {self.table.name: {"Keys": wanted}}
        while request:
            response = self.table.meta.client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table.name, []):
                record = _record(item)
                found[record.id] = record
            request = response.get("UnprocessedKeys") or {}
        return found

    def create(self, record: AssistantRecord, *, limit: int) -> None:
        """The assistant, its handle's claim and the count, at once: `HandleTaken` or
        `LimitReached` and nothing written otherwise."""
        name = self.table.name
        owner = record.owner_id
        transact: list[Any] = [
            {
                "Put": {
                    "TableName": name,
                    "Item": {**handle_key(owner, record.handle), "assistant_id": record.id},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            _count_up(name, {"pk": user_pk(owner), "sk": COUNT_SK}, limit),
            {
                "Put": {
                    "TableName": name,
                    "Item": _item(record),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        try:
            self.table.meta.client.transact_write_items(TransactItems=transact)
        except ClientError as exc:
            reasons = _reasons(exc)
            if _failed(reasons, 0):
                raise HandleTaken() from None
            if _failed(reasons, 1):
                raise LimitReached() from None
            raise

    def replace(self, before: AssistantRecord, after: AssistantRecord) -> None:
        """Store `after` if the assistant is still as `before` (`Changed` otherwise); a new
        handle is claimed and the old one given up in the same transaction (`HandleTaken`)."""
        name = self.table.name
        owner = before.owner_id
        transact: list[Any] = [
            {
                "Put": {
                    "TableName": name,
                    "Item": _item(after),
                    "ConditionExpression": "updated_at = :seen",
                    "ExpressionAttributeValues": {":seen": before.updated_at},
                }
            }
        ]
        if after.handle != before.handle:
            transact += [
                {
                    "Put": {
                        "TableName": name,
                        "Item": {**handle_key(owner, after.handle), "assistant_id": after.id},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Delete": {
                        "TableName": name,
                        "Key": handle_key(owner, before.handle),
                        "ConditionExpression": "assistant_id = :id",
                        "ExpressionAttributeValues": {":id": before.id},
                    }
                },
            ]
        try:
            self.table.meta.client.transact_write_items(TransactItems=transact)
        except ClientError as exc:
            reasons = _reasons(exc)
            if _failed(reasons, 0) or _failed(reasons, 2):
                raise Changed() from None
            if _failed(reasons, 1):
                raise HandleTaken() from None
            raise

    def delete(self, record: AssistantRecord) -> None:
        """The assistant, its handle's claim and one off the count (`Changed` when it was
        already gone)."""
        name = self.table.name
        owner = record.owner_id
        transact: list[Any] = [
            {
                "Delete": {
                    "TableName": name,
                    "Key": assistant_key(owner, record.id),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {
                "Delete": {
                    "TableName": name,
                    "Key": handle_key(owner, record.handle),
                    "ConditionExpression": "assistant_id = :id",
                    "ExpressionAttributeValues": {":id": record.id},
                }
            },
            _count_down(name, {"pk": user_pk(owner), "sk": COUNT_SK}),
        ]
        try:
            self.table.meta.client.transact_write_items(TransactItems=transact)
        except ClientError as exc:
            _reasons(exc)
            raise Changed() from None

    # -- rooms ------------------------------------------------------------------------------------
    def links(self, conversation_id: str) -> list[RoomLink]:
        """The assistants a room added, in the order they were added."""
        items = query_items(
            self.table,
            KeyConditionExpression=Key("pk").eq(conv_pk(conversation_id))
            & Key("sk").begins_with(ROOM_PREFIX),
        )
        links = [
            RoomLink(
                assistant_id=str(item["sk"]).removeprefix(ROOM_PREFIX),
                owner_id=str(item["owner_id"]),
                added_by=str(item["added_by"]),
                added_at=str(item["added_at"]),
            )
            for item in items
        ]
        return sorted(links, key=lambda link: (link.added_at, link.assistant_id))

    def add_link(self, conversation_id: str, link: RoomLink, *, limit: int) -> None:
        """Add the assistant while the room is `added_by`'s and not deleted (`RoomGone`), not
        added already (`AlreadyAdded`) and below `limit` (`LimitReached`)."""
        name = self.table.name
        transact: list[Any] = [
            {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": {"pk": conv_pk(conversation_id), "sk": "META"},
                    "ConditionExpression": "owner_id = :owner AND attribute_not_exists(deleted_at)",
                    "ExpressionAttributeValues": {":owner": link.added_by},
                }
            },
            {
                "Put": {
                    "TableName": name,
                    "Item": {
                        **link_key(conversation_id, link.assistant_id),
                        "owner_id": link.owner_id,
                        "added_by": link.added_by,
                        "added_at": link.added_at,
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            _count_up(name, {"pk": conv_pk(conversation_id), "sk": ROOM_COUNT_SK}, limit),
        ]
        try:
            self.table.meta.client.transact_write_items(TransactItems=transact)
        except ClientError as exc:
            reasons = _reasons(exc)
            if _failed(reasons, 0):
                raise RoomGone() from None
            if _failed(reasons, 1):
                raise AlreadyAdded() from None
            if _failed(reasons, 2):
                raise LimitReached() from None
            raise

    def remove_link(self, conversation_id: str, assistant_id: str) -> bool:
        """Take the assistant out of the room; False when it was not in it."""
        name = self.table.name
        transact: list[Any] = [
            {
                "Delete": {
                    "TableName": name,
                    "Key": link_key(conversation_id, assistant_id),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            _count_down(name, {"pk": conv_pk(conversation_id), "sk": ROOM_COUNT_SK}),
        ]
        try:
            self.table.meta.client.transact_write_items(TransactItems=transact)
        except ClientError as exc:
            if _failed(_reasons(exc), 0):
                return False
            raise
        return True
