"""The DynamoDB repositories against moto in server mode (tables built from tables.yaml)."""

from __future__ import annotations

import boto3
import pytest

from parley.errors import BadRequest, Conflict, ConversationNotFound, Forbidden
from parley.models import Profile, Usage
from parley.store import Store, get_store


@pytest.fixture
def store(parley_env: dict[str, str]) -> Store:
    return get_store()


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
    store.conversations.add_member(room.id, me.id, other)
    quiet = store.conversations.create(me, kind="group", title="quiet")
    store.conversations.add_member(quiet.id, me.id, other)

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


def test_non_members_see_not_found(store: Store) -> None:
    me, other = profile(store, 1), profile(store, 2)
    conversation = store.conversations.create(me, kind="assistant", title=None)
    assert store.conversations.get_for(conversation.id, me.id).role == "owner"
    with pytest.raises(ConversationNotFound):
        store.conversations.get_for(conversation.id, other.id)
    with pytest.raises(ConversationNotFound):
        store.conversations.delete(conversation.id, other.id)


def test_title_from_first_message_only_once(store: Store) -> None:
    me = profile(store, 1)
    conversation = store.conversations.create(me, kind="assistant", title=None)
    assert conversation.title == "New conversation"
    assert store.conversations.title_from_first_message(conversation.id, "First")
    assert not store.conversations.title_from_first_message(conversation.id, "Second")
    assert store.conversations.get_for(conversation.id, me.id).title == "First"
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
    store.conversations.add_member(group.id, me.id, friend)
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


def test_messages_newest_first_and_finish(store: Store) -> None:
    me = profile(store, 1)
    conversation = store.conversations.create(me, kind="assistant", title=None)
    sent = [
        store.messages.put_user_message(
            conversation.id, author_id=me.id, author_name=None, content=f"m{i}"
        )[0]
        for i in range(3)
    ]
    reply = store.messages.put_assistant_message(conversation.id, reply_to=sent[-1].id)
    done = store.messages.finish(
        conversation.id,
        reply.id,
        content="answer",
        status="complete",
        usage=Usage(input_tokens=7, output_tokens=3),
    )
    assert done.usage == Usage(input_tokens=7, output_tokens=3)
    assert done.status == "complete"
    # A second finish (e.g. a late stop) changes nothing.
    again = store.messages.finish(conversation.id, reply.id, content="x", status="stopped")
    assert again.content == "answer"
    page, cursor = store.messages.page(conversation.id, limit=2, cursor=None)
    assert [m.id for m in page] == [reply.id, sent[2].id]
    older, end = store.messages.page(conversation.id, limit=5, cursor=cursor)
    assert [m.id for m in older] == [sent[1].id, sent[0].id]
    assert end is None
    assert store.messages.reply_to(conversation.id, sent[-1].id) == done


def test_message_into_deleted_conversation_is_refused(store: Store) -> None:
    me = profile(store, 1)
    conversation = store.conversations.create(me, kind="assistant", title=None)
    store.conversations.delete(conversation.id, me.id)
    with pytest.raises(ConversationNotFound):
        store.messages.put_user_message(
            conversation.id, author_id=me.id, author_name=None, content="late"
        )


def test_delete_removes_every_item(store: Store, parley_env: dict[str, str]) -> None:
    me, friend = profile(store, 1), profile(store, 2)
    group = store.conversations.create(me, kind="group", title="Room")
    store.conversations.add_member(group.id, me.id, friend)
    for i in range(30):
        store.messages.put_user_message(
            group.id, author_id=me.id, author_name=None, content=f"m{i}", client_message_id=f"c{i}"
        )
    with pytest.raises(Forbidden):
        store.conversations.delete(group.id, friend.id)
    store.conversations.delete(group.id, me.id)
    table = boto3.resource("dynamodb").Table(parley_env["CHAT_TABLE_NAME"])
    left = table.query(
        KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": f"CONV#{group.id}"}
    )["Items"]
    assert left == []
    assert store.conversations.list_for(friend.id, limit=5, cursor=None) == ([], None)


def test_members_rules(store: Store) -> None:
    me, friend, third = profile(store, 1), profile(store, 2), profile(store, 3)
    chat = store.conversations.create(me, kind="assistant", title=None)
    with pytest.raises(Conflict):
        store.conversations.add_member(chat.id, me.id, friend)
    group = store.conversations.create(me, kind="group", title="Room")
    store.conversations.add_member(group.id, me.id, friend)
    with pytest.raises(Conflict, match="Already a member"):
        store.conversations.add_member(group.id, me.id, friend)
    with pytest.raises(Forbidden):
        store.conversations.add_member(group.id, friend.id, third)
    with pytest.raises(Conflict, match="owner cannot leave"):
        store.conversations.remove_member(group.id, me.id, me.id)
    assert {m.user_id for m in store.conversations.members(group.id)} == {me.id, friend.id}
    store.conversations.remove_member(group.id, friend.id, friend.id)
    with pytest.raises(ConversationNotFound):
        store.conversations.get_for(group.id, friend.id)


def test_usage_counters_add_atomically(store: Store) -> None:
    for _ in range(3):
        store.usage.add("u", "2026-11-27", Usage(input_tokens=10, output_tokens=5))
    assert store.usage.get("u", "2026-11-27") == Usage(input_tokens=30, output_tokens=15)
    assert store.usage.get("u", "2026-11-28") == Usage(input_tokens=0, output_tokens=0)
