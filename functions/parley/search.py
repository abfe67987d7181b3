"""Search: the index kept from the change feed, and the query that reads only what the caller may.

**Indexing** (`SearchIndex`, a projection of `parley.changes`): a message is indexed when its
text is final — a user's message when stored or edited, an assistant reply when it becomes
`complete` or `stopped` — never on the streaming writes in between (they cost nothing here).
A message that is removed, or stops being final, loses its postings. A deleted conversation
(META marked `deleted_at`) is hidden from search at once; its clean-up removes the messages,
each REMOVE takes its postings, and the META's own REMOVE purges anything left. Every write is
keyed by the item's own key, so a redelivered change rewrites the same items.

**Searching** (`Search`): the caller's conversations are listed (GSI1), each one's postings for
each query term are read (`SEARCH#<conversation>` partitions only: no global postings that
another user's words could leak from), the candidates are ranked, and before anything is
returned the caller's membership of every conversation on the page is read again, strongly
consistent (`parley.access.membership`), and the conversation must still exist — so a member
removed a moment ago, whose conversation GSI1 may still list, sees nothing from it.

Ranking is BM25 over the caller's candidates (term frequency saturating, shorter messages
first, rarer query terms weigh more), times the share of query terms a message matches, times
a small boost for recent messages. docs/search.md explains the choices and their costs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from parley import access
from parley.errors import BadRequest, ConversationNotFound
from parley.models import SearchHit, SnippetSegment
from parley.searchtext import QueryTerm, query_terms, snippet, term_counts
from parley.store.messages import to_message
from parley.store.search import message_key, meta_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from boto3.dynamodb.table import BatchWriter

    from parley.changes import Change
    from parley.models import Conversation
    from parley.store import Store
    from parley.store.search import Posting

MAX_QUERY_CHARS = 200
MAX_SEARCH_PAGE = 50
MAX_QUERY_TERMS = 5
"""Each term is one Query per conversation of the caller: the bound keeps a search's reads."""
POSTINGS_PER_TERM = 500
"""Newest postings read per term and conversation: a hot term ranks among its newest uses."""
PARALLEL_READS = 10
"""Concurrent Queries (botocore's default connection pool is 10)."""
CONVERSATIONS_PAGE = 100

FINAL_STATUSES = frozenset({"complete", "stopped"})
K1 = 1.2
B = 0.75
PREFIX_WEIGHT = 0.8
"""A word matched only as a longer word's prefix counts a little less than the word itself."""
RECENCY_WEIGHT = 0.25
RECENCY_HALF_LIFE_DAYS = 30.0


# -- indexing ----------------------------------------------------------------------------------
def indexable(item: dict[str, Any] | None) -> bool:
    """A message whose text is final: what search shows."""
    return (
        item is not None
        and item.get("role") in ("user", "assistant")
        and item.get("status") in FINAL_STATUSES
        and not item.get("deleted_at")
        and bool(str(item.get("content", "")).strip())
    )


def _indexed(item: dict[str, Any] | None) -> dict[str, int]:
    """The terms an image has in the index: its text's, if search shows it, else none."""
    return term_counts(str(item["content"])) if item is not None and indexable(item) else {}


class SearchIndex:
    """The projection: keeps `SEARCH#<conversation>` in step with the conversation's messages.

    What a message had indexed is its old image's terms (the same analysis gives the same
    terms), so a change is one diff of two images: no read, and a redelivered change writes the
    same items again."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._writer: BatchWriter | None = None

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Apply many changes with one batch writer (a stream batch, a backfill): the index
        writes go out 25 to a call, and when the block ends."""
        with self.store.search.postings_writer() as writer:
            self._writer = writer
            try:
                yield
            finally:
                self._writer = None

    def apply(self, change: Change) -> None:
        if not change.pk.startswith("CONV#"):
            return
        conversation_id = change.pk.removeprefix("CONV#")
        if change.sk == "META":
            if change.new is None:
                self.store.search.purge(conversation_id)  # whatever a message left behind
            return
        if not change.sk.startswith("MSG#"):
            return
        previous, terms = _indexed(change.old), _indexed(change.new)
        if previous == terms:
            return  # streaming progress, or a change of something else (usage, announced…)
        self.store.search.write_postings(
            conversation_id,
            change.sk.removeprefix("MSG#"),
            terms,
            previous=previous,
            writer=self._writer,
        )


# -- searching ---------------------------------------------------------------------------------
def parse_query(q: str | None) -> list[QueryTerm]:
    """The query's terms, or a `BadRequest` that says what to change."""
    text = (q or "").strip()
    if not text:
        raise BadRequest("Type a word to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise BadRequest(f"A search is at most {MAX_QUERY_CHARS} characters")
    terms = query_terms(q or "", max_terms=MAX_QUERY_TERMS)
    if not terms:
        raise BadRequest("Search for a word: common words like “the” are not indexed")
    return terms


@dataclass(slots=True)
class Candidate:
    conversation_id: str
    message_id: str
    length: int
    tf: dict[int, float] = field(default_factory=dict)
    """Query term index → weighted term frequency."""
    score: float = 0.0

    @property
    def rank_key(self) -> tuple[float, str, str]:
        return (self.score, self.message_id, self.conversation_id)


def ulid_seconds(ulid: str) -> float:
    """When a ULID was made (its first 10 characters are milliseconds, Crockford base32)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ms = 0
    for char in ulid[:10].upper():
        index = alphabet.find(char)
        if index < 0:
            return 0.0
        ms = ms * 32 + index
    return ms / 1000


def rank(postings: Iterable[Posting], terms: list[QueryTerm], *, now: float) -> list[Candidate]:
    """Score every message with a posting, best first (ties: newer first)."""
    candidates: dict[tuple[str, str], Candidate] = {}
    for posting in postings:
        key = (posting.conversation_id, posting.message_id)
        candidate = candidates.get(key)
        if candidate is None:
            candidate = candidates[key] = Candidate(key[0], key[1], posting.length)
        for index, term in enumerate(terms):
            if term.matches(posting.term):
                weight = 1.0 if posting.term == term.term else PREFIX_WEIGHT
                candidate.tf[index] = candidate.tf.get(index, 0.0) + weight * posting.tf
    if not candidates:
        return []
    total = len(candidates)
    average_length = sum(c.length for c in candidates.values()) / total
    frequency = [sum(1 for c in candidates.values() if i in c.tf) for i in range(len(terms))]
    idf = [math.log(1 + (total - df + 0.5) / (df + 0.5)) for df in frequency]
    for candidate in candidates.values():
        norm = K1 * (1 - B + B * candidate.length / max(average_length, 1.0))
        bm25 = sum(idf[i] * tf * (K1 + 1) / (tf + norm) for i, tf in candidate.tf.items())
        coverage = len(candidate.tf) / len(terms)
        age_days = max(0.0, now - ulid_seconds(candidate.message_id)) / 86_400
        recency = 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
        candidate.score = round(bm25 * coverage * (1 + RECENCY_WEIGHT * recency), 9)
    return sorted(candidates.values(), key=lambda c: c.rank_key, reverse=True)


@dataclass(frozen=True, slots=True)
class SearchCursor:
    """Where a results page ended: the last hit's rank, the query it belongs to, and the moment
    the first page was ranked at (so recency, and every score, is the same on every page)."""

    query: str
    now: float
    after: tuple[float, str, str]

    def encode(self) -> str:
        raw = json.dumps(
            {
                "q": self.query,
                "t": self.now,
                "s": self.after[0],
                "m": self.after[1],
                "c": self.after[2],
            },
            separators=(",", ":"),
        ).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, cursor: str, query: str) -> SearchCursor:
        try:
            raw = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
            parsed = cls(
                query=str(raw["q"]),
                now=float(raw["t"]),
                after=(float(raw["s"]), str(raw["m"]), str(raw["c"])),
            )
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
            raise BadRequest("Invalid cursor") from None
        if parsed.query != query:
            raise BadRequest("Invalid cursor: it belongs to another search")
        return parsed


def fingerprint(terms: list[QueryTerm]) -> str:
    text = " ".join(f"{t.term}{'*' if t.prefix else ''}" for t in terms)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Search:
    """`GET /search`: the caller's messages that match, best first, a page at a time."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def search(
        self, user_id: str, q: str | None, *, limit: int, cursor: str | None = None
    ) -> tuple[list[SearchHit], str | None]:
        terms = parse_query(q)
        query = fingerprint(terms)
        start = SearchCursor.decode(cursor, query) if cursor else None
        now = start.now if start else self.clock()
        conversations = self._conversations(user_id)
        with ThreadPoolExecutor(PARALLEL_READS) as pool:
            postings = [
                posting
                for found in pool.map(
                    lambda job: self.store.search.postings(
                        job[0], job[1].term, prefix=job[1].prefix, limit=POSTINGS_PER_TERM
                    ),
                    [(c, t) for c in conversations for t in terms],
                )
                for posting in found
            ]
            ranked = rank(postings, terms, now=now)
            if start is not None:
                ranked = [c for c in ranked if c.rank_key < start.after]
            hits, more = self._page(user_id, ranked, terms, conversations, limit, pool)
        last = hits[-1][0] if hits else None
        next_cursor = (
            SearchCursor(query=query, now=now, after=last.rank_key).encode()
            if more and last is not None
            else None
        )
        return [hit for _, hit in hits], next_cursor

    def _conversations(self, user_id: str) -> dict[str, Conversation]:
        """Every conversation GSI1 lists for the user (possibly a moment stale: `_page` checks)."""
        found: dict[str, Conversation] = {}
        cursor: str | None = None
        while True:
            items, cursor = self.store.conversations.list_for(
                user_id, limit=CONVERSATIONS_PAGE, cursor=cursor
            )
            found.update((c.id, c) for c in items)
            if cursor is None:
                return found

    def _page(
        self,
        user_id: str,
        ranked: list[Candidate],
        terms: list[QueryTerm],
        conversations: dict[str, Conversation],
        limit: int,
        pool: ThreadPoolExecutor,
    ) -> tuple[list[tuple[Candidate, SearchHit]], bool]:
        """The first `limit` candidates the caller may see, and whether there are more.

        Candidates are taken in rank order, a batch at a time; each batch's conversations are
        checked (membership, read consistently; the conversation still there) and its messages
        read in one BatchGetItem, until `limit + 1` hits are found or none are left."""
        visible: dict[str, bool] = {}
        hits: list[tuple[Candidate, SearchHit]] = []
        position = 0
        while position < len(ranked) and len(hits) <= limit:
            batch = ranked[position : position + limit + 1 - len(hits)]
            position += len(batch)
            unknown = list(
                dict.fromkeys(c.conversation_id for c in batch if c.conversation_id not in visible)
            )
            for conversation_id, member in zip(
                unknown, pool.map(lambda c: self._is_member(c, user_id), unknown), strict=True
            ):
                visible[conversation_id] = member
            allowed = [c for c in batch if visible[c.conversation_id]]
            items = self.store.search.hit_items(
                [message_key(c.conversation_id, c.message_id) for c in allowed]
                + [meta_key(c) for c in {c.conversation_id for c in allowed}]
            )
            for candidate in allowed:
                meta = items.get(meta_key(candidate.conversation_id))
                item = items.get(message_key(candidate.conversation_id, candidate.message_id))
                if meta is None or meta.get("deleted_at") or item is None or not indexable(item):
                    continue
                hits.append((candidate, self._hit(item, meta, terms)))
        more = len(hits) > limit
        return hits[:limit], more

    def _is_member(self, conversation_id: str, user_id: str) -> bool:
        try:
            access.membership(self.store, conversation_id, user_id)
        except ConversationNotFound:
            return False
        return True

    @staticmethod
    def _hit(item: dict[str, Any], meta: dict[str, Any], terms: list[QueryTerm]) -> SearchHit:
        message = to_message(item)
        return SearchHit(
            conversation_id=message.conversation_id,
            conversation_title=str(meta.get("title", "")),
            conversation_kind=meta.get("kind", "assistant"),
            message_id=message.id,
            author_id=message.author_id,
            author_name=message.author_name,
            role=message.role,
            created_at=message.created_at,
            snippet=[
                SnippetSegment(text=s.text, match=s.match) for s in snippet(message.content, terms)
            ],
        )
