"""Per-user daily token counters: `USER#<sub> / USAGE#<yyyy-mm-dd>`, updated with atomic ADD."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.models import Usage
from parley.store.table import user_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class UsageRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, user_id: str, day: str, usage: Usage) -> None:
        self.table.update_item(
            Key={"pk": user_pk(user_id), "sk": f"USAGE#{day}"},
            UpdateExpression="ADD tokens_in :i, tokens_out :o",
            ExpressionAttributeValues={":i": usage.input_tokens, ":o": usage.output_tokens},
        )

    def get(self, user_id: str, day: str) -> Usage:
        item = (
            self.table.get_item(Key={"pk": user_pk(user_id), "sk": f"USAGE#{day}"}).get("Item")
            or {}
        )
        return Usage(
            input_tokens=int(item.get("tokens_in", 0)),  # type: ignore[arg-type]
            output_tokens=int(item.get("tokens_out", 0)),  # type: ignore[arg-type]
        )
