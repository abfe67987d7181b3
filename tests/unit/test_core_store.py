"""The DynamoDB repositories against moto in server mode (tables built from tables.yaml)."""

from __future__ import annotations

import boto3
import pytest

from parley.conversations import Conversations
from parley.errors import BadRequest, Conflict, ConversationNotFound, Forbidden
from parley.ids import new_ulid
from parley.models import Profile, Usage
from parley.store import Store, get_store
from parley.store.messages import ReplyNotStreaming
from parley.store.usage import Claim, ClaimRefused
from tasks.local.streams import StreamPoller


@pytest.fixture
def store(parley_env: dict[str, str]) -> Store:
    return get_store()


@pytest.fixture
def rooms(store: Store) -> Conversations:
    """The domain rules over the store (who may do what)."""
    return Conversations(store)


def add(store: Store, conversation_id: str, who: Profile) -> None:
    store.conversations.add_member(store.conversations.record(conversation_id), who)


def profile(store: Store, n: int) -> Profile:
    return store.profiles.ensure(f"user-{n}", f"User{n}@Example.com", f"User {n}")


def test_profiles_are_idempotent_and_found_by_email(store: Store) -> None:
    first = profile(store, 1)
    again = store.profiles.ensure("user-1", "user1@example.com", "Changed")
    assert again == first
    found = store.profiles.find_by_email("  USER1@example.COM ")
    assert found is not None
    assert found.id == "user-1"
    assert store.profiles.find_by_email("nobody@example.com") is None


def test_my_conversations_by_recent_activity_with_cursor(store: Store) -> None:
    me = profile(store, 1)
    ids = [store.conversations.create(me, kind="assistant", title=f"c{i}").id for i in range(5)]
    store.conversations.touch(ids[1])
    page, cursor = store.conversations.list_for(me.id, limit=3, cursor=None)
    assert [c.id for c in page] == [ids[1], ids[4], ids[3]]
    assert cursor is not None
    rest, end = store.conversations.list_for(me.id, limit=3, cursor=cursor)
    assert [c.id for c in rest] == [ids[2], ids[0]]
    assert end is None
    assert store.conversations.list_for("someone-else", limit=3, cursor=None) == ([], None)


def test_touch_moves_the_members_it_is_given_without_listing_them(store: Store) -> None:
    me, other = profile(store, 1), profile(store, 2)
    room = store.conversations.create(me, kind="group", title="room")
    add(store, room.id, other)
    quiet = store.conversations.create(me, kind="group", title="quiet")
    add(store, quiet.id, other)

    store.conversations.touch(room.id, "2099-01-01T00:00:00.000Z", member_ids=[me.id])
    mine, _ = store.conversations.list_for(me.id, limit=5, cursor=None)
    theirs, _ = store.conversations.list_for(other.id, limit=5, cursor=None)
    assert [c.id for c in mine] == [room.id, quiet.id]
    assert [c.id for c in theirs] == [quiet.id, room.id]  # not given: left where it was

    store.conversations.touch(room.id, "2099-01-01T00:00:01.000Z")  # no ids: every member
    theirs, _ = store.conversations.list_for(other.id, limit=5, cursor=None)
    assert [c.id for c in theirs] == [room.id, quiet.id]


def test_a_cursor_cannot_be_used_on_another_partition(store: Store) -> None:
    me, other = profile(store, 1), profile(store, 2)
    for _ in range(3):
        store.conversations.create(me, kind="assistant", title=None)
    _, cursor = store.conversations.list_for(me.id, limit=1, cursor=None)
    with pytest.raises(BadRequest, match="Invalid cursor"):
        store.conversations.list_for(other.id, limit=1, cursor=cursor)
    with pytest.raises(BadRequest, match="Invalid cursor"):
        store.conversations.list_for(me.id, limit=1, cursor="!!not-base64!!")


def test_non_members_see_not_found(store: Store, rooms: Conversations) -> None:
    me, other = profile(store, 1), profile(store, 2)
    conversation = store.conversations.create(me, kind="assistant", title=None)
    assert rooms.get(conversation.id, me.id).role == "owner"
    for attempt in (
        lambda: rooms.get(conversation.id, other.id),
        lambda: rooms.delete(conversation.id, other.id),
        lambda: rooms.rename(conversation.id, other.id, "mine now"),
        lambda: rooms.members(conversation.id, other.id),
        lambda: rooms.invite(conversation.id, other.id, "user1@example.com"),
        lambda: rooms.remove(conversation.id, other.id, me.id),
    ):
        with pytest.raises(ConversationNotFound):
            attempt()


def test_title_from_first_message_only_once(
    store: Store, rooms: Conversations, change_feed: StreamPoller
) -> None:
    me = profile(store, 1)
    conversation = store.conversations.create(me, kind="assistant", title=None)
    assert conversation.title == "New conversation"
    record = store.conversations.record(conversation.id)
    assert store.conversations.title_if_untitled(record, "First")
    assert not store.conversations.title_if_untitled(record, "Second")  # raced: stale record
    assert rooms.get(conversation.id, me.id).title == "First"
    change_feed.drain()  # the members' copy of the title follows from the change feed
    listed, _ = store.conversations.list_for(me.id, limit=5, cursor=None)
    assert listed[0].title == "First"


def test_idempotent_user_message_on_retries(store: Store) -> None:
    # Retries run one after another: moto rolls a cancelled transaction back by restoring a
    # copy of its tables, which loses a concurrent winner's writes — DynamoDB does not.
    me = profile(store, 1)
    conversation = store.conversations.create(me, kind="assistant", title=None)
    results = []
    for _ in range(3):
        results.append(
            store.messages.put_user_message(
                conversation.id,
                author_id=me.id,
                author_name=me.name,
                content="hi",
                client_message_id="client-1",
            )
        )
    assert len({message.id for message, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    page, _ = store.messages.page(conversation.id, limit=10, cursor=None)
    assert len(page) == 1


def test_a_client_message_id_taken_by_another_member_is_a_conflict(store: Store) -> None:
    me, friend = profile(store, 1), profile(store, 2)
    group = store.conversations.create(me, kind="group", title="Room")
    add(store, group.id, friend)
    store.messages.put_user_message(
        group.id, author_id=me.id, author_name=None, content="mine", client_message_id="1"
    )
    with pytest.raises(Conflict, match="already used"):
        store.messages.put_user_message(
            group.id,
            author_id=friend.id,
            author_name=None,
            content="theirs",
            client_message_id="1",
        )
    page, _ = store.messages.page(group.id, limit=10, cursor=None)
    assert [m.content for m in page] == ["mine"]


def test_messages_newest_first_and_a_reply_ends_once(store: Store) -> None:
    me = profile(store, 1)
    conversation = store.conversations.create(me, kind="assistant", title=None)
    sent = [
        store.messages.put_user_message(
            conversation.id, author_id=me.id, author_name=None, content=f"m{i}"
        )[0]
        for i in range(3)
    ]
    reply, created = store.messages.begin_reply(
        conversation.id, new_ulid(), reply_to=sent[-1].id, requested_by=me.id
    )
    assert created
    done = store.messages.finish_reply(
        conversation.id,
        reply.message_id,
        content="answer",
        seq=1,
        status="complete",
        usage=Usage(input_tokens=7, output_tokens=3),
    )
    assert done.message.usage == Usage(input_tokens=7, output_tokens=3)
    assert done.status == "complete"
    with pytest.raises(ReplyNotStreaming):  # a second ending (a late stop) changes nothing
        store.messages.finish_reply(
            conversation.id, reply.message_id, content="x", seq=2, status="stopped"
        )
    assert store.messages.get(conversation.id, reply.message_id).content == "answer"
    page, cursor = store.messages.page(conversation.id, limit=2, cursor=None)
    assert [m.id for m in page] == [reply.message_id, sent[2].id]
    older, end = store.messages.page(conversation.id, limit=5, cursor=cursor)
    assert [m.id for m in older] == [sent[1].id, sent[0].id]
    assert end is None
    assert store.messages.reply_to(conversation.id, sent[-1].id) == done.message
    assert [m.id for m in store.messages.recent(conversation.id, up_to=sent[1].id)] == [
        sent[0].id,
        sent[1].id,
    ]


def test_message_into_deleted_conversation_is_refused(store: Store, rooms: Conversations) -> None:
    me = profile(store, 1)
    conversation = store.conversations.create(me, kind="assistant", title=None)
    rooms.delete(conversation.id, me.id)
    with pytest.raises(ConversationNotFound):
        store.messages.put_user_message(
            conversation.id, author_id=me.id, author_name=None, content="late"
        )


def test_delete_removes_every_item(
    store: Store, rooms: Conversations, parley_env: dict[str, str], change_feed: StreamPoller
) -> None:
    me, friend = profile(store, 1), profile(store, 2)
    group = store.conversations.create(me, kind="group", title="Room")
    add(store, group.id, friend)
    for i in range(30):
        store.messages.put_user_message(
            group.id, author_id=me.id, author_name=None, content=f"m{i}", client_message_id=f"c{i}"
        )
    with pytest.raises(Forbidden):
        rooms.delete(group.id, friend.id)
    rooms.delete(group.id, me.id)
    # Gone for everyone at once; the items follow in the background.
    assert store.conversations.list_for(friend.id, limit=5, cursor=None) == ([], None)
    with pytest.raises(ConversationNotFound):
        rooms.get(group.id, friend.id)
    change_feed.drain()
    table = boto3.resource("dynamodb").Table(parley_env["CHAT_TABLE_NAME"])
    left = table.query(
        KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": f"CONV#{group.id}"}
    )["Items"]
    assert left == []
    assert store.conversations.list_for(friend.id, limit=5, cursor=None) == ([], None)


def test_members_rules(store: Store, rooms: Conversations) -> None:
    me, friend, third = profile(store, 1), profile(store, 2), profile(store, 3)
    chat = store.conversations.create(me, kind="assistant", title=None)
    with pytest.raises(Conflict, match="group"):
        rooms.invite(chat.id, me.id, friend.email)
    group = store.conversations.create(me, kind="group", title="Room")
    rooms.invite(group.id, me.id, friend.email)
    with pytest.raises(Conflict, match="Already a member"):
        rooms.invite(group.id, me.id, friend.email)
    with pytest.raises(Forbidden):
        rooms.invite(group.id, friend.id, third.email)
    with pytest.raises(Forbidden):
        rooms.rename(group.id, friend.id, "mine")
    with pytest.raises(Forbidden):
        rooms.remove(group.id, friend.id, me.id)
    with pytest.raises(Conflict, match="owner cannot leave"):
        rooms.remove(group.id, me.id, me.id)
    assert {m.user_id for m in store.conversations.members(group.id)} == {me.id, friend.id}
    rooms.remove(group.id, friend.id, friend.id)
    with pytest.raises(ConversationNotFound):
        rooms.get(group.id, friend.id)


def test_who_may_not_invite_learns_nothing_about_addresses(
    store: Store, rooms: Conversations
) -> None:
    me, friend, third = profile(store, 1), profile(store, 2), profile(store, 3)
    group = store.conversations.create(me, kind="group", title="Room")
    chat = store.conversations.create(me, kind="assistant", title=None)
    rooms.invite(group.id, me.id, friend.email)
    for target in (third.email, "nobody@example.com"):  # known and unknown: one answer
        with pytest.raises(Forbidden):
            rooms.invite(group.id, friend.id, target)
        with pytest.raises(Conflict, match="group"):
            rooms.invite(chat.id, me.id, target)


def test_usage_counters_add_atomically(store: Store) -> None:
    for _ in range(3):
        store.usage.add("u", "2026-11-27", Usage(input_tokens=10, output_tokens=5))
    assert store.usage.get("u", "2026-11-27") == (Usage(input_tokens=30, output_tokens=15), 0)
    assert store.usage.get("u", "2026-11-28") == (Usage(input_tokens=0, output_tokens=0), 0)


def test_a_claim_holds_its_tokens_and_slot_until_settled_once(store: Store) -> None:
    day = "2026-11-27"
    store.usage.add("u", day, Usage(input_tokens=90, output_tokens=0))
    first = Claim(user_id="u", conversation_id="c", reply_id="r1", day=day, tokens=50)
    store.usage.claim(first, limit=100, now=1000, lock_seconds=180)
    assert store.usage.get("u", day) == (Usage(input_tokens=90, output_tokens=0), 50)
    with pytest.raises(ClaimRefused) as refused:  # over the quota now
        store.usage.claim(
            Claim(user_id="u", conversation_id="other", reply_id="r2", day=day, tokens=1),
            limit=100,
            now=1000,
            lock_seconds=180,
        )
    assert refused.value.quota
    with pytest.raises(ClaimRefused) as busy:  # unlimited, but this conversation is busy
        store.usage.claim(
            Claim(user_id="u", conversation_id="c", reply_id="r3", day=day, tokens=1),
            limit=0,
            now=1000,
            lock_seconds=180,
        )
    assert not busy.value.quota

    assert store.usage.settle(first, Usage(input_tokens=5, output_tokens=7))
    assert not store.usage.settle(first, Usage(input_tokens=5, output_tokens=7))  # once only
    assert store.usage.get("u", day) == (Usage(input_tokens=95, output_tokens=7), 0)


def test_a_slot_left_by_a_dead_reply_is_taken_over_after_it_expires(store: Store) -> None:
    day = "2026-11-27"
    lost = Claim(user_id="u", conversation_id="c", reply_id="r1", day=day, tokens=10)
    store.usage.claim(lost, limit=0, now=1000, lock_seconds=180)
    later = Claim(user_id="u", conversation_id="c", reply_id="r2", day=day, tokens=10)
    with pytest.raises(ClaimRefused):
        store.usage.claim(later, limit=0, now=1100, lock_seconds=180)
    store.usage.claim(later, limit=0, now=1181, lock_seconds=180)
    assert not store.usage.settle(lost, Usage(input_tokens=1, output_tokens=1))
    assert store.usage.settle(later, Usage(input_tokens=1, output_tokens=1))
