"""The search index's items, in the `chat` table under `SEARCH#<conversation id>`.

* posting `SEARCH#<c> / T#<term>#<message id>` (`tf`: times the term occurs, `n`: the message's
  length in terms) — one per distinct term of a message; a term's postings in a conversation
  are one key range, newest message last (ULIDs sort by time), so an exact term is
  `begins_with(sk, "T#<term>#")` and a typed prefix `begins_with(sk, "T#<prefix>")`;
* nothing else: what a message has indexed is computed again from the change's old image (the
  tokenizer is deterministic), so an edit rewrites only the postings that changed and a removal
  deletes exactly its own, without a read or a per-message document to keep.

The partition key does not start with `CONV#`, so the change stream's filter never feeds these
writes back to the stream processor. Who may read which conversation's postings is decided in
`parley.search` (the caller's memberships, checked at query time), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from parley.store.table import conv_pk, message_sk, plain

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from contextlib import AbstractContextManager

    from boto3.dynamodb.table import BatchWriter
    from mypy_boto3_dynamodb.service_resource import Table

BATCH_GET_KEYS = 100
"""BatchGetItem's limit per call."""


def index_pk(conversation_id: str) -> str:
    return f"SEARCH#{conversation_id}"


def posting_sk(term: str, message_id: str) -> str:
    return f"T#{term}#{message_id}"


@dataclass(frozen=True, slots=True)
class Posting:
    conversation_id: str
    message_id: str
    term: str
    tf: int
    length: int


class SearchIndexRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- writing (the stream projection) -------------------------------------------------------
    def postings_writer(self) -> AbstractContextManager[BatchWriter]:
        """One batch writer for many changes (later writes of a key replace earlier ones)."""
        return self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"])

    def write_postings(
        self,
        conversation_id: str,
        message_id: str,
        terms: Mapping[str, int],
        *,
        previous: Mapping[str, int],
        writer: BatchWriter | None = None,
    ) -> int:
        """Change the message's postings from `previous` to `terms`: put the new or changed
        ones, delete the ones it no longer has. Returns the number of items written."""
        if writer is None:
            with self.postings_writer() as own:
                return self.write_postings(
                    conversation_id, message_id, terms, previous=previous, writer=own
                )
        pk = index_pk(conversation_id)
        length = sum(terms.values())
        same_length = length == sum(previous.values())
        puts = [t for t, tf in terms.items() if previous.get(t) != tf or not same_length]
        deletes = [t for t in previous if t not in terms]
        for term in puts:
            writer.put_item(
                Item={"pk": pk, "sk": posting_sk(term, message_id), "tf": terms[term], "n": length}
            )
        for term in deletes:
            writer.delete_item(Key={"pk": pk, "sk": posting_sk(term, message_id)})
        return len(puts) + len(deletes)

    def purge(self, conversation_id: str) -> int:
        """Delete a conversation's whole index; returns the items deleted."""
        args: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(index_pk(conversation_id)),
            "ProjectionExpression": "pk, sk",
        }
        deleted = 0
        with self.table.batch_writer() as batch:
            while True:
                response = self.table.query(**args)
                for item in response.get("Items", []):
                    batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
                    deleted += 1
                if "LastEvaluatedKey" not in response:
                    return deleted
                args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- reading (the query) -------------------------------------------------------------------
    def postings(
        self, conversation_id: str, term: str, *, prefix: bool, limit: int
    ) -> list[Posting]:
        """A term's postings in one conversation, newest message first, at most `limit`."""
        start = f"T#{term}" if prefix else f"T#{term}#"
        # The client, not the resource: it is thread-safe, and a search reads in parallel.
        response = self.table.meta.client.query(
            TableName=self.table.name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :start)",
            ExpressionAttributeValues={":pk": index_pk(conversation_id), ":start": start},
            ExpressionAttributeNames={"#n": "n"},
            ProjectionExpression="sk, tf, #n",
            ScanIndexForward=False,
            Limit=limit,
        )
        found: list[Posting] = []
        for item in plain(response.get("Items", [])):
            indexed_term, _, message_id = str(item["sk"]).removeprefix("T#").rpartition("#")
            found.append(
                Posting(
                    conversation_id=conversation_id,
                    message_id=message_id,
                    term=indexed_term,
                    tf=int(item["tf"]),
                    length=int(item["n"]),
                )
            )
        return found

    def hit_items(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """`chat` items by (pk, sk), read in BatchGetItem calls (the results page's messages and
        conversations); missing items are absent from the answer."""
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], dict[str, Any]] = {}
        client = self.table.meta.client
        for offset in range(0, len(wanted), BATCH_GET_KEYS):
            request: Any = {
                self.table.name: {
                    "Keys": [{"pk": pk, "sk": sk} for pk, sk in wanted[offset : offset + 100]]
                }
            }
            while request:
                response = client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table.name, []):
                    found[(str(item["pk"]), str(item["sk"]))] = item
                request = response.get("UnprocessedKeys") or None
        return found


def message_key(conversation_id: str, message_id: str) -> tuple[str, str]:
    return conv_pk(conversation_id), message_sk(message_id)


def meta_key(conversation_id: str) -> tuple[str, str]:
    return conv_pk(conversation_id), "META"
