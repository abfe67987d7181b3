"""User profiles: `USER#<sub> / PROFILE`, found by e-mail through GSI2.

Names are cleaned (`parley.names.display_name`) when stored and again when read, so an item
written before the rule, or by hand, is shown the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from parley.ids import now_iso
from parley.models import Profile
from parley.names import display_name
from parley.store.table import email_pk, user_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class ProfileRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def ensure(self, user_id: str, email: str, name: str | None = None) -> Profile:
        """Create the profile unless it exists (idempotent: triggers and retries repeat)."""
        profile = Profile(
            id=user_id,
            email=email,
            name=display_name(name or email.split("@")[0]),
            created_at=now_iso(),
        )
        try:
            self.table.put_item(
                Item={
                    "pk": user_pk(user_id),
                    "sk": "PROFILE",
                    "email": profile.email,
                    "name": profile.name,
                    "created_at": profile.created_at,
                    "gsi2pk": email_pk(email),
                    "gsi2sk": user_pk(user_id),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            existing = self.get(user_id)
            if existing is not None:
                return existing
        return profile

    def get(self, user_id: str, *, consistent: bool = False) -> Profile | None:
        item = self.table.get_item(
            Key={"pk": user_pk(user_id), "sk": "PROFILE"}, ConsistentRead=consistent
        ).get("Item")
        if item is None:
            return None
        return _profile(user_id, item)

    def is_disabled(self, user_id: str) -> bool:
        """Whether an admin disabled the user: one strongly consistent read of one attribute."""
        item = self.table.get_item(
            Key={"pk": user_pk(user_id), "sk": "PROFILE"},
            ProjectionExpression="disabled",
            ConsistentRead=True,
        ).get("Item")
        return bool((item or {}).get("disabled"))

    def find_by_email(self, email: str) -> Profile | None:
        response = self.table.query(
            IndexName="GSI2", KeyConditionExpression=Key("gsi2pk").eq(email_pk(email)), Limit=1
        )
        for item in response.get("Items", []):
            return _profile(str(item["pk"]).removeprefix("USER#"), item)
        return None


def _profile(user_id: str, item: dict[str, Any]) -> Profile:
    quota = item.get("daily_token_quota")
    return Profile(
        id=user_id,
        email=str(item["email"]),
        name=display_name(str(item.get("name") or item["email"])),
        created_at=str(item["created_at"]),
        disabled=bool(item.get("disabled")),
        daily_token_quota=None if quota is None else int(quota),
    )
