"""The housekeeping index: what the scheduled maintenance looks for, found without a Scan.

`GSI3` is sparse: only items that carry a `sweep` attribute are in it, keyed
`sweep = SWEEP#<kind>#<shard>` / `updated_at`, keys only. Three kinds of item carry one:

* `CONV#<id> / META` (kind `CONV`): a conversation and its last activity — retention asks for
  conversations untouched since a cutoff;
* `CONV#<id> / STREAM#<reply id>` (kind `STREAM`): the marker that lives while a reply streams —
  a marker older than a worker can live names a reply whose worker died;
* `CONV#<id> / REPLYING#<user>` (kind `SLOT`): a reply slot and its token reservation — one
  still held past its expiry was left by a worker that never settled.

Each kind is spread over `SHARDS` partition keys (a hash of the item's id), so no index
partition takes every write; a reader asks each shard in turn.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.conditions import Attr, Key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

INDEX = "GSI3"
SHARDS = 8
Kind = Literal["CONV", "STREAM", "SLOT"]


def sweep_key(kind: Kind, item_id: str) -> str:
    """The `sweep` value of an item of this kind (its shard comes from its id)."""
    return f"SWEEP#{kind}#{zlib.crc32(item_id.encode()) % SHARDS}"


class HousekeepingRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def older_than(self, kind: Kind, cutoff: str, *, limit: int) -> Iterator[dict[str, str]]:
        """Keys (`pk`, `sk`, `updated_at`) of items of `kind` last updated before `cutoff`,
        oldest first in each shard, at most `limit` in all."""
        left = limit
        for shard in range(SHARDS):
            args: dict[str, Any] = {
                "IndexName": INDEX,
                "KeyConditionExpression": Key("sweep").eq(f"SWEEP#{kind}#{shard}")
                & Key("updated_at").lt(cutoff),
            }
            while left > 0:
                args["Limit"] = min(left, 100)
                page = self.table.query(**args)
                for item in page.get("Items", []):
                    left -= 1
                    yield {
                        "pk": str(item["pk"]),
                        "sk": str(item["sk"]),
                        "updated_at": str(item["updated_at"]),
                    }
                if "LastEvaluatedKey" not in page:
                    break
                args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            if left <= 0:
                return

    def index_conversations(self, *, limit: int) -> int:
        """Give conversations stored before the index existed their `sweep` key (a one-off
        Scan of META items, `invoke maintenance --backfill`); returns how many were indexed."""
        done = 0
        args: dict[str, Any] = {
            "FilterExpression": Attr("sk").eq("META")
            & Attr("sweep").not_exists()
            & Attr("pk").begins_with("CONV#"),
            "ProjectionExpression": "pk, sk",
        }
        while done < limit:
            page = self.table.scan(**args)
            for item in page.get("Items", []):
                conversation_id = str(item["pk"]).removeprefix("CONV#")
                try:
                    self.table.update_item(
                        Key={"pk": item["pk"], "sk": "META"},
                        UpdateExpression="SET sweep = :s",
                        ConditionExpression=Attr("pk").exists(),
                        ExpressionAttributeValues={":s": sweep_key("CONV", conversation_id)},
                    )
                except self.table.meta.client.exceptions.ConditionalCheckFailedException:
                    continue
                done += 1
            if "LastEvaluatedKey" not in page:
                break
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return done
