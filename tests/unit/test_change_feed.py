"""The change feed over moto's real DynamoDB stream: the stream processor's projections (member
activity, usage rollups, clean-up after delete), delivered with Lambda's batch semantics by the
local event source mapping (partial batch responses, bisect, retries, dead-letter queue), and
`invoke redrive`'s replay."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from parley import rollups as rollups_module
from parley.conversations import Conversations
from parley.errors import ConversationNotFound
from parley.ids import new_ulid
from parley.models import Profile, Usage
from parley.store import Store, get_store
from parley.store.rollups import Counts
from tasks.local.bootstrap import LocalResources
from tasks.local.streams import StreamPoller
from tasks.streams import replay
from tests.support.change_feed import in_process_feed, invoke_in_process

DAY = "2026-12-02"


@pytest.fixture
def store(parley_env: dict[str, str]) -> Store:
    return get_store()


def profile(store: Store, n: int) -> Profile:
    return store.profiles.ensure(f"user-{n}-{new_ulid()}", f"u{n}@example.com", f"User {n}")


def say(store: Store, conversation_id: str, who: Profile, text: str = "hi") -> str:
    message, _ = store.messages.put_user_message(
        conversation_id, author_id=who.id, author_name=who.name, content=text
    )
    return message.created_at


def listed(store: Store, who: Profile) -> list[str]:
    return [c.id for c in store.conversations.list_for(who.id, limit=20, cursor=None)[0]]


def test_room_messages_move_the_room_up_every_members_list(
    store: Store, change_feed: StreamPoller
) -> None:
    owner, a, b = profile(store, 1), profile(store, 2), profile(store, 3)
    rooms = []
    for title in ("first", "second", "third"):
        room = store.conversations.create(owner, kind="group", title=title)
        record = store.conversations.record(room.id)
        for member in (a, b):
            store.conversations.add_member(record, member)
        rooms.append(room.id)
    change_feed.drain()
    for who in (owner, a, b):
        assert listed(store, who) == rooms[::-1]

    said = say(store, rooms[0], a)  # the request writes the message, nothing per member
    say(store, rooms[1], b)
    say(store, rooms[0], owner)
    change_feed.drain()
    for who in (owner, a, b):
        assert listed(store, who) == [rooms[0], rooms[1], rooms[2]]
    assert store.conversations.record(rooms[0]).updated_at > said

    # Delivered again (a retried batch): nothing moves back.
    again = in_process_feed(store_resources(store))
    again.drain()
    for who in (owner, a, b):
        assert listed(store, who) == [rooms[0], rooms[1], rooms[2]]


def store_resources(store: Store) -> LocalResources:
    """The moto resources of this test, read back from the store's table (for a second feed)."""
    table = store.conversations.table
    endpoint = table.meta.client.meta.endpoint_url
    return LocalResources(
        endpoint_url=endpoint,
        region=table.meta.client.meta.region_name,
        table_names={"chat": table.name},
        user_pool_id="",
        client_id="",
        jwks_url="",
        issuer="",
        model_api_key_parameter="",
    )


def test_a_rename_reaches_every_members_list(store: Store, change_feed: StreamPoller) -> None:
    owner, friend = profile(store, 1), profile(store, 2)
    room = store.conversations.create(owner, kind="group", title="Old")
    store.conversations.add_member(store.conversations.record(room.id), friend)
    Conversations(store).rename(room.id, owner.id, "New")
    # The list shows the new title at once (from META), before the feed copies it to members.
    for who in (owner, friend):
        assert [c.title for c in store.conversations.list_for(who.id, limit=5, cursor=None)[0]] == [
            "New"
        ]
    change_feed.drain()
    member = store.conversations.table.get_item(
        Key={"pk": f"CONV#{room.id}", "sk": f"MEMBER#{friend.id}"}, ConsistentRead=True
    )["Item"]
    assert member["title"] == "New"  # and the member's copy follows through the feed
    for who in (owner, friend):
        assert [c.title for c in store.conversations.list_for(who.id, limit=5, cursor=None)[0]] == [
            "New"
        ]


def reply(store: Store, conversation_id: str, asker: Profile, status: str, tokens: tuple[int, int]):
    question, _ = store.messages.put_user_message(
        conversation_id, author_id=asker.id, author_name=asker.name, content="q"
    )
    reply_id = new_ulid()
    store.messages.begin_reply(
        conversation_id, reply_id, reply_to=question.id, requested_by=asker.id
    )
    store.messages.finish_reply(
        conversation_id,
        reply_id,
        content="a",
        seq=1,
        status=status,  # type: ignore[arg-type]
        usage=Usage(input_tokens=tokens[0], output_tokens=tokens[1]),
    )


def today_and_month(store: Store, who: Profile) -> tuple[Counts, Counts]:
    created = store.conversations.list_for(who.id, limit=1, cursor=None)[0][0].created_at
    return store.rollups.day_and_month(who.id, created[:10])


def test_usage_rollups_count_messages_tokens_stops_and_failures(
    store: Store, change_feed: StreamPoller
) -> None:
    me, other = profile(store, 1), profile(store, 2)
    chat = store.conversations.create(me, kind="assistant", title="t")
    reply(store, chat.id, me, "complete", (10, 20))
    reply(store, chat.id, me, "stopped", (5, 1))
    reply(store, chat.id, me, "failed", (3, 0))
    say(store, chat.id, me)
    change_feed.drain()
    day, month = today_and_month(store, me)
    expected = Counts(messages=4, tokens_in=18, tokens_out=21, stopped=1, failed=1, replies=3)
    assert day == expected
    assert month == expected
    assert store.rollups.day_and_month(other.id, DAY) == (Counts(), Counts())


def test_a_redelivered_batch_counts_usage_once(
    store: Store, parley_env: dict[str, str], aws: LocalResources
) -> None:
    me = profile(store, 1)
    chat = store.conversations.create(me, kind="assistant", title="t")
    reply(store, chat.id, me, "complete", (7, 11))
    say(store, chat.id, me)
    batches: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> Any:
        batches.append(event)
        return invoke_in_process(event)

    feed = in_process_feed(aws)
    feed.invoke = recording
    feed.drain()
    once = today_and_month(store, me)
    assert once[0] == Counts(messages=2, tokens_in=7, tokens_out=11, replies=1)

    # Lambda retries a whole batch after a failure; two retries may even overlap.
    for event in batches:
        assert invoke_in_process(event) == {"batchItemFailures": []}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(invoke_in_process, [e for e in batches for _ in range(4)]))
    assert all(r == {"batchItemFailures": []} for r in results)
    assert today_and_month(store, me) == once


def test_a_poisoned_record_goes_to_the_dlq_while_the_rest_succeed_and_redrive_replays_it(
    store: Store, aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"stream-dlq-{new_ulid()}")["QueueUrl"]
    feed = in_process_feed(aws, dead_letter_queue=queue)
    me = profile(store, 1)
    chat = store.conversations.create(me, kind="assistant", title="t")
    feed.drain()
    poison = "poison"
    original = rollups_module.counts_of

    def broken(change: Any) -> Any:  # a bug that only this message's content triggers
        if change.new is not None and change.new.get("content") == poison:
            raise RuntimeError("a bug in the rollups")
        return original(change)

    monkeypatch.setattr(rollups_module, "counts_of", broken)
    for text in ("one", "two", poison, "three", "four"):
        say(store, chat.id, me, text)
    invocations = feed.invocations
    feed.drain()

    assert feed.dead_lettered == 1  # bisected down to the one record, retried, then given up
    assert feed.invocations - invocations > 1
    assert today_and_month(store, me)[0].messages == 4  # the rest of the batch succeeded
    assert listed(store, me) == [chat.id]
    dead = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"]
    info = json.loads(dead[0]["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]

    # Redrive while the bug is still there: the message stays in the queue.
    streams = boto3.client("dynamodbstreams")
    report = replay(sqs, queue, streams, invoke_in_process, key_prefix="CONV#")
    assert report.replayed == 0
    assert len(report.kept) == 1
    assert today_and_month(store, me)[0].messages == 4

    # The fix is deployed: redrive replays it, once.
    monkeypatch.setattr(rollups_module, "counts_of", original)
    sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=dead[0]["ReceiptHandle"], VisibilityTimeout=0
    )
    for _ in range(2):
        replay(sqs, queue, streams, invoke_in_process, key_prefix="CONV#")
    assert today_and_month(store, me)[0].messages == 5
    assert sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0).get("Messages", []) == []


def test_delete_answers_at_once_and_the_feed_purges_in_passes(
    store: Store,
    change_feed: StreamPoller,
    parley_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("parley.cleanup.PURGE_LIMIT", 7)
    owner, friend = profile(store, 1), profile(store, 2)
    room = store.conversations.create(owner, kind="group", title="Room")
    store.conversations.add_member(store.conversations.record(room.id), friend)
    kept = store.conversations.create(friend, kind="assistant", title="Mine")
    for i in range(20):
        say(store, room.id, owner, f"m{i}")
    say(store, kept.id, friend)
    change_feed.drain()

    Conversations(store).delete(room.id, owner.id)
    assert listed(store, friend) == [kept.id]  # gone from every list before the purge
    assert listed(store, owner) == []
    with pytest.raises(ConversationNotFound):
        say(store, room.id, friend, "late")
    with pytest.raises(ConversationNotFound):
        Conversations(store).members(room.id, friend.id)

    change_feed.drain()
    table = boto3.resource("dynamodb").Table(parley_env["CHAT_TABLE_NAME"])
    left = table.query(
        KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": f"CONV#{room.id}"}
    )["Items"]
    assert left == []
    assert listed(store, friend) == [kept.id]
    assert len(store.messages.page(kept.id, limit=10, cursor=None)[0]) == 1
    assert today_and_month(store, friend)[0].messages == 1  # usage is history: kept
