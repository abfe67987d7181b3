"""Exports of a conversation's history: `USER#<sub> / EXPORT#<ulid>`, one item each.

The item lives under its owner's key, so an export can only ever be read by the user who asked
for it (another user's id finds nothing). It is written `running` when asked for and ended once,
`ready` (with its file's key) or `failed` (with a reason), by the export workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.ids import new_ulid, now_iso
from parley.store.table import user_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from parley.models import ExportFormat


@dataclass(frozen=True, slots=True)
class ExportRecord:
    id: str
    user_id: str
    conversation_id: str
    format: ExportFormat
    status: str
    created_at: str
    finished_at: str | None = None
    message_count: int | None = None
    key: str | None = None
    file_name: str | None = None
    error: str | None = None


def _key(user_id: str, export_id: str) -> dict[str, str]:
    return {"pk": user_pk(user_id), "sk": f"EXPORT#{export_id}"}


def _record(item: dict[str, Any]) -> ExportRecord:
    count = item.get("message_count")
    return ExportRecord(
        id=str(item["sk"]).removeprefix("EXPORT#"),
        user_id=str(item["pk"]).removeprefix("USER#"),
        conversation_id=str(item["conversation_id"]),
        format=item["format"],
        status=str(item["status"]),
        created_at=str(item["created_at"]),
        finished_at=item.get("finished_at"),
        message_count=int(count) if count is not None else None,
        key=item.get("object_key"),
        file_name=item.get("file_name"),
        error=item.get("error"),
    )


class ExportRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create(self, user_id: str, conversation_id: str, fmt: ExportFormat) -> ExportRecord:
        record = ExportRecord(
            id=new_ulid(),
            user_id=user_id,
            conversation_id=conversation_id,
            format=fmt,
            status="running",
            created_at=now_iso(),
        )
        self.table.put_item(
            Item={
                **_key(user_id, record.id),
                "conversation_id": conversation_id,
                "format": fmt,
                "status": record.status,
                "created_at": record.created_at,
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return record

    def get(self, user_id: str, export_id: str) -> ExportRecord | None:
        item = self.table.get_item(Key=_key(user_id, export_id), ConsistentRead=True).get("Item")
        return _record(item) if item is not None else None

    def finish(
        self,
        user_id: str,
        export_id: str,
        *,
        status: str,
        key: str | None = None,
        file_name: str | None = None,
        message_count: int | None = None,
        error: str | None = None,
    ) -> ExportRecord | None:
        """End a running export once; None when it had ended already (a retried step)."""
        values: dict[str, Any] = {":s": status, ":t": now_iso(), ":running": "running"}
        expression = "SET #st = :s, finished_at = :t"
        for name, value in (
            ("object_key", key),
            ("file_name", file_name),
            ("message_count", message_count),
            ("error", error),
        ):
            if value is not None:
                expression += f", #{name} = :{name}"
                values[f":{name}"] = value
        names = {"#st": "status", **{f"#{n}": n for n in ("object_key", "file_name",
                                                           "message_count", "error")
                                     if f":{n}" in values}}  # fmt: skip
        try:
            result = self.table.update_item(
                Key=_key(user_id, export_id),
                UpdateExpression=expression,
                ConditionExpression="#st = :running",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return _record(dict(result["Attributes"]))
