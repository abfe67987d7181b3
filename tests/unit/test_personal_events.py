"""Who is told what on their personal event stream: `Conversations` decides it, for every
change of a conversation's list entry — and tells nobody else (a title is the conversation's,
an outsider must not learn it). A recording presence stands in for the fan-out, whose
delivery to every open connection is tested over the handlers
(`tests/integration/test_long_input_branches_notices.py`). These tests are part of what
`invoke mutate` runs for `parley.conversations`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from parley.conversations import Conversations, RoomPresence
from parley.errors import Forbidden
from parley.models import Profile
from parley.store import Store
from tests.unit.conftest import fresh_id


class Recorder(RoomPresence):
    def __init__(self) -> None:
        self.told: list[dict[str, dict[str, Any]]] = []
        self.removed: list[tuple[str, str]] = []

    def member_removed(self, conversation_id: str, user_id: str) -> None:
        self.removed.append((conversation_id, user_id))

    def tell(self, events: Mapping[str, Any]) -> None:
        self.told.append({u: e.model_dump(by_alias=True) for u, e in events.items()})


@pytest.fixture
def people(fast_store: Store) -> dict[str, Profile]:
    def person(name: str) -> Profile:
        user_id = fresh_id(f"{name}-")
        return fast_store.profiles.ensure(user_id, f"{user_id}@example.com", name.title())

    return {n: person(n) for n in ("ana", "ben", "cy", "dee")}


def setup(store: Store, people: dict[str, Profile]) -> tuple[Conversations, Recorder, str]:
    recorder = Recorder()
    conversations = Conversations(store, presence=recorder)
    room = conversations.create(people["ana"], kind="group", title="Lunch").id
    conversations.invite(room, people["ana"].id, people["ben"].email)
    conversations.invite(room, people["ana"].id, people["cy"].email)
    recorder.told.clear()
    return conversations, recorder, room


def test_an_invitee_alone_is_told_they_were_added_as_a_member(
    fast_store: Store, people: dict[str, Profile]
) -> None:
    conversations, recorder, room = setup(fast_store, people)
    conversations.invite(room, people["ana"].id, people["dee"].email)
    [told] = recorder.told
    assert list(told) == [people["dee"].id]
    event = told[people["dee"].id]
    assert event["type"] == "conversation.added"
    assert (event["conversation"]["id"], event["conversation"]["title"]) == (room, "Lunch")
    assert event["conversation"]["role"] == "member"


def test_every_member_and_only_they_learn_of_a_rename_each_with_their_role(
    fast_store: Store, people: dict[str, Profile]
) -> None:
    conversations, recorder, room = setup(fast_store, people)
    with pytest.raises(Forbidden):
        conversations.rename(room, people["ben"].id, "Mine now")
    assert recorder.told == []
    conversations.rename(room, people["ana"].id, "Friday lunch")
    [told] = recorder.told
    assert set(told) == {people[n].id for n in ("ana", "ben", "cy")}
    for name, role in (("ana", "owner"), ("ben", "member"), ("cy", "member")):
        event = told[people[name].id]
        assert event["type"] == "conversation.updated"
        assert (event["conversation"]["title"], event["conversation"]["role"]) == (
            "Friday lunch",
            role,
        )


def test_a_member_removed_or_leaving_alone_is_told_and_stops_hearing_the_room(
    fast_store: Store, people: dict[str, Profile]
) -> None:
    conversations, recorder, room = setup(fast_store, people)
    with pytest.raises(Forbidden):
        conversations.remove(room, people["ben"].id, people["cy"].id)
    assert recorder.told == []
    conversations.remove(room, people["ana"].id, people["ben"].id)
    conversations.remove(room, people["cy"].id, people["cy"].id)
    assert recorder.removed == [(room, people["ben"].id), (room, people["cy"].id)]
    assert recorder.told == [
        {people["ben"].id: {"type": "conversation.removed", "conversationId": room,
                            "reason": "removed"}},
        {people["cy"].id: {"type": "conversation.removed", "conversationId": room,
                           "reason": "left"}},
    ]  # fmt: skip


def test_every_member_learns_of_a_delete_and_nobody_of_a_refused_one(
    fast_store: Store, people: dict[str, Profile]
) -> None:
    conversations, recorder, room = setup(fast_store, people)
    with pytest.raises(Forbidden):
        conversations.delete(room, people["ben"].id)
    assert recorder.told == []
    conversations.delete(room, people["ana"].id)
    [told] = recorder.told
    assert set(told) == {people[n].id for n in ("ana", "ben", "cy")}
    assert {e["reason"] for e in told.values()} == {"deleted"}
    assert {e["conversationId"] for e in told.values()} == {room}


def test_the_creator_alone_is_told_of_a_new_conversation_so_their_other_devices_list_it(
    fast_store: Store, people: dict[str, Profile]
) -> None:
    recorder = Recorder()
    conversations = Conversations(fast_store, presence=recorder)
    created = conversations.create(people["ben"], kind="assistant", title="Plans")
    [told] = recorder.told
    assert list(told) == [people["ben"].id]
    event = told[people["ben"].id]
    assert event["type"] == "conversation.added"
    assert event["conversation"]["id"] == created.id
    assert (event["conversation"]["title"], event["conversation"]["role"]) == ("Plans", "owner")
