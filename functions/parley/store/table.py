"""The `chat` table resource, key builders and opaque cursors shared by the repositories."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3

from parley.config import ChatTableSettings, get_settings
from parley.errors import BadRequest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb.service_resource import Table


@cache
def chat_table() -> Table:
    """The `chat` table of this cold start (boto3 honours AWS_ENDPOINT_URL locally)."""
    settings = get_settings(ChatTableSettings)
    resource = boto3.resource("dynamodb", region_name=settings.aws_region)
    return resource.Table(settings.chat_table_name)


def query_items(table: Table, **args: Any) -> Iterator[dict[str, Any]]:
    """Every item a Query answers, page after page (`args` as for `Table.query`)."""
    while True:
        response = table.query(**args)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        args["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def conv_pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def member_sk(user_id: str) -> str:
    return f"MEMBER#{user_id}"


def message_sk(message_id: str) -> str:
    return f"MSG#{message_id}"


def email_pk(email: str) -> str:
    return f"EMAIL#{email.strip().lower()}"


def activity_sk(updated_at: str, conversation_id: str) -> str:
    """GSI1 sort key: most recent activity sorts last, so the list queries it backwards."""
    return f"{updated_at}#CONV#{conversation_id}"


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the models want ints."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    """An opaque, URL-safe token for DynamoDB's LastEvaluatedKey."""
    if not last_key:
        return None
    raw = json.dumps(plain(last_key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None, *, partition: tuple[str, str]) -> dict[str, Any] | None:
    """The start key of a cursor, checked to belong to the partition being read.

    The check keeps a forged cursor from steering a query anywhere but where it already is.
    """
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("Invalid cursor") from None
    name, value = partition
    if (
        not isinstance(key, dict)
        or key.get(name) != value
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in key.items())
        or len(key) > 4
    ):
        raise BadRequest("Invalid cursor")
    return key
