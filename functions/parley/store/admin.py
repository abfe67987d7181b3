"""What admins change on a user's profile, each in one transaction with its audit entry.

* `USER#<sub> / PROFILE`: `disabled` (+ `disabled_at`, `disabled_by`) and `daily_token_quota`
  (the override), changed only here, each write conditional on the state the admin saw.
* `AUDIT / ENTRY#<ulid>`: one entry per admin action — `id`, `at`, `actor_id`, `actor_email`,
  `action`, `target_id`, `target_email`, `before`, `after` — put only if new, in the same
  transaction as the change: an action is never recorded without happening, nor the reverse.
  Nothing updates or deletes an entry (admin_api's role may put `AUDIT` items, never update or
  delete them). One partition, newest first by its ULID sort key: admins act a few times a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from parley.store.table import decode_cursor, encode_cursor, plain, user_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

AUDIT_PK = "AUDIT"
ENTRY_PREFIX = "ENTRY#"


class ChangedMeanwhile(Exception):
    """The profile was not in the state the change was made against (or does not exist)."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: str
    at: str
    actor_id: str
    actor_email: str
    action: str
    target_id: str
    target_email: str
    before: dict[str, Any]
    after: dict[str, Any]

    def item(self) -> dict[str, Any]:
        return {
            "pk": AUDIT_PK,
            "sk": f"{ENTRY_PREFIX}{self.id}",
            "id": self.id,
            "at": self.at,
            "actor_id": self.actor_id,
            "actor_email": self.actor_email,
            "action": self.action,
            "target_id": self.target_id,
            "target_email": self.target_email,
            "before": self.before,
            "after": self.after,
        }


def _record(item: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        id=str(item["id"]),
        at=str(item["at"]),
        actor_id=str(item["actor_id"]),
        actor_email=str(item.get("actor_email", "")),
        action=str(item["action"]),
        target_id=str(item["target_id"]),
        target_email=str(item.get("target_email", "")),
        before=plain(dict(item.get("before") or {})),
        after=plain(dict(item.get("after") or {})),
    )


class AdminRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def set_quota(
        self, user_id: str, *, old: int | None, new: int | None, audit: AuditRecord
    ) -> None:
        """Set (`new`) or clear (None) the user's daily token override, if it is still `old`."""
        values: dict[str, Any] = {}
        if old is None:
            condition = "attribute_exists(pk) AND attribute_not_exists(daily_token_quota)"
        else:
            condition = "attribute_exists(pk) AND daily_token_quota = :old"
            values[":old"] = old
        if new is None:
            update = "REMOVE daily_token_quota"
        else:
            update = "SET daily_token_quota = :new"
            values[":new"] = new
        self._change(user_id, update, condition, values, audit)

    def set_disabled(self, user_id: str, *, disabled: bool, audit: AuditRecord) -> None:
        """Disable or enable the user, if they are not so already (`ChangedMeanwhile`)."""
        if disabled:
            self._change(
                user_id,
                "SET disabled = :true, disabled_at = :at, disabled_by = :by",
                "attribute_exists(pk) AND (attribute_not_exists(disabled) OR disabled = :false)",
                {":true": True, ":false": False, ":at": audit.at, ":by": audit.actor_id},
                audit,
            )
        else:
            self._change(
                user_id,
                "SET disabled = :false REMOVE disabled_at, disabled_by",
                "disabled = :true",
                {":true": True, ":false": False},
                audit,
            )

    def _change(
        self,
        user_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        audit: AuditRecord,
    ) -> None:
        name = self.table.name
        change: Any = {
            "TableName": name,
            "Key": {"pk": user_pk(user_id), "sk": "PROFILE"},
            "UpdateExpression": update,
            "ConditionExpression": condition,
        }
        if values:
            change["ExpressionAttributeValues"] = values
        entry: Any = {
            "Put": {
                "TableName": name,
                "Item": audit.item(),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        try:
            self.table.meta.client.transact_write_items(TransactItems=[{"Update": change}, entry])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ChangedMeanwhile(user_id) from None
            raise

    def entries(self, cursor: str | None, limit: int) -> tuple[list[AuditRecord], str | None]:
        """A page of the audit log, newest first."""
        args: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(AUDIT_PK) & Key("sk").begins_with(ENTRY_PREFIX),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start = decode_cursor(cursor, partition=("pk", AUDIT_PK))
        if start is not None:
            args["ExclusiveStartKey"] = start
        response = self.table.query(**args)
        records = [_record(item) for item in response.get("Items", [])]
        return records, encode_cursor(response.get("LastEvaluatedKey"))
