"""Usage rollups per user per UTC day and month, kept by the change feed (`parley.rollups`).

* `USER#<sub> / ROLLUP#D#<yyyy-mm-dd>` and `USER#<sub> / ROLLUP#M#<yyyy-mm>`: `messages` (the
  user's messages), `tokens_in`, `tokens_out` (of the replies they asked for), `stopped`,
  `failed` (replies that ended so). `GET /me` reads today's and this month's item; `GET
  /me/usage` Queries the days of a range. Nothing is summed when read.
* `COUNTED#<message id> / ROLLUP`: written in the same transaction as the counts, only if new,
  so a change delivered twice (a retried batch, a redrive) counts once. DynamoDB's TTL removes
  it after `MARKER_DAYS` (`purge_at`), long after the stream's 24 h retention.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.store.table import query_items, user_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

MARKER_DAYS = 7
"""How long a counted change's marker lives: past the stream's retention and any redrive."""

FIELDS = ("messages", "tokens_in", "tokens_out", "stopped", "failed", "replies")
STATS_SHARDS = 8
"""The deployment's daily totals are spread over this many items per day (`STATS#<n>`), so a
busy day's counting never piles onto one key; reading a range is one Query per shard."""


@dataclass(frozen=True, slots=True)
class Counts:
    messages: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    stopped: int = 0
    failed: int = 0
    replies: int = 0
    cost: Decimal | int = 0
    """USD of the replies counted (exact decimals from the catalog's prices)."""

    def nonzero(self) -> dict[str, Decimal | int]:
        found: dict[str, Decimal | int] = {
            name: getattr(self, name) for name in FIELDS if getattr(self, name)
        }
        if self.cost:
            found["cost"] = self.cost
        return found


def day_sk(day: str) -> str:
    return f"ROLLUP#D#{day}"


def month_sk(month: str) -> str:
    return f"ROLLUP#M#{month}"


def stats_pk(key: str) -> str:
    """The totals shard a counted message (or a user's first count of a day) adds to."""
    return f"STATS#{zlib.crc32(key.encode()) % STATS_SHARDS}"


@dataclass(frozen=True, slots=True)
class DayTotals:
    """The whole deployment's day: what every user's rollups of the day add up to."""

    counts: Counts
    active_users: int


def _counts(item: dict[str, Any] | None) -> Counts:
    item = item or {}
    return Counts(
        **{name: int(item.get(name, 0)) for name in FIELDS},
        cost=Decimal(str(item.get("cost", 0))),
    )


class RollupRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def count_once(self, key: str, user_id: str, day: str, counts: Counts) -> bool:
        """Add `counts` to the user's day and month, once per `key` (the counted message's id):
        False when it had been counted before."""
        values = counts.nonzero()
        if not values:
            return False
        expression = "ADD " + ", ".join(f"{name} :{name}" for name in values)
        attributes = {f":{name}": value for name, value in values.items()}
        name = self.table.name
        items: list[Any] = [
            {
                "Put": {
                    "TableName": name,
                    "Item": {
                        "pk": f"COUNTED#{key}",
                        "sk": "ROLLUP",
                        "purge_at": int(time.time()) + MARKER_DAYS * 86_400,
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *(
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"pk": user_pk(user_id), "sk": sk},
                        "UpdateExpression": expression,
                        "ExpressionAttributeValues": attributes,
                    }
                }
                for sk in (day_sk(day), month_sk(day[:7]))
            ),
            {  # the deployment's day, in the same transaction: counted once too
                "Update": {
                    "TableName": name,
                    "Key": {"pk": stats_pk(key), "sk": day_sk(day)},
                    "UpdateExpression": expression,
                    "ExpressionAttributeValues": attributes,
                }
            },
        ]
        try:
            self.table.meta.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise  # a concurrent write to the same counters: the batch is retried
        return True

    def mark_active(self, user_id: str, day: str) -> bool:
        """Count the user once among the day's active users (the flag on their day's rollup
        says they were): False when they had been counted."""
        name = self.table.name
        items: list[Any] = [
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": user_pk(user_id), "sk": day_sk(day)},
                    "UpdateExpression": "SET active_counted = :yes",
                    "ConditionExpression": "attribute_not_exists(active_counted)",
                    "ExpressionAttributeValues": {":yes": True},
                }
            },
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": stats_pk(user_id), "sk": day_sk(day)},
                    "UpdateExpression": "ADD active_users :one",
                    "ExpressionAttributeValues": {":one": 1},
                }
            },
        ]
        try:
            self.table.meta.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def totals(self, first: str, last: str) -> dict[str, DayTotals]:
        """The deployment's days from `first` to `last` that have counts: one Query per shard."""
        sums: dict[str, dict[str, int]] = {}
        for shard in range(STATS_SHARDS):
            args: dict[str, Any] = {
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
                "ExpressionAttributeValues": {
                    ":pk": f"STATS#{shard}",
                    ":a": day_sk(first),
                    ":b": day_sk(last),
                },
            }
            for item in query_items(self.table, **args):
                day = str(item["sk"]).removeprefix("ROLLUP#D#")
                into = sums.setdefault(day, {})
                for field_name in (*FIELDS, "active_users"):
                    into[field_name] = into.get(field_name, 0) + int(item.get(field_name, 0))
        return {
            day: DayTotals(
                counts=Counts(**{n: values.get(n, 0) for n in FIELDS}),
                active_users=values.get("active_users", 0),
            )
            for day, values in sums.items()
        }

    def last_active_day(self, user_id: str) -> str | None:
        """The latest day the user has counts for: one Query of one item."""
        response = self.table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
            ExpressionAttributeValues={":pk": user_pk(user_id), ":d": "ROLLUP#D#"},
            ScanIndexForward=False,
            Limit=1,
        )
        for item in response.get("Items", []):
            return str(item["sk"]).removeprefix("ROLLUP#D#")
        return None

    def day_and_month(self, user_id: str, day: str) -> tuple[Counts, Counts]:
        """The day's and its month's counts: one BatchGetItem."""
        keys = [
            {"pk": user_pk(user_id), "sk": day_sk(day)},
            {"pk": user_pk(user_id), "sk": month_sk(day[:7])},
        ]
        request: Any = {self.table.name: {"Keys": keys}}
        found: dict[str, dict[str, Any]] = {}
        while request:
            response = self.table.meta.client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table.name, []):
                found[str(item["sk"])] = item
            request = response.get("UnprocessedKeys") or {}
        return _counts(found.get(day_sk(day))), _counts(found.get(month_sk(day[:7])))

    def days(self, user_id: str, first: str, last: str) -> dict[str, Counts]:
        """The days from `first` to `last` (inclusive) that have counts: one Query."""
        args: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {
                ":pk": user_pk(user_id),
                ":a": day_sk(first),
                ":b": day_sk(last),
            },
        }
        found: dict[str, Counts] = {}
        while True:
            response = self.table.query(**args)
            for item in response.get("Items", []):
                found[str(item["sk"]).removeprefix("ROLLUP#D#")] = _counts(item)
            if "LastEvaluatedKey" not in response:
                return found
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]
