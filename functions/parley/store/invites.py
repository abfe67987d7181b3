"""Sign-up invitations: `INVITE#<email lower> / INVITE`, one item per invited address.

A room owner's invitation of an address that has no account yet is kept here, so an
environment that lets only invited addresses sign up (`parley.signup`) accepts it. The item
ends by itself (`purge_at`, the table's TTL) after `INVITE_DAYS`; a newer invitation renews it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from parley.ids import now_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

INVITE_DAYS = 30
"""How long an invitation lets its address sign up."""
SORT_KEY = "INVITE"


def invite_pk(email: str) -> str:
    return f"INVITE#{email.strip().lower()}"


class InviteRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def put(self, email: str, invited_by: str, conversation_id: str) -> None:
        """Record (or renew) an invitation of `email`."""
        self.table.put_item(
            Item={
                "pk": invite_pk(email),
                "sk": SORT_KEY,
                "invited_by": invited_by,
                "conversation_id": conversation_id,
                "created_at": now_iso(),
                "purge_at": int(time.time()) + INVITE_DAYS * 86400,
            }
        )

    def is_invited(self, email: str, now: float | None = None) -> bool:
        """Whether `email` holds an invitation that has not ended (TTL deletes lag: checked)."""
        item = self.table.get_item(
            Key={"pk": invite_pk(email), "sk": SORT_KEY},
            ProjectionExpression="purge_at",
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return False
        ends = item.get("purge_at")
        clock = time.time() if now is None else now
        return ends is None or int(str(ends)) > clock
