"""Ratings of the assistant's replies: `CONV#<id> / FEEDBACK#<sub>#<message id>`, one item per
person per reply.

The key is the rule: a person's rating of a reply has one place, so any number of writes,
concurrent or not, leave one item — the last one. Under the conversation's key, a deleted
conversation's purge takes its ratings along (`ConversationRepository.purge`); the change feed
sees them and no projection acts on them. With the person before the message in the sort key,
one person's ratings of a page of messages (ULIDs, so a range) are one Query that reads nothing
of anyone else's.

Each write is one transaction with two condition checks — the conversation is not deleted and
the person is still a member — so a rating never lands in a conversation being purged, or from
someone who has just left. Who may rate what is decided in `parley.access` and
`parley.feedback`; this repository only reads and writes the items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from parley.errors import Conflict, ConversationNotFound
from parley.ids import now_iso
from parley.models import Feedback, Rating
from parley.store.table import conv_pk, member_sk, query_items

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mypy_boto3_dynamodb.service_resource import Table

ATTEMPTS = 5
"""Writes tried before giving up when other writes of the same rating keep cutting in."""


def feedback_sk(user_id: str, message_id: str = "") -> str:
    return f"FEEDBACK#{user_id}#{message_id}"


@dataclass(frozen=True, slots=True)
class Saved:
    """A rating as written, and whether its rating changed (new, or up ⇄ down): a write that
    only changed the comment did not."""

    feedback: Feedback
    rating_changed: bool


def _feedback(item: dict[str, Any]) -> Feedback:
    return Feedback(
        rating=item["rating"], comment=item.get("comment"), updated_at=str(item["updated_at"])
    )


class FeedbackRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def save(
        self,
        conversation_id: str,
        message_id: str,
        user_id: str,
        *,
        rating: Rating,
        comment: str | None,
        model: str,
    ) -> Saved:
        """Write the person's rating of the reply (their earlier one, if any, is replaced;
        a comment left out is removed). `ConversationNotFound` when the conversation is
        deleted or the person is no longer a member.

        The first try writes only if the rating is new or different, so that exactly one
        write counts each change even under concurrent requests; when it is the same, a
        second try writes the comment only if it still is."""
        now = now_iso()
        for _ in range(ATTEMPTS):
            for changing in (True, False):
                try:
                    self._write(
                        conversation_id,
                        message_id,
                        user_id,
                        rating=rating,
                        comment=comment,
                        model=model,
                        now=now,
                        changing=changing,
                    )
                except _RatingMoved:
                    continue  # the try's condition on the stored rating did not hold
                feedback = Feedback(rating=rating, comment=comment, updated_at=now)
                return Saved(feedback, rating_changed=changing)
        raise Conflict("The rating was changed meanwhile; try again")

    def _write(
        self,
        conversation_id: str,
        message_id: str,
        user_id: str,
        *,
        rating: Rating,
        comment: str | None,
        model: str,
        now: str,
        changing: bool,
    ) -> None:
        pk = conv_pk(conversation_id)
        names = {"#r": "rating", "#c": "comment", "#m": "model"}
        values: dict[str, Any] = {
            ":r": rating,
            ":t": now,
            ":m": model,
            ":u": user_id,
            ":mid": message_id,
        }
        expression = (
            "SET #r = :r, updated_at = :t, created_at = if_not_exists(created_at, :t), "
            "#m = :m, user_id = :u, message_id = :mid"
        )
        if comment is not None:
            expression += ", #c = :c"
            values[":c"] = comment
        else:
            expression += " REMOVE #c"
        name = self.table.name
        transact: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": {"pk": pk, "sk": "META"},
                    "ConditionExpression": (
                        "attribute_exists(pk) AND attribute_not_exists(deleted_at)"
                    ),
                }
            },
            {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": {"pk": pk, "sk": member_sk(user_id)},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": pk, "sk": feedback_sk(user_id, message_id)},
                    "UpdateExpression": expression,
                    "ConditionExpression": (
                        "attribute_not_exists(pk) OR #r <> :r" if changing else "#r = :r"
                    ),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
        ]
        try:
            # The resource's client takes plain Python values (boto3 serializes them).
            self.table.meta.client.transact_write_items(TransactItems=transact)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons[:2]:
                raise ConversationNotFound() from None
            if len(reasons) == 3 and reasons[2] == "ConditionalCheckFailed":
                raise _RatingMoved() from None
            if "TransactionConflict" in reasons:
                raise _RatingMoved() from None  # another write of the same item: try again
            raise

    def remove(self, conversation_id: str, message_id: str, user_id: str) -> Feedback | None:
        """Delete the person's rating of the reply; the rating removed, or None."""
        removed = self.remove_rating(conversation_id, message_id, user_id)
        return removed[0] if removed is not None else None

    def remove_rating(
        self, conversation_id: str, message_id: str, user_id: str
    ) -> tuple[Feedback, str | None] | None:
        """Delete the person's rating of the reply: the rating removed and the model it was
        given under (None when not recorded), or None when there was none."""
        old = self.table.delete_item(
            Key={"pk": conv_pk(conversation_id), "sk": feedback_sk(user_id, message_id)},
            ReturnValues="ALL_OLD",
        ).get("Attributes")
        if not old:
            return None
        model = old.get("model")
        return _feedback(old), str(model) if model else None

    def of_user(
        self, conversation_id: str, user_id: str, message_ids: Iterable[str]
    ) -> dict[str, Feedback]:
        """The person's ratings of these messages, by message id: one strongly consistent
        Query over the range of their ids (a page of messages is a range of ULIDs)."""
        wanted = set(message_ids)
        if not wanted:
            return {}
        args: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(conv_pk(conversation_id))
            & Key("sk").between(
                feedback_sk(user_id, min(wanted)), feedback_sk(user_id, max(wanted))
            ),
            "ConsistentRead": True,
        }
        found: dict[str, Feedback] = {}
        for item in query_items(self.table, **args):
            message_id = str(item["sk"]).removeprefix(feedback_sk(user_id))
            if message_id in wanted:
                found[message_id] = _feedback(item)
        return found


class _RatingMoved(Exception):
    """The stored rating was not what the write expected."""
