"""The scheduled maintenance (`parley.maintenance`) on moto: retention, interrupted replies,
reply slots nobody settled, and connections a lost `$disconnect` left behind.

Each test gets its own `chat` table (maintenance looks at everything due in the table, so
tests must not see each other's items) and moves the clock forward instead of waiting.
"""

from __future__ import annotations

import threading
import time
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from parley.errors import ConversationNotFound
from parley.ids import iso, new_ulid, today
from parley.maintenance import ABANDONED_AFTER_SECONDS, Maintenance
from parley.models import Profile, Usage
from parley.quota import REPLY_SLOT_SECONDS, Quota
from parley.realtime.protocol import MessageFailed
from parley.replies import INTERRUPTED_REASON
from parley.store import Store
from parley.store.connections import ConnectionsRepository
from parley.store.housekeeping import HousekeepingRepository
from tasks.local.bootstrap import create_table_args, load_tables
from tests.unit.conftest import fresh_id

DAY = 86_400


class Room:
    """Records what maintenance tells rooms (the broadcaster's one method it uses)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def broadcast(self, conversation_id: str, event: Any, **_: Any) -> None:
        self.events.append((conversation_id, event))


@pytest.fixture
def tables(fast_store: Store) -> tuple[Store, Any, Any]:
    specs = load_tables()
    client = boto3.client("dynamodb")
    chat = fresh_id("maint-chat-")
    conns = fresh_id("maint-conns-")
    client.create_table(**create_table_args(chat, specs["chat"]))
    client.create_table(**create_table_args(conns, specs["connections"]))
    resource = boto3.resource("dynamodb")
    table = resource.Table(chat)
    # The same repositories as the module's store, over this test's own table.
    store = Store(**{f.name: type(getattr(fast_store, f.name))(table) for f in fields(Store)})
    return store, table, resource.Table(conns)


def _maintenance(
    store: Store, table: Any, connections: Any, room: Room, alive: Any = None
) -> Maintenance:
    return Maintenance(
        store=store,
        housekeeping=HousekeepingRepository(table),
        connections=ConnectionsRepository(connections),
        broadcaster=room,  # type: ignore[arg-type]
        quota=Quota(store, daily_tokens=0, max_output_tokens=100),
        alive=alive or (lambda _id: True),
    )


def _owner(store: Store) -> Profile:
    profile = Profile(
        id=fresh_id("u-"), email=f"{new_ulid().lower()}@example.com", name="Owner", created_at=""
    )
    return profile


def _at(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC))


def _meta(table: Any, conversation_id: str) -> dict[str, Any] | None:
    item = table.get_item(Key={"pk": f"CONV#{conversation_id}", "sk": "META"}).get("Item")
    return dict(item) if item else None


# -- retention ------------------------------------------------------------------------------------
def test_retention_deletes_exactly_the_conversations_untouched_past_the_cutoff(
    tables: tuple[Store, Any, Any],
) -> None:
    store, table, conns = tables
    owner = _owner(store)
    now = time.time() + 40 * DAY  # everything created now is 40 days old then
    due = store.conversations.create(owner, kind="assistant", title="old")
    recent = store.conversations.create(owner, kind="group", title="recent")
    store.conversations.touch(recent.id, _at(now - 5 * DAY))  # active 5 days before "now"
    edge = store.conversations.create(owner, kind="assistant", title="edge")
    store.conversations.touch(edge.id, _at(now - 30 * DAY + 60))  # a minute inside the window
    gone = store.conversations.create(owner, kind="assistant", title="deleted by its owner")
    store.conversations.mark_deleted(gone.id, owner_id=owner.id)
    before_gone = _meta(table, gone.id)

    report = _maintenance(store, table, conns, Room()).run(retention_days=30, now=now)

    assert report.conversations_deleted == 1
    assert "deleted_at" in (_meta(table, due.id) or {})
    for kept in (recent, edge):
        assert "deleted_at" not in (_meta(table, kept.id) or {}), kept.title
    assert _meta(table, gone.id) == before_gone  # not deleted twice
    with pytest.raises(ConversationNotFound):
        store.conversations.record(due.id)


def test_retention_is_off_by_default(tables: tuple[Store, Any, Any]) -> None:
    store, table, conns = tables
    old = store.conversations.create(_owner(store), kind="assistant", title="old")
    report = _maintenance(store, table, conns, Room()).run(
        retention_days=0, now=time.time() + 3650 * DAY
    )
    assert report.conversations_deleted == 0
    assert "deleted_at" not in (_meta(table, old.id) or {})


def test_retention_keeps_a_conversation_touched_after_it_was_found(
    tables: tuple[Store, Any, Any],
) -> None:
    """A message lands between the index read and the delete: the conversation stays."""
    store, table, conns = tables
    owner = _owner(store)
    now = time.time() + 40 * DAY
    raced = store.conversations.create(owner, kind="assistant", title="raced")
    maintenance = _maintenance(store, table, conns, Room())
    found = maintenance.housekeeping.older_than

    def then_touched(*args: Any, **kwargs: Any) -> Any:
        for key in found(*args, **kwargs):
            store.conversations.touch(raced.id, _at(now))  # activity right now
            yield key

    maintenance.housekeeping.older_than = then_touched  # type: ignore[method-assign]
    report = maintenance.run(retention_days=30, now=now)
    assert report.conversations_deleted == 0
    assert "deleted_at" not in (_meta(table, raced.id) or {})


# -- interrupted replies --------------------------------------------------------------------------
def _crashed_reply(store: Store, quota: Quota) -> tuple[str, str, str, str]:
    """A reply whose worker died mid-stream: claimed, begun, some text stored, never finished."""
    owner = _owner(store)
    conversation = store.conversations.create(owner, kind="assistant", title=None)
    question, _ = store.messages.put_user_message(
        conversation.id, author_id=owner.id, author_name="Owner", content="Tell me"
    )
    reply_id = new_ulid()
    quota.claim(owner.id, conversation.id, reply_id, "Tell me")
    store.messages.begin_reply(
        conversation.id, reply_id, reply_to=question.id, requested_by=owner.id
    )
    store.messages.progress(conversation.id, reply_id, "Half an ans", 3)
    return conversation.id, reply_id, question.id, owner.id


def test_a_crashed_workers_reply_is_marked_failed_and_its_claim_released(
    tables: tuple[Store, Any, Any],
) -> None:
    store, table, conns = tables
    room = Room()
    maintenance = _maintenance(store, table, conns, room)
    conversation_id, reply_id, question_id, user_id = _crashed_reply(store, maintenance.quota)
    assert store.usage.get(user_id, today())[1] > 0  # the claim holds tokens

    report = maintenance.run(retention_days=0, now=time.time() + ABANDONED_AFTER_SECONDS + 60)

    assert report.replies_failed == 1
    state = store.messages.reply(conversation_id, reply_id)
    assert state is not None
    assert (state.status, state.error, state.content) == (
        "failed",
        INTERRUPTED_REASON,
        "Half an ans",
    )
    assert state.announced
    assert store.messages.live_replies(conversation_id) == []
    used, reserved = store.usage.get(user_id, today())
    assert reserved == 0
    assert used.output_tokens > 0  # what was said is counted
    assert store.usage.held_slot(conversation_id, user_id) is None
    [(where, event)] = room.events
    assert where == conversation_id
    assert isinstance(event, MessageFailed)
    assert (event.message_id, event.reply_to, event.retryable) == (reply_id, question_id, True)
    # A second run finds nothing more to do.
    again = maintenance.run(retention_days=0, now=time.time() + ABANDONED_AFTER_SECONDS + 60)
    assert (again.replies_failed, again.slots_released) == (0, 0)


def test_a_reply_still_streaming_within_a_workers_life_is_left_alone(
    tables: tuple[Store, Any, Any],
) -> None:
    store, table, conns = tables
    room = Room()
    maintenance = _maintenance(store, table, conns, room)
    conversation_id, reply_id, _, user_id = _crashed_reply(store, maintenance.quota)
    report = maintenance.run(retention_days=0, now=time.time() + 60)
    assert (report.replies_failed, report.slots_released) == (0, 0)
    state = store.messages.reply(conversation_id, reply_id)
    assert state is not None
    assert state.status == "streaming"
    assert store.usage.held_slot(conversation_id, user_id) is not None
    assert room.events == []


def test_a_reply_its_worker_ends_meanwhile_is_not_failed(tables: tuple[Store, Any, Any]) -> None:
    """The worker's retry completes the reply while maintenance looks at it: one ending wins."""
    store, table, conns = tables
    room = Room()
    maintenance = _maintenance(store, table, conns, room)
    conversation_id, reply_id, _, _ = _crashed_reply(store, maintenance.quota)
    live = store.messages.live_replies
    barrier = threading.Event()

    def then_completed(conversation: str) -> Any:
        states = live(conversation)
        store.messages.finish_reply(
            conversation, reply_id, content="Whole answer", seq=9, status="complete",
            usage=Usage(input_tokens=3, output_tokens=4),
        )  # fmt: skip
        barrier.set()
        return states

    store.messages.live_replies = then_completed  # type: ignore[method-assign]
    report = maintenance.run(retention_days=0, now=time.time() + ABANDONED_AFTER_SECONDS + 60)
    assert barrier.is_set()
    assert report.replies_failed == 0
    state = store.messages.reply(conversation_id, reply_id)
    assert state is not None
    assert (state.status, state.content) == ("complete", "Whole answer")
    assert room.events == []


# -- reply slots ----------------------------------------------------------------------------------
def test_a_slot_nobody_settled_is_released_after_its_expiry(tables: tuple[Store, Any, Any]) -> None:
    store, table, conns = tables
    maintenance = _maintenance(store, table, conns, Room())
    owner = _owner(store)
    conversation = store.conversations.create(owner, kind="assistant", title=None)
    claim = maintenance.quota.claim(owner.id, conversation.id, new_ulid(), "question")
    assert store.usage.get(owner.id, today())[1] == claim.tokens

    early = maintenance.run(retention_days=0, now=time.time() + REPLY_SLOT_SECONDS - 30)
    assert early.slots_released == 0
    report = maintenance.run(retention_days=0, now=time.time() + REPLY_SLOT_SECONDS + 60)
    assert report.slots_released == 1
    used, reserved = store.usage.get(owner.id, today())
    assert (reserved, used.input_tokens, used.output_tokens) == (0, 0, 0)
    assert store.usage.held_slot(conversation.id, owner.id) is None


# -- connections ----------------------------------------------------------------------------------
def test_connections_api_gateway_forgot_are_removed_with_their_subscriptions(
    tables: tuple[Store, Any, Any],
) -> None:
    store, table, conns = tables
    repo = ConnectionsRepository(conns)
    user = fresh_id("u-")
    repo.connect("live", user, "Ann")
    repo.connect("lost", user, "Ann")
    repo.subscribe("live", "room1")
    repo.subscribe("lost", "room1")
    conns.put_item(Item={"pk": "CONV#room2", "sk": "CONN#ghost", "user_id": user, "name": "Ann"})
    asked: list[str] = []

    def alive(connection_id: str) -> bool:
        asked.append(connection_id)
        return connection_id != "lost"

    report = _maintenance(store, table, conns, Room(), alive).run(retention_days=0)
    assert (report.connections_removed, report.subscriptions_removed) == (1, 1)
    assert sorted(asked) == ["live", "lost"]
    assert [s.connection_id for s in repo.subscribers("room1")] == ["live"]
    assert repo.subscribers("room2") == []
    assert repo.get("lost") is None
    assert repo.get("live") is not None
    conns_item = conns.get_item(Key={"pk": f"USER#{user}", "sk": "CONNS"})["Item"]
    assert set(conns_item["conns"]) == {"live"}
