"""Search: what the index keeps from the change feed, and what a search may show to whom.

The projection is fed `Change`s exactly as the stream processor builds them, on the unit moto
table; the message items are written beside them, as the request path would. These tests are
what `invoke mutate --only parley/search.py` runs: every refusal of visibility is paired with
the case just inside it.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from parley import search as search_module
from parley.changes import Change
from parley.errors import BadRequest
from parley.ids import new_ulid, now_iso
from parley.models import Conversation, Profile
from parley.search import Search, SearchIndex, parse_query, rank
from parley.searchtext import QueryTerm, query_terms, snippet, term_counts
from parley.store import Store
from parley.store.conversations import ConversationRepository
from parley.store.search import Posting, index_pk
from tests.unit.conftest import fresh_id

DAY = 86_400.0


def person(name: str) -> Profile:
    user_id = fresh_id(f"u-{name}-")
    return Profile(id=user_id, email=f"{user_id}@example.com", name=name, created_at=now_iso())


def room(store: Store, owner: Profile, *others: Profile, title: str = "Room") -> str:
    conversation = store.conversations.create(owner, kind="group", title=title)
    record = store.conversations.record(conversation.id)
    for other in others:
        store.conversations.add_member(record, other)
    return conversation.id


def message_item(
    conversation_id: str,
    author: Profile | None,
    text: str,
    *,
    status: str = "complete",
    message_id: str | None = None,
) -> dict[str, Any]:
    at = now_iso()
    return {
        "pk": f"CONV#{conversation_id}",
        "sk": f"MSG#{message_id or new_ulid()}",
        "author_id": author.id if author else "assistant",
        "author_name": author.name if author else "Assistant",
        "role": "user" if author else "assistant",
        "content": text,
        "status": status,
        "created_at": at,
        "updated_at": at,
    }


def change(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> Change:
    image = new if new is not None else old
    assert image is not None
    return Change(
        event=event,  # type: ignore[arg-type]
        event_id=new_ulid(),
        keys={"pk": image["pk"], "sk": image["sk"]},
        old=old,
        new=new,
    )


class Chat:
    """Writes message items as the request path does and feeds the projection their changes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.table = store.messages.table
        self.index = SearchIndex(store)

    def post(self, conversation_id: str, author: Profile | None, text: str, **kw: Any) -> str:
        item = message_item(conversation_id, author, text, **kw)
        self.table.put_item(Item=item)
        self.index.apply(change("INSERT", None, item))
        return str(item["sk"]).removeprefix("MSG#")

    def update(self, conversation_id: str, message_id: str, **fields: Any) -> None:
        key = {"pk": f"CONV#{conversation_id}", "sk": f"MSG#{message_id}"}
        old = self.table.get_item(Key=key)["Item"]
        new = {**old, **fields}
        self.table.put_item(Item=new)
        self.index.apply(change("MODIFY", old, new))

    def delete(self, conversation_id: str, message_id: str) -> None:
        key = {"pk": f"CONV#{conversation_id}", "sk": f"MSG#{message_id}"}
        old = self.table.get_item(Key=key)["Item"]
        self.table.delete_item(Key=key)
        self.index.apply(change("REMOVE", old, None))

    def index_items(self, conversation_id: str) -> list[dict[str, Any]]:
        return self.table.query(KeyConditionExpression=Key("pk").eq(index_pk(conversation_id)))[
            "Items"
        ]


@pytest.fixture
def chat(fast_store: Store) -> Chat:
    return Chat(fast_store)


def texts(hits: list[Any]) -> list[str]:
    return ["".join(s.text for s in hit.snippet) for hit in hits]


def find(store: Store, user: Profile, q: str, limit: int = 20) -> list[Any]:
    hits, _ = Search(store).search(user.id, q, limit=limit)
    return hits


# -- text ------------------------------------------------------------------------------------------
def test_terms_are_folded_stemmed_and_skip_stop_words() -> None:
    counts = term_counts("The CAFÉ deployed naïve deploys; Straße 東京 deploying the_end x3")
    assert counts == {
        "cafe": 1,
        "deploy": 3,
        "naive": 1,
        "strasse": 1,
        "東": 1,
        "京": 1,
        "end": 1,
        "x3": 1,
    }


def test_stemming_keeps_short_and_double_s_words() -> None:
    counts = term_counts("bus class releases boxes stopped running copies is")
    assert set(counts) == {"bus", "class", "release", "box", "stop", "run", "copy"}


def test_the_last_word_is_a_prefix_while_typed_and_exact_after_a_space() -> None:
    assert query_terms("zeppelin depl", max_terms=5) == [
        QueryTerm("zeppelin", prefix=False),
        QueryTerm("depl", prefix=True),
    ]
    assert query_terms("zeppelin depl ", max_terms=5)[-1] == QueryTerm("depl", prefix=False)
    assert query_terms("go", max_terms=5) == [QueryTerm("go", prefix=False)]
    assert len(query_terms("one two three four five six seven", max_terms=5)) == 5


def test_the_snippet_marks_the_matched_words_and_keeps_their_case() -> None:
    text = ("lorem ipsum " * 20) + "We DEPLOYED the Zeppelin\non Friday" + (" dolor sit" * 20)
    segments = snippet(text, query_terms("deploy zeppelin", max_terms=5))
    marked = [s.text for s in segments if s.match]
    assert marked == ["DEPLOYED", "Zeppelin"]
    joined = "".join(s.text for s in segments)
    assert joined.startswith("…")
    assert joined.endswith("…")
    assert "\n" not in joined
    assert len(joined) <= 170


def test_the_snippet_of_text_that_does_not_match_is_its_start() -> None:
    assert [(s.text, s.match) for s in snippet("short text", [QueryTerm("x", prefix=False)])] == [
        ("short text", False)
    ]


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "Type a word to search for"),
        ("   ", "Type a word to search for"),
        (None, "Type a word to search for"),
        ("x" * 201, "A search is at most 200 characters"),
        ("the and of", "Search for a word: common words like “the” are not indexed"),
    ],
)
def test_a_bad_query_is_a_clear_bad_request(q: str | None, message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_query(q)
    assert raised.value.message == message
    assert raised.value.status == 400


def test_a_query_of_exactly_the_longest_length_is_accepted() -> None:
    assert parse_query("y" * 200) == [QueryTerm("y" * 200 if False else "y" * 40, prefix=True)]


def test_a_forged_or_foreign_cursor_is_a_bad_request(fast_store: Store, chat: Chat) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice)
    for _ in range(3):
        chat.post(conversation, alice, "quokka sighting")
    hits, cursor = Search(fast_store).search(alice.id, "quokka", limit=1)
    assert len(hits) == 1
    assert cursor
    for bad in ("not-base64!", "eyJ4IjoxfQ", cursor[:-3]):
        with pytest.raises(BadRequest):
            Search(fast_store).search(alice.id, "quokka", limit=1, cursor=bad)
    with pytest.raises(BadRequest) as raised:
        Search(fast_store).search(alice.id, "sighting", limit=1, cursor=cursor)
    assert raised.value.message == "Invalid cursor: it belongs to another search"


# -- visibility ----------------------------------------------------------------------------------
def test_search_shows_only_the_callers_conversations(fast_store: Store, chat: Chat) -> None:
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    shared = room(fast_store, alice, bob, title="Shared room")
    hidden = room(fast_store, carol, title="Carol's hideout")
    mine = fast_store.conversations.create(alice, kind="assistant", title="Alone").id
    chat.post(shared, bob, "The zeppelin lands at noon")
    chat.post(hidden, carol, "zeppelin secret plans")
    chat.post(mine, alice, "I like zeppelin models")

    alice_hits = find(fast_store, alice, "zeppelin")
    assert {h.conversation_id for h in alice_hits} == {shared, mine}
    assert all("secret" not in t for t in texts(alice_hits))
    assert {h.conversation_title for h in alice_hits} == {"Shared room", "Alone"}
    bob_hits = find(fast_store, bob, "zeppelin")
    assert [h.conversation_id for h in bob_hits] == [shared]
    assert bob_hits[0].author_name == "bob"
    assert bob_hits[0].role == "user"
    assert [h.conversation_id for h in find(fast_store, carol, "zeppelin")] == [hidden]
    assert find(fast_store, person("dave"), "zeppelin") == []


def test_a_removed_member_loses_the_rooms_results(fast_store: Store, chat: Chat) -> None:
    alice, bob = person("alice"), person("bob")
    shared = room(fast_store, alice, bob)
    chat.post(shared, alice, "Meet at the lighthouse")
    assert len(find(fast_store, bob, "lighthouse")) == 1
    fast_store.conversations.remove_member(shared, bob.id)
    assert find(fast_store, bob, "lighthouse") == []
    assert len(find(fast_store, alice, "lighthouse")) == 1


class StaleList(ConversationRepository):
    """GSI1 a moment behind: still lists conversations the user has just left."""

    def __init__(self, inner: ConversationRepository, listed: list[Conversation]) -> None:
        super().__init__(inner.table)
        self.listed = listed

    def list_for(
        self, user_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Conversation], str | None]:
        return self.listed, None


def test_membership_is_read_again_when_the_list_is_stale(fast_store: Store, chat: Chat) -> None:
    alice, bob = person("alice"), person("bob")
    shared = room(fast_store, alice, bob)
    kept = room(fast_store, bob)
    chat.post(shared, alice, "The vault code is ostrich")
    chat.post(kept, bob, "ostrich feathers")
    listed, _ = fast_store.conversations.list_for(bob.id, limit=10, cursor=None)
    fast_store.conversations.remove_member(shared, bob.id)
    stale = dataclasses.replace(
        fast_store, conversations=StaleList(fast_store.conversations, listed)
    )
    hits = find(stale, bob, "ostrich")
    assert [h.conversation_id for h in hits] == [kept]


def test_a_deleted_conversation_is_hidden_before_its_index_is_purged(
    fast_store: Store, chat: Chat
) -> None:
    alice = person("alice")
    gone, kept = room(fast_store, alice), room(fast_store, alice)
    chat.post(gone, alice, "walrus one")
    chat.post(kept, alice, "walrus two")
    fast_store.messages.table.update_item(
        Key={"pk": f"CONV#{gone}", "sk": "META"},
        UpdateExpression="SET deleted_at = :d",
        ExpressionAttributeValues={":d": now_iso()},
    )
    assert [h.conversation_id for h in find(fast_store, alice, "walrus")] == [kept]


def test_a_search_of_many_conversations_pages_past_the_hidden_ones(
    fast_store: Store, chat: Chat
) -> None:
    alice, bob = person("alice"), person("bob")
    left = [room(fast_store, bob, alice) for _ in range(3)]
    kept = room(fast_store, alice)
    for conversation in left:
        for _ in range(2):
            chat.post(conversation, bob, "narwhal narwhal narwhal")
    chat.post(kept, alice, "one narwhal among many words of a longer message here")
    listed, _ = fast_store.conversations.list_for(alice.id, limit=10, cursor=None)
    for conversation in left:
        fast_store.conversations.remove_member(conversation, alice.id)
    stale = dataclasses.replace(
        fast_store, conversations=StaleList(fast_store.conversations, listed)
    )
    hits, cursor = Search(stale).search(alice.id, "narwhal", limit=2)
    assert [h.conversation_id for h in hits] == [kept]
    assert cursor is None


# -- the projection ------------------------------------------------------------------------------
def test_a_streaming_reply_is_indexed_once_when_it_completes(fast_store: Store, chat: Chat) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice)
    reply = chat.post(conversation, None, "", status="streaming")
    chat.update(conversation, reply, content="Penguins are", seq=3)
    chat.update(conversation, reply, content="Penguins are flightless birds", seq=7)
    assert chat.index_items(conversation) == []
    assert find(fast_store, alice, "penguin") == []
    chat.update(conversation, reply, status="complete")
    assert len(chat.index_items(conversation)) == 3  # penguin, flightless, bird
    hit = find(fast_store, alice, "penguins")[0]
    assert (hit.role, hit.author_id, hit.message_id) == ("assistant", "assistant", reply)
    chat.update(conversation, reply, usage={"input_tokens": 1, "output_tokens": 2})
    assert len(chat.index_items(conversation)) == 3


def test_a_stopped_reply_is_found_and_a_failed_one_is_not(fast_store: Store, chat: Chat) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice)
    chat.post(conversation, None, "albatross half", status="stopped")
    failed = chat.post(conversation, None, "albatross broken", status="failed")
    assert texts(find(fast_store, alice, "albatross")) == ["albatross half"]
    chat.update(conversation, failed, status="complete")
    assert len(find(fast_store, alice, "albatross")) == 2
    chat.update(conversation, failed, status="failed")
    assert texts(find(fast_store, alice, "albatross")) == ["albatross half"]


def test_an_edit_replaces_the_old_words_and_a_removal_forgets_them(
    fast_store: Store, chat: Chat
) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice)
    message = chat.post(conversation, alice, "pelican pelican harbour")
    chat.update(conversation, message, content="cormorant harbour")
    assert find(fast_store, alice, "pelican") == []
    assert texts(find(fast_store, alice, "cormorant")) == ["cormorant harbour"]
    postings = {i["sk"]: i for i in chat.index_items(conversation)}
    assert set(postings) == {f"T#cormorant#{message}", f"T#harbour#{message}"}
    assert {int(i["n"]) for i in postings.values()} == {2}
    chat.delete(conversation, message)
    assert chat.index_items(conversation) == []


def test_a_redelivered_change_leaves_the_same_index(fast_store: Store, chat: Chat) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice)
    item = message_item(conversation, alice, "heron heron egret")
    fast_store.messages.table.put_item(Item=item)
    insert = change("INSERT", None, item)
    edited = {**item, "content": "egret stork"}
    modify = change("MODIFY", item, edited)
    for applied in (insert, modify, insert, modify):
        chat.index.apply(applied)
    assert {i["sk"].split("#")[1] for i in chat.index_items(conversation)} == {"egret", "stork"}


def test_a_deleted_conversation_loses_its_index(fast_store: Store, chat: Chat) -> None:
    alice = person("alice")
    removed, kept = room(fast_store, alice), room(fast_store, alice)
    for conversation in (removed, kept):
        chat.post(conversation, alice, "flamingo")
        chat.post(conversation, alice, "flamingo pink")
    meta = {"pk": f"CONV#{removed}", "sk": "META", "title": "x"}
    chat.index.apply(change("MODIFY", meta, {**meta, "title": "y"}))
    chat.index.apply(change("MODIFY", meta, {**meta, "deleted_at": now_iso()}))
    assert len(chat.index_items(removed)) == 3  # the clean-up's REMOVEs take them
    chat.index.apply(change("REMOVE", meta, None))
    assert chat.index_items(removed) == []
    assert len(chat.index_items(kept)) == 3


def test_other_items_are_ignored(fast_store: Store, chat: Chat) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice)
    member = {"pk": f"CONV#{conversation}", "sk": f"MEMBER#{alice.id}", "content": "x y z"}
    chat.index.apply(change("REMOVE", member, None))
    profile = {"pk": f"USER#{alice.id}", "sk": "MSG#x", "role": "user", "status": "complete"}
    chat.index.apply(change("INSERT", None, {**profile, "content": "kestrel"}))
    assert chat.index_items(conversation) == []
    assert chat.index_items(alice.id) == []


def test_messages_indexed_at_once_are_all_found(fast_store: Store) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice)

    def post(number: int) -> None:
        Chat(fast_store).post(conversation, alice, f"puffin number{number}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    hits, _ = Search(fast_store).search(alice.id, "puffin", limit=50)
    assert len(hits) == 12


# -- a long history, paging and ranking ----------------------------------------------------------
FILLER = ["weather", "lunch", "meeting", "train", "coffee", "garden", "music", "report"]


def test_pages_cover_every_hit_once_in_rank_order(fast_store: Store, chat: Chat) -> None:
    alice = person("alice")
    rooms = [room(fast_store, alice) for _ in range(3)]
    posted = {chat.post(rooms[n % 3], alice, f"otter {n}") for n in range(25)}
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        hits, cursor = Search(fast_store).search(alice.id, "otter", limit=10, cursor=cursor)
        pages += 1
        seen += [h.message_id for h in hits]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 25
    assert set(seen) == posted
    assert seen == sorted(seen, reverse=True)  # equal scores: newest first


def test_ranking_prefers_every_term_then_frequency_then_short_then_recent(
    fast_store: Store, chat: Chat
) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice)
    one = chat.post(conversation, alice, "lemur")
    both = chat.post(conversation, alice, "lemur and gecko")
    often = chat.post(conversation, alice, "lemur lemur lemur")
    long = chat.post(conversation, alice, "lemur " + " ".join(FILLER))
    newer = chat.post(conversation, alice, "lemur")
    assert find(fast_store, alice, "lemur gecko")[0].message_id == both
    order = [h.message_id for h in find(fast_store, alice, "lemur")]
    assert order[0] == often
    assert order.index(newer) < order.index(one) < order.index(long)


def ulid_at(seconds: float, tail: str = "0" * 16) -> str:
    """A ULID of that moment (`new_ulid` never goes back in time within a process)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ms = int(seconds * 1000)
    return "".join(alphabet[(ms >> shift) & 31] for shift in range(45, -5, -5)) + tail


def test_ulid_time_is_read_back() -> None:
    assert search_module.ulid_seconds(ulid_at(1_800_000_000.5)) == 1_800_000_000.5
    assert search_module.ulid_seconds("!" * 26) == 0.0


def test_recency_breaks_near_ties_and_rarer_terms_weigh_more() -> None:
    now = 1_800_000_000.0
    old_id, new_id = ulid_at(now - 90 * DAY), ulid_at(now)
    terms = [QueryTerm("rare", prefix=False), QueryTerm("common", prefix=False)]
    postings = [
        Posting("c", old_id, "rare", 1, 3),
        Posting("c", new_id, "common", 1, 3),
        Posting("c", "01" + "0" * 24, "common", 1, 3),
    ]
    ranked = rank(postings, terms, now=now)
    assert [c.message_id for c in ranked][:2] == [old_id, new_id]
    same = rank(
        [Posting("c", old_id, "x", 1, 3), Posting("c", new_id, "x", 1, 3)],
        [QueryTerm("x", prefix=False)],
        now=now,
    )
    assert [c.message_id for c in same] == [new_id, old_id]
    assert same[0].score > same[1].score


def test_an_exact_word_outranks_a_longer_word_with_that_prefix() -> None:
    now = 1_800_000_000.0
    first, second = new_ulid(int(now * 1000)), new_ulid(int(now * 1000))
    ranked = rank(
        [Posting("c", first, "deploy", 1, 3), Posting("c", second, "deployment", 1, 3)],
        [QueryTerm("deploy", prefix=True)],
        now=now,
    )
    assert [c.message_id for c in ranked] == [first, second]


def test_a_hot_term_reads_a_bounded_number_of_postings(
    fast_store: Store, chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice)
    for _ in range(5):
        chat.post(conversation, alice, "seagull")
    monkeypatch.setattr(search_module, "POSTINGS_PER_TERM", 3)
    hits, cursor = Search(fast_store).search(alice.id, "seagull", limit=10)
    assert len(hits) == 3
    assert cursor is None
