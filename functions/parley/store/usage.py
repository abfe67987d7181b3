"""Per-user daily token counters and the claims replies hold while they run.

* `USER#<sub> / USAGE#<yyyy-mm-dd>`: `tokens_in`, `tokens_out` (what was used), `reserved`
  (what replies in flight hold) and `committed` (= used + reserved, the one number the quota
  condition can compare, since DynamoDB conditions cannot add attributes up), and `cost`
  (USD of the settled replies, exact decimals from the catalog's prices).
* `CONV#<id> / REPLYING#<sub>`: the reply a user has in flight in a conversation. It is created
  with the reservation in one transaction and deleted with the settlement in another, so a
  reply settles exactly once however often its worker is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.ids import iso
from parley.models import Usage
from parley.store.housekeeping import sweep_key
from parley.store.table import conv_pk, user_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class ClaimRefused(Exception):
    """The reservation was refused: `quota` when the day's tokens are spent, else another
    reply of this user is still running in this conversation."""

    def __init__(self, *, quota: bool) -> None:
        super().__init__("quota" if quota else "in flight")
        self.quota = quota


@dataclass(frozen=True, slots=True)
class Claim:
    """What a reply holds until it settles."""

    user_id: str
    conversation_id: str
    reply_id: str
    day: str
    tokens: int


def _usage_key(user_id: str, day: str) -> dict[str, str]:
    return {"pk": user_pk(user_id), "sk": f"USAGE#{day}"}


def _lock_key(conversation_id: str, user_id: str) -> dict[str, str]:
    return {"pk": conv_pk(conversation_id), "sk": f"REPLYING#{user_id}"}


class UsageRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, user_id: str, day: str, usage: Usage) -> None:
        """Count tokens used outside a claim (and as the day's starting point in tests)."""
        total = usage.input_tokens + usage.output_tokens
        self.table.update_item(
            Key=_usage_key(user_id, day),
            UpdateExpression="ADD tokens_in :i, tokens_out :o, committed :t",
            ExpressionAttributeValues={
                ":i": usage.input_tokens,
                ":o": usage.output_tokens,
                ":t": total,
            },
        )

    def get(self, user_id: str, day: str) -> tuple[Usage, int]:
        """The day's usage and the tokens replies in flight hold."""
        usage, reserved, _ = self.read_day(user_id, day)
        return usage, reserved

    def read_day(self, user_id: str, day: str) -> tuple[Usage, int, Decimal]:
        """The day's usage, the tokens replies in flight hold, and what the day's replies
        cost (USD): one read."""
        item = (
            self.table.get_item(Key=_usage_key(user_id, day), ConsistentRead=True).get("Item") or {}
        )
        usage = Usage(
            input_tokens=int(item.get("tokens_in", 0)),  # type: ignore[arg-type]
            output_tokens=int(item.get("tokens_out", 0)),  # type: ignore[arg-type]
        )
        cost = item.get("cost", 0)
        reserved = max(0, int(item.get("reserved", 0)))  # type: ignore[arg-type]
        return usage, reserved, Decimal(str(cost))

    def claim(self, claim: Claim, *, limit: int, now: int, lock_seconds: int) -> None:
        """Reserve `claim.tokens` of the day's `limit` (0: unlimited) and take the user's reply
        slot in the conversation, atomically; `ClaimRefused` says which one failed.

        A slot whose holder has not settled by its expiry (a worker that died for good) is
        taken over, so a lost reply never blocks a conversation for long.
        """
        name = self.table.name
        lock: Any = {
            "Put": {
                "TableName": name,
                "Item": {
                    **_lock_key(claim.conversation_id, claim.user_id),
                    "reply_id": claim.reply_id,
                    "day": claim.day,
                    "tokens": claim.tokens,
                    "expires_at": now + lock_seconds,
                    # In the housekeeping index: maintenance releases a slot nobody settled.
                    "sweep": sweep_key("SLOT", claim.reply_id),
                    "updated_at": iso(datetime.fromtimestamp(now, UTC)),
                },
                "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                "ExpressionAttributeValues": {":now": now},
            }
        }
        reserve: Any = {
            "Update": {
                "TableName": name,
                "Key": _usage_key(claim.user_id, claim.day),
                "UpdateExpression": "ADD reserved :r, committed :r",
                "ExpressionAttributeValues": {":r": claim.tokens},
            }
        }
        if limit:
            reserve["Update"]["ConditionExpression"] = (
                "attribute_not_exists(committed) OR committed < :limit"
            )
            reserve["Update"]["ExpressionAttributeValues"][":limit"] = limit
        try:
            self.table.meta.client.transact_write_items(TransactItems=[reserve, lock])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ClaimRefused(quota=True) from None
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise ClaimRefused(quota=False) from None
            raise

    def settle(self, claim: Claim, used: Usage, *, cost: Decimal | None = None) -> bool:
        """Release the claim and count what was really used, once: False if it was settled
        before (a retried worker) or its slot was taken over, and then nothing is counted
        again. A transaction cancelled for another reason (a concurrent write to the day's
        counter) settled nothing and is raised, so the caller is retried. `cost` (USD, from
        the catalog's prices) is added to the day's `cost` in the same write."""
        spent = used.input_tokens + used.output_tokens
        name = self.table.name
        items: list[Any] = [
            {
                "Delete": {
                    "TableName": name,
                    "Key": _lock_key(claim.conversation_id, claim.user_id),
                    "ConditionExpression": "reply_id = :r",
                    "ExpressionAttributeValues": {":r": claim.reply_id},
                }
            },
            {
                "Update": {
                    "TableName": name,
                    "Key": _usage_key(claim.user_id, claim.day),
                    "UpdateExpression": (
                        "ADD tokens_in :i, tokens_out :o, reserved :minus, committed :delta"
                        + (", cost :cost" if cost is not None else "")
                    ),
                    "ExpressionAttributeValues": {
                        ":i": used.input_tokens,
                        ":o": used.output_tokens,
                        ":minus": -claim.tokens,
                        ":delta": spent - claim.tokens,
                        **({":cost": cost} if cost is not None else {}),
                    },
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

    def held_slot(self, conversation_id: str, user_id: str) -> tuple[Claim, int] | None:
        """The claim holding the user's reply slot in the conversation and when the slot
        expires (epoch seconds), or None when the slot is free."""
        item = self.table.get_item(
            Key=_lock_key(conversation_id, user_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        claim = Claim(
            user_id=user_id,
            conversation_id=conversation_id,
            reply_id=str(item["reply_id"]),
            day=str(item["day"]),
            tokens=int(item.get("tokens", 0)),  # type: ignore[arg-type]
        )
        return claim, int(item.get("expires_at", 0))  # type: ignore[arg-type]
