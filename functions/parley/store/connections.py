"""The `connections` table: live WebSocket connections and their room subscriptions.

Two item kinds (keys in `functions/tables.yaml`, shapes in `docs/contracts.md`):

* ``CONN#<id> / META``   — who the connection is and which rooms it follows (a string set), so
  `$disconnect` can remove its subscriptions without searching;
* ``CONV#<c> / CONN#<id>`` — one subscription, stored under the room, so a broadcast is one
  Query on the room's key that reads exactly the room's subscribers — never a Scan.

* ``USER#<u> / CONNS`` — the user's open connections (connection id → when it ends at the
  latest), so `$connect` can cap them without searching.

Every item carries ``expires_at``: API Gateway closes a connection after two hours at most, so
DynamoDB's TTL sweeps whatever a lost `$disconnect` left behind, and a connection that was lost
without one stops counting against its user's cap when its two hours are over.

The connection item also guards every action: `admit` is one conditional write that checks the
connection still exists, its token has not expired (``token_expires_at``, from `$connect`) and
the action's rate (a GCRA — a token bucket kept as one timestamp per bucket) is not exceeded.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

MAX_CONNECTION_SECONDS = 2 * 60 * 60
"""API Gateway's hard limit on a WebSocket connection's life."""
TTL_MARGIN_SECONDS = 10 * 60
MAX_CONNECTIONS_PER_USER = 10
"""Open connections one user may have (tabs and devices); one more is refused at `$connect`."""


class ConnectionGone(Exception):
    """The connection has no META item (already disconnected or never connected)."""


class TooManyConnections(Exception):
    """The user already has `MAX_CONNECTIONS_PER_USER` open connections."""


class TokenExpired(Exception):
    """The token the connection was opened with has expired."""


class RateLimited(Exception):
    """The action's rate on this connection is exceeded; `retry_after` in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.1f} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Rate:
    """`burst` actions at once, then one every `every` seconds."""

    burst: int
    every: float


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


def _int(value: Any) -> int:
    """A DynamoDB number (Decimal) as an int."""
    return int(value)


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


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
    def connect(
        self,
        connection_id: str,
        user_id: str,
        name: str,
        *,
        token_expires_at: int | None = None,
        max_per_user: int = MAX_CONNECTIONS_PER_USER,
    ) -> Connection:
        """Record a new connection, unless the user has `max_per_user` open already
        (`TooManyConnections`). Idempotent: a repeated `$connect` rewrites the same items."""
        now = int(self._clock())
        expires = now + MAX_CONNECTION_SECONDS + TTL_MARGIN_SECONDS
        meta: dict[str, Any] = {
            "pk": _conn_pk(connection_id),
            "sk": "META",
            "user_id": user_id,
            "name": name,
            "connected_at": now,
            "expires_at": expires,
        }
        if token_expires_at is not None:
            meta["token_expires_at"] = int(token_expires_at)
        # A connection ends within MAX_CONNECTION_SECONDS: entries past that are stale.
        ends = now + MAX_CONNECTION_SECONDS
        for _ in range(5):  # optimistic: another tab may connect at the same moment
            key = {"pk": _user_pk(user_id), "sk": "CONNS"}
            item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
            stored: Any = (item or {}).get("conns") or {}
            open_now = {str(k): _int(v) for k, v in stored.items()}
            live = {k for k, v in open_now.items() if v > now and k != connection_id}
            if len(live) >= max_per_user:
                raise TooManyConnections(user_id)
            conns = {k: open_now[k] for k in live} | {connection_id: ends}
            version = _int(item.get("version", 0)) if item else 0
            user: Any = {
                "Put": {
                    "TableName": self._table.name,
                    "Item": {**key, "conns": conns, "version": version + 1, "expires_at": expires},
                    "ConditionExpression": (
                        "version = :v" if item is not None else "attribute_not_exists(pk)"
                    ),
                    **({"ExpressionAttributeValues": {":v": version}} if item is not None else {}),
                }
            }
            try:
                self._table.meta.client.transact_write_items(
                    TransactItems=[{"Put": {"TableName": self._table.name, "Item": meta}}, user]
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                continue  # the user's list changed meanwhile: read it again
            return Connection(connection_id, user_id, name)
        raise TooManyConnections(user_id)  # contended beyond reason: refuse, the client retries

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
        if connection.user_id:
            try:
                self._table.update_item(
                    Key={"pk": _user_pk(connection.user_id), "sk": "CONNS"},
                    UpdateExpression="REMOVE conns.#c ADD version :one",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#c": connection_id},
                    ExpressionAttributeValues={":one": 1},
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        return connection

    # the guard of every action --------------------------------------------------------------
    def admit(self, connection_id: str, bucket: str, rate: Rate) -> None:
        """Let one action through, or raise `ConnectionGone`, `TokenExpired` or `RateLimited`.

        GCRA on one attribute per bucket (`tat`, the theoretical arrival time in ms): an idle
        bucket costs one write, a bursting one two; only a refusal reads the item, to say why.
        """
        now_ms = int(self._clock() * 1000)
        interval = max(1, int(rate.every * 1000))
        tolerance = interval * (rate.burst - 1)
        names = {"#t": f"rate_{bucket}"}
        guard = (
            "attribute_exists(pk) AND "
            "(attribute_not_exists(token_expires_at) OR token_expires_at > :now_s)"
        )
        attempts: list[tuple[str, str, dict[str, Any]]] = [
            (  # idle: the bucket is full
                "SET #t = :next",
                f"{guard} AND (attribute_not_exists(#t) OR #t < :now)",
                {":next": now_ms + interval},
            ),
            (  # bursting: room left within the tolerance
                "SET #t = #t + :interval",
                f"{guard} AND #t >= :now AND #t <= :latest",
                {":interval": interval, ":latest": now_ms + tolerance},
            ),
        ]
        for update, condition, values in attempts:
            try:
                self._table.update_item(
                    Key={"pk": _conn_pk(connection_id), "sk": "META"},
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={":now": now_ms, ":now_s": now_ms // 1000, **values},
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                continue
            return
        item = self._table.get_item(
            Key={"pk": _conn_pk(connection_id), "sk": "META"}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise ConnectionGone(connection_id)
        expires = item.get("token_expires_at")
        if expires is not None and _int(expires) <= now_ms // 1000:
            raise TokenExpired(connection_id)
        tat = _int(item.get(names["#t"], now_ms))
        raise RateLimited(max(0.0, (tat - tolerance - now_ms) / 1000))

    # a user's connections ---------------------------------------------------------------------
    def user_connections(self, user_ids: Collection[str]) -> dict[str, list[str]]:
        """The open connections of each user (personal events): their ``USER#<u> / CONNS``
        items, read strongly in batches of 100 — one read per user, never a Scan. Entries
        past a connection's latest end are left out."""
        now = int(self._clock())
        found: dict[str, list[str]] = {}
        wanted = sorted(set(user_ids))
        for start in range(0, len(wanted), 100):
            keys: list[dict[str, Any]] = [
                {"pk": _user_pk(u), "sk": "CONNS"} for u in wanted[start : start + 100]
            ]
            name = self._table.name
            while keys:
                answer: Any = self._table.meta.client.batch_get_item(
                    RequestItems={name: {"Keys": keys, "ConsistentRead": True}}
                )
                for item in answer.get("Responses", {}).get(name, []):
                    conns: Any = item.get("conns") or {}
                    live = sorted(str(c) for c, ends in conns.items() if _int(ends) > now)
                    if live:
                        found[str(item["pk"]).removeprefix("USER#")] = live
                keys = list(answer.get("UnprocessedKeys", {}).get(name, {}).get("Keys", []))
        return found

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

    # housekeeping -----------------------------------------------------------------------------
    def sweep(self, alive: Any, *, now: int | None = None) -> tuple[int, int]:
        """Remove what a lost `$disconnect` left behind, before DynamoDB's TTL gets to it (TTL
        deletes within days, not at once): connections past their end or that API Gateway
        no longer knows (`alive(connection_id)` is False), subscriptions whose connection is
        gone, and users' entries of connections that have ended. The table holds only live
        connections, so this is one Scan of a small table. Returns (connections,
        subscriptions) removed."""
        moment = int(self._clock()) if now is None else now
        metas: dict[str, int] = {}
        subscriptions: list[tuple[str, str]] = []
        users: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                pk, sk = str(item["pk"]), str(item["sk"])
                if pk.startswith("CONN#") and sk == "META":
                    metas[pk.removeprefix("CONN#")] = _int(item.get("expires_at", 0))
                elif pk.startswith("CONV#") and sk.startswith("CONN#"):
                    subscriptions.append((pk.removeprefix("CONV#"), sk.removeprefix("CONN#")))
                elif pk.startswith("USER#") and sk == "CONNS":
                    users.append(item)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        removed: set[str] = set()
        for connection_id, expires in sorted(metas.items()):
            gone = expires <= moment or not alive(connection_id)
            if gone and self.disconnect(connection_id) is not None:
                removed.add(connection_id)
        orphans = 0
        for conversation_id, connection_id in subscriptions:
            if connection_id in metas and connection_id not in removed:
                continue
            if self.get(connection_id) is not None:  # connected after the Scan passed it
                continue
            old = self._table.delete_item(
                Key={"pk": _conv_pk(conversation_id), "sk": _conn_pk(connection_id)},
                ReturnValues="ALL_OLD",
            ).get("Attributes")
            orphans += 1 if old else 0
        for item in users:
            conns: Any = item.get("conns") or {}
            for connection_id, ends in conns.items():
                if _int(ends) > moment:
                    continue
                try:
                    self._table.update_item(
                        Key={"pk": item["pk"], "sk": "CONNS"},
                        UpdateExpression="REMOVE conns.#c ADD version :one",
                        ConditionExpression="conns.#c = :ends",
                        ExpressionAttributeNames={"#c": str(connection_id)},
                        ExpressionAttributeValues={":one": 1, ":ends": ends},
                    )
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
        return len(removed), orphans


def _connection(connection_id: str, item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=connection_id,
        user_id=str(item.get("user_id", "")),
        name=str(item.get("name", "")),
        subscriptions=frozenset(str(s) for s in item.get("subscriptions", set())),
    )
