"""Search finds one word in a 2,000-message history, built cheaply: the history goes through the
search projection in one batch (only the index is written; a search reads the message items of
its hits alone). Kept apart from tests/unit/test_search.py, which `invoke mutate` runs per mutant.
"""

from __future__ import annotations

from parley.models import Profile
from parley.search import SearchIndex
from parley.store import Store
from tests.unit.test_search import FILLER, Chat, change, find, message_item, person, room
from tests.unit.test_search import chat as chat  # the fixture, re-exported for this module


def history(store: Store, conversation: str, author: Profile, size: int) -> list[str]:
    """`size` messages indexed through the projection in one batch. Only the index is written
    (a search reads the message items of its hits alone), which keeps this cheap on moto."""
    index = SearchIndex(store)
    items = [message_item(conversation, author, FILLER[n % 8]) for n in range(size)]
    with index.batched():
        for item in items:
            index.apply(change("INSERT", None, item))
    return [str(item["sk"]).removeprefix("MSG#") for item in items]


def test_a_word_is_found_in_a_two_thousand_message_history(fast_store: Store, chat: Chat) -> None:
    alice = person("alice")
    conversation = room(fast_store, alice, title="Long history")
    ids = history(fast_store, conversation, alice, 1000)
    needle = chat.post(conversation, alice, "The capybara was in the garden")
    ids += history(fast_store, conversation, alice, 999)
    assert len(ids) + 1 == 2000
    assert len(chat.index_items(conversation)) == 2001
    hits = find(fast_store, alice, "capybara")
    assert [h.message_id for h in hits] == [needle]
    assert [s.text for s in hits[0].snippet if s.match] == ["capybara"]
    assert hits[0].conversation_title == "Long history"
    assert [h.message_id for h in find(fast_store, alice, "capyb")] == [needle]
