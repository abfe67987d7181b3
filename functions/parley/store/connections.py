"""The `connections` table: live WebSocket connections and their room subscriptions.

Two item kinds (keys in `functions/tables.yaml`, shapes in `docs/contracts.md`):

* ``CONN#<id> / META``   — who the connection is and which rooms it follows (a string set), so
  `$disconnect` can remove its subscriptions without searching;
* ``CONV#<c> / CONN#<id>`` — one subscription, stored under the room, so a broadcast is one
  Query on the room's key that reads exactly the room's subscribers — never a Scan.

Every item carries ``expires_at``: API Gateway closes a connection after two hours at most, so
DynamoDB's TTL sweeps whatever a lost `$disconnect` left behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

MAX_CONNECTION_SECONDS = 2 * 60 * 60
"""API Gateway's hard limit on a WebSocket connection's life."""
TTL_MARGIN_SECONDS = 10 * 60


class ConnectionGone(Exception):
    """The connection has no META item (already disconnected or never connected)."""


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One connection following a room."""

    connection_id: str
    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Connection:
    """A live connection and the rooms it follows."""

    connection_id: str
    user_id: str
    name: str
    subscriptions: frozenset[str] = field(default_factory=frozenset)


def _conn_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def _conv_pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


class ConnectionsRepository:
    """DynamoDB implementation of connection and subscription bookkeeping."""

    def __init__(self, table: Table, *, clock: Any = time.time) -> None:
        self._table = table
        self._clock = clock
        self.items_read = 0
        """Items DynamoDB examined for subscriber queries (what a broadcast costs)."""

    # connections ----------------------------------------------------------------------------
    def connect(self, connection_id: str, user_id: str, name: str) -> Connection:
        """Record a new connection (idempotent: a repeated `$connect` rewrites the same item)."""
        now = int(self._clock())
        self._table.put_item(
            Item={
                "pk": _conn_pk(connection_id),
                "sk": "META",
                "user_id": user_id,
                "name": name,
                "connected_at": now,
                "expires_at": now + MAX_CONNECTION_SECONDS + TTL_MARGIN_SECONDS,
            }
        )
        return Connection(connection_id, user_id, name)

    def get(self, connection_id: str) -> Connection | None:
        item = self._table.get_item(
            Key={"pk": _conn_pk(connection_id), "sk": "META"}, ConsistentRead=True
        ).get("Item")
        return _connection(connection_id, item) if item else None

    def disconnect(self, connection_id: str) -> Connection | None:
        """Delete the connection and all its subscriptions; return what it was (None if gone)."""
        item = self._table.delete_item(
            Key={"pk": _conn_pk(connection_id), "sk": "META"}, ReturnValues="ALL_OLD"
        ).get("Attributes")
        if not item:
            return None
        connection = _connection(connection_id, item)
        if connection.subscriptions:
            with self._table.batch_writer() as batch:
                for conversation_id in connection.subscriptions:
                    batch.delete_item(
                        Key={"pk": _conv_pk(conversation_id), "sk": _conn_pk(connection_id)}
                    )
        return connection

    # subscriptions --------------------------------------------------------------------------
    def subscribe(self, connection_id: str, conversation_id: str) -> Connection:
        """Follow a room. Raises `ConnectionGone` if the connection has already left."""
        try:
            item = self._table.update_item(
                Key={"pk": _conn_pk(connection_id), "sk": "META"},
                UpdateExpression="ADD subscriptions :c",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":c": {conversation_id}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConnectionGone(connection_id) from None
            raise
        connection = _connection(connection_id, item)
        self._table.put_item(
            Item={
                "pk": _conv_pk(conversation_id),
                "sk": _conn_pk(connection_id),
                "user_id": connection.user_id,
                "name": connection.name,
                "expires_at": item["expires_at"],
            }
        )
        return connection

    def unsubscribe(self, connection_id: str, conversation_id: str) -> bool:
        """Stop following a room; False if it was not followed (nothing changed)."""
        old = self._table.delete_item(
            Key={"pk": _conv_pk(conversation_id), "sk": _conn_pk(connection_id)},
            ReturnValues="ALL_OLD",
        ).get("Attributes")
        try:
            self._table.update_item(
                Key={"pk": _conn_pk(connection_id), "sk": "META"},
                UpdateExpression="DELETE subscriptions :c",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":c": {conversation_id}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        return bool(old)

    def remove_stale(self, conversation_id: str, connection_id: str) -> None:
        """Forget a connection API Gateway says is gone (410): this subscription for sure,
        and the connection with its other subscriptions, so no other room posts to it again."""
        self._table.delete_item(
            Key={"pk": _conv_pk(conversation_id), "sk": _conn_pk(connection_id)}
        )
        self.disconnect(connection_id)

    def unsubscribe_user(self, conversation_id: str, user_id: str) -> list[str]:
        """End every subscription of `user_id` to the room (a member removed or leaving):
        their open sockets stop receiving it at once. Returns the connections unsubscribed."""
        gone = [s.connection_id for s in self.subscribers(conversation_id) if s.user_id == user_id]
        for connection_id in gone:
            self.unsubscribe(connection_id, conversation_id)
        return gone

    def subscribers(self, conversation_id: str) -> list[Subscriber]:
        """Everyone following the room: one strongly consistent Query on the room's key
        (paginated), so a subscription just ended is never posted to again."""
        subscribers: list[Subscriber] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(_conv_pk(conversation_id))
            & Key("sk").begins_with("CONN#"),
            "ProjectionExpression": "sk, user_id, #n",
            "ExpressionAttributeNames": {"#n": "name"},
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**kwargs)
            self.items_read += int(page.get("ScannedCount", 0))
            subscribers.extend(
                Subscriber(
                    connection_id=str(item["sk"]).removeprefix("CONN#"),
                    user_id=str(item.get("user_id", "")),
                    name=str(item.get("name", "")),
                )
                for item in page.get("Items", [])
            )
            if "LastEvaluatedKey" not in page:
                return subscribers
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _connection(connection_id: str, item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=connection_id,
        user_id=str(item.get("user_id", "")),
        name=str(item.get("name", "")),
        subscriptions=frozenset(str(s) for s in item.get("subscriptions", set())),
    )
