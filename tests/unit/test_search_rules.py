"""The rules of `parley.search` over an in-memory store: what is indexed, what a query may be, and
what a search may show to whom. No DynamoDB here, so `invoke mutate --only parley/search.py`
can run these once per mutant; tests/unit/test_search.py checks the same behaviour on moto.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from parley.changes import Change
from parley.errors import BadRequest
from parley.models import Conversation
from parley.search import Search, SearchIndex, indexable, parse_query
from parley.searchtext import QueryTerm
from parley.store import Store
from parley.store.search import Posting, index_pk, message_key, meta_key

ME, OTHER = "u-me", "u-other"
AT = "2026-11-27T10:00:00.000Z"


def conversation(conversation_id: str) -> Conversation:
    return Conversation(
        id=conversation_id,
        kind="group",
        title=f"Title {conversation_id}",
        owner_id=ME,
        role="member",
        created_at=AT,
        updated_at=AT,
    )


@dataclass
class FakeConversations:
    listed: dict[str, list[str]] = field(default_factory=dict)
    """user → conversation ids GSI1 lists (may be stale)."""
    members: set[tuple[str, str]] = field(default_factory=set)
    """(conversation, user): the member items as a consistent read sees them."""

    def list_for(
        self, user_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Conversation], str | None]:
        ids = self.listed.get(user_id, [])
        start = int(cursor or 0)
        page = ids[start : start + limit]
        more = start + limit < len(ids)
        return [conversation(c) for c in page], str(start + limit) if more else None

    def member(self, conversation_id: str, user_id: str) -> Any:
        return object() if (conversation_id, user_id) in self.members else None


@dataclass
class FakeIndex:
    postings_by: dict[tuple[str, str], list[Posting]] = field(default_factory=dict)
    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    writes: list[tuple[str, str, dict[str, int], dict[str, int], Any]] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    reads: list[list[tuple[str, str]]] = field(default_factory=list)

    def postings(
        self, conversation_id: str, term: str, *, prefix: bool, limit: int
    ) -> list[Posting]:
        found = [
            p
            for (c, t), ps in self.postings_by.items()
            if c == conversation_id and (t.startswith(term) if prefix else t == term)
            for p in ps
        ]
        return sorted(found, key=lambda p: p.message_id, reverse=True)[:limit]

    def hit_items(self, keys: Any) -> dict[tuple[str, str], dict[str, Any]]:
        wanted = list(keys)
        self.reads.append(wanted)
        return {k: self.items[k] for k in wanted if k in self.items}

    def write_postings(
        self,
        conversation_id: str,
        message_id: str,
        terms: dict[str, int],
        *,
        previous: dict[str, int],
        writer: Any = None,
    ) -> int:
        self.writes.append((conversation_id, message_id, dict(terms), dict(previous), writer))
        return len(terms)

    def purge(self, conversation_id: str) -> int:
        self.purged.append(conversation_id)
        return 0


@dataclass
class World:
    conversations: FakeConversations = field(default_factory=FakeConversations)
    search: FakeIndex = field(default_factory=FakeIndex)

    @property
    def store(self) -> Store:
        return cast("Store", self)

    def message(
        self, conversation_id: str, message_id: str, text: str, *, status: str = "complete"
    ) -> None:
        self.search.items[meta_key(conversation_id)] = {
            "pk": f"CONV#{conversation_id}",
            "sk": "META",
            "title": f"Fresh {conversation_id}",
            "kind": "group",
        }
        self.search.items[message_key(conversation_id, message_id)] = {
            "pk": f"CONV#{conversation_id}",
            "sk": f"MSG#{message_id}",
            "author_id": ME,
            "role": "user",
            "content": text,
            "status": status,
            "created_at": AT,
            "updated_at": AT,
        }
        for word in {w.lower() for w in text.split()}:
            self.search.postings_by.setdefault((conversation_id, word), []).append(
                Posting(conversation_id, message_id, word, 1, len(text.split()))
            )


def ids(n: int) -> str:
    """Message ids that sort by n (ULID-like: 26 characters)."""
    return f"01M8{n:022d}"


def visible_world() -> World:
    world = World()
    world.conversations.listed = {ME: ["c1", "c2", "c3"], OTHER: ["c3"]}
    world.conversations.members = {("c1", ME), ("c2", ME), ("c3", ME), ("c3", OTHER)}
    world.message("c1", ids(1), "kiwi one")
    world.message("c2", ids(2), "kiwi two")
    world.message("c3", ids(3), "kiwi three")
    return world


def found(world: World, user: str, q: str = "kiwi", **kw: Any) -> list[tuple[str, str]]:
    hits, _ = Search(world.store, clock=lambda: 1_800_000_000.0).search(
        user, q, limit=kw.pop("limit", 20), **kw
    )
    return [(h.conversation_id, h.message_id) for h in hits]


# -- visibility --------------------------------------------------------------------------------
def test_a_member_sees_every_conversation_they_belong_to() -> None:
    world = visible_world()
    assert found(world, ME) == [("c3", ids(3)), ("c2", ids(2)), ("c1", ids(1))]
    assert found(world, OTHER) == [("c3", ids(3))]
    assert found(world, "u-nobody") == []


def test_a_listed_conversation_the_user_left_shows_nothing() -> None:
    world = visible_world()
    world.conversations.members.discard(("c2", ME))  # GSI1 still lists it
    assert found(world, ME) == [("c3", ids(3)), ("c1", ids(1))]
    assert all(("c2" not in str(k)) for read in world.search.reads for k in read)


def test_nothing_of_a_conversation_left_is_read_even_its_title() -> None:
    world = visible_world()
    world.conversations.members = {("c3", OTHER)}
    world.conversations.listed[OTHER] = ["c1", "c2", "c3"]  # stale
    assert found(world, OTHER) == [("c3", ids(3))]
    assert world.search.reads == [[message_key("c3", ids(3)), meta_key("c3")]]


def test_a_deleted_or_missing_conversation_shows_nothing() -> None:
    world = visible_world()
    world.search.items[meta_key("c1")]["deleted_at"] = AT
    del world.search.items[meta_key("c2")]
    assert found(world, ME) == [("c3", ids(3))]


def test_a_hit_between_two_gone_ones_is_still_shown() -> None:
    world = visible_world()
    del world.search.items[message_key("c2", ids(2))]
    assert found(world, ME) == [("c3", ids(3)), ("c1", ids(1))]


def test_a_message_gone_or_no_longer_final_shows_nothing() -> None:
    world = visible_world()
    del world.search.items[message_key("c1", ids(1))]
    world.search.items[message_key("c2", ids(2))]["status"] = "failed"
    assert found(world, ME) == [("c3", ids(3))]


def test_a_hit_names_its_conversation_as_it_is_now() -> None:
    world = visible_world()
    hits, cursor = Search(world.store).search(ME, "kiwi", limit=1)
    assert cursor is not None
    [hit] = hits
    assert (hit.conversation_title, hit.conversation_kind) == ("Fresh c3", "group")
    assert (hit.author_id, hit.role, hit.created_at) == (ME, "user", AT)
    assert [(s.text, s.match) for s in hit.snippet] == [("kiwi", True), (" three", False)]


def test_pages_skip_hidden_hits_and_end_exactly() -> None:
    world = visible_world()
    world.message("c2", ids(4), "kiwi four")
    world.conversations.members.discard(("c2", ME))
    search = Search(world.store, clock=lambda: 1_800_000_000.0)
    first, cursor = search.search(ME, "kiwi", limit=1)
    assert [h.message_id for h in first] == [ids(3)]
    assert cursor is not None
    second, cursor = search.search(ME, "kiwi", limit=1, cursor=cursor)
    assert [h.message_id for h in second] == [ids(1)]
    assert cursor is None
    every, cursor = search.search(ME, "kiwi", limit=2)
    assert [h.message_id for h in every] == [ids(3), ids(1)]
    assert cursor is None


def test_the_page_is_filled_from_later_hits_when_early_ones_are_hidden() -> None:
    world = visible_world()
    for n in range(10, 16):
        world.message("c2", ids(n), "kiwi hidden")
    world.conversations.members.discard(("c2", ME))
    assert found(world, ME, limit=2) == [("c3", ids(3)), ("c1", ids(1))]


def test_every_conversation_page_of_the_list_is_searched() -> None:
    world = World()
    many = [f"c{n}" for n in range(250)]
    world.conversations.listed = {ME: many}
    world.conversations.members = {(c, ME) for c in many}
    world.message("c249", ids(1), "kiwi last")
    assert found(world, ME) == [("c249", ids(1))]


# -- indexing ------------------------------------------------------------------------------------
def item(text: str, status: str = "complete", **extra: Any) -> dict[str, Any]:
    return {
        "pk": "CONV#c1",
        "sk": f"MSG#{ids(1)}",
        "role": "user",
        "status": status,
        "content": text,
        **extra,
    }


def change(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> Change:
    image = new if new is not None else old
    assert image is not None
    keys = {"pk": image["pk"], "sk": image["sk"]}
    return Change(event=event, event_id="e", keys=keys, old=old, new=new)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (item("hello"), True),
        (item("hello", "stopped"), True),
        (item("hello", "streaming"), False),
        (item("hello", "failed"), False),
        (item("   "), False),
        (item("hello", deleted_at=AT), False),
        ({**item("hello"), "role": "system"}, False),
        ({**item("hello"), "role": "assistant"}, True),
        (None, False),
    ],
)
def test_what_is_indexable(image: dict[str, Any] | None, expected: bool) -> None:
    assert indexable(image) is expected


def test_a_change_writes_the_diff_of_its_two_images() -> None:
    world = World()
    index = SearchIndex(world.store)
    index.apply(change("INSERT", None, item("kiwi kiwi pear")))
    index.apply(change("MODIFY", item("kiwi kiwi pear"), item("kiwi plum")))
    index.apply(change("MODIFY", item("kiwi plum"), item("kiwi plum", usage={"x": 1})))
    index.apply(change("MODIFY", item("", "streaming"), item("partial", "streaming")))
    index.apply(change("MODIFY", item("kiwi plum"), item("kiwi plum", "failed")))
    index.apply(change("REMOVE", item("gone"), None))
    assert [(w[0], w[1], w[2], w[3]) for w in world.search.writes] == [
        ("c1", ids(1), {"kiwi": 2, "pear": 1}, {}),
        ("c1", ids(1), {"kiwi": 1, "plum": 1}, {"kiwi": 2, "pear": 1}),
        ("c1", ids(1), {}, {"kiwi": 1, "plum": 1}),
        ("c1", ids(1), {}, {"gone": 1}),
    ]
    assert world.search.purged == []


def test_only_message_and_meta_changes_of_conversations_count() -> None:
    world = World()
    index = SearchIndex(world.store)
    index.apply(change("INSERT", None, {**item("kiwi"), "pk": "USER#u"}))
    index.apply(change("INSERT", None, {**item("kiwi"), "sk": "MEMBER#u"}))
    index.apply(change("MODIFY", {"pk": "CONV#c1", "sk": "META"}, {"pk": "CONV#c1", "sk": "META"}))
    assert world.search.writes == []
    assert world.search.purged == []
    index.apply(change("REMOVE", {"pk": "CONV#c1", "sk": "META"}, None))
    assert world.search.purged == ["c1"]


def test_a_batch_shares_one_writer() -> None:
    world = World()

    class Writer:
        pass

    writer = Writer()

    class Batching(FakeIndex):
        def postings_writer(self) -> Any:
            from contextlib import nullcontext

            return nullcontext(writer)

    world.search = Batching()
    index = SearchIndex(world.store)
    with index.batched():
        index.apply(change("INSERT", None, item("kiwi")))
    index.apply(change("INSERT", None, item("pear")))
    assert [w[4] for w in world.search.writes] == [writer, None]
    assert index_pk("c1") == "SEARCH#c1"


# -- queries -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("q", "message"),
    [
        (None, "Type a word to search for"),
        ("", "Type a word to search for"),
        (" \t ", "Type a word to search for"),
        ("k" * 201, "A search is at most 200 characters"),
        ("the of and", "Search for a word: common words like “the” are not indexed"),
    ],
)
def test_bad_queries(q: str | None, message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_query(q)
    assert raised.value.message == message


def test_a_query_at_the_limits_is_accepted() -> None:
    assert parse_query(" " + "k" * 198 + " ") == [QueryTerm("k" * 40, prefix=False)]
    assert parse_query("k" * 200) == [QueryTerm("k" * 40, prefix=True)]
    assert len(parse_query("one two three four five six seven")) == 5
