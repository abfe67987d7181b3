"""A reply's subscriber list is read again when it changes, not per chunk — and stays exact.

The writer reads the reply's marker between chunks (stop flag and listener version); a
subscribe, unsubscribe or removal moves the version (`listeners_changed`). These tests drive
a real `ReplyWriter` over moto with a recording broadcaster and a provider that lets the test
act between deltas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from parley.bots import Delta, Done
from parley.jobs import ReplyJob
from parley.models import Usage
from parley.realtime.fanout import BroadcastResult, RoomMembers
from parley.replies import ReplyWriter
from parley.store import Store
from parley.store.connections import Subscriber
from tests.unit.conftest import fresh_id


class Recorder:
    """The broadcaster's seam: who follows the room, and what each connection got."""

    def __init__(self) -> None:
        self.following: dict[str, Subscriber] = {}
        self.reads = 0
        self.got: dict[str, list[Any]] = {}

    def subscribers(self, conversation_id: str) -> list[Subscriber]:
        self.reads += 1
        return list(self.following.values())

    def broadcast(
        self,
        conversation_id: str,
        event: Any,
        *,
        members: RoomMembers,
        subscribers: list[Subscriber] | None = None,
        **_: Any,
    ) -> BroadcastResult:
        room = subscribers if subscribers is not None else self.subscribers(conversation_id)
        allowed = members.current()
        targets = [s.connection_id for s in room if s.user_id in allowed]
        for connection_id in targets:
            self.got.setdefault(connection_id, []).append(event)
        return BroadcastResult(len(targets), len(targets), (), 0, 0.0)

    def seqs(self, connection_id: str) -> list[int]:
        return [e.seq for e in self.got.get(connection_id, []) if e.type == "message.delta"]


class Quota:
    def settle(self, claim: Any, used: Usage) -> None:
        pass


class Scripted:
    """A provider whose n-th delta first runs `before[n]` (the room acting mid-reply)."""

    def __init__(self, pieces: list[str], before: dict[int, Callable[[], None]]) -> None:
        self.pieces = pieces
        self.before = before

    def stream(self, turns: Any, **kwargs: Any) -> Iterator[Delta | Done]:
        for n, piece in enumerate(self.pieces):
            if n in self.before:
                self.before[n]()
            yield Delta(text=piece)
        yield Done(usage=Usage(input_tokens=1, output_tokens=len(self.pieces)), stop_reason="end")


def _room(store: Store) -> tuple[str, str, str]:
    owner = store.profiles.ensure(fresh_id("u-"), f"{fresh_id()}@example.com", "Owner")
    guest = store.profiles.ensure(fresh_id("u-"), f"{fresh_id()}@example.com", "Guest")
    room = store.conversations.create(owner, kind="group", title="Room")
    store.conversations.add_member(store.conversations.record(room.id), guest)
    store.messages.put_user_message(
        room.id, author_id=owner.id, author_name=owner.name, content="@assistant count"
    )
    return room.id, owner.id, guest.id


def _writer(store: Store, recorder: Recorder, provider: Scripted) -> ReplyWriter:
    return ReplyWriter(
        store=store,
        quota=Quota(),  # type: ignore[arg-type]
        broadcaster=recorder,  # type: ignore[arg-type]
        provider=lambda: provider,  # type: ignore[arg-type, return-value]
        max_output_tokens=1000,
        history_token_budget=4000,
        interval=0.0,  # every delta is a frame
        persist_every=60.0,  # only the first chunk is persisted: snapshots are old
    )


def _job(store: Store, room: str, asker: str) -> ReplyJob:
    [question] = list(store.messages.page(room, limit=5, cursor=None)[0])
    return ReplyJob(
        conversation_id=room, reply_id=fresh_id(), reply_to=question.id, requested_by=asker
    )


def test_the_subscribers_are_read_once_while_nobody_comes_or_goes(fast_store: Store) -> None:
    room, owner, _ = _room(fast_store)
    recorder = Recorder()
    recorder.following["a="] = Subscriber(connection_id="a=", user_id=owner, name="Owner")
    pieces = [f"w{i} " for i in range(12)]

    outcome = _writer(fast_store, recorder, Scripted(pieces, {})).run(_job(fast_store, room, owner))

    assert outcome.status == "complete"
    assert recorder.seqs("a=") == list(range(1, 13))
    # message.created, the first chunk, message.completed: not one read per chunk
    assert recorder.reads == 3


def test_a_late_subscriber_gets_every_chunk_after_its_snapshot(fast_store: Store) -> None:
    """Joins mid-reply, after the one persisted chunk: snapshot seq 1, then 2…n, no gap."""
    room, owner, guest = _room(fast_store)
    recorder = Recorder()
    recorder.following["a="] = Subscriber(connection_id="a=", user_id=owner, name="Owner")
    job = _job(fast_store, room, owner)
    snapshot: list[int] = []

    def subscribe() -> None:  # what `subscribe` does: follow, snapshot, then tell the writers
        recorder.following["b="] = Subscriber(connection_id="b=", user_id=guest, name="Guest")
        [live] = fast_store.messages.live_replies(room)
        snapshot.append(live.seq)
        fast_store.messages.listeners_changed(room, [live.message_id])

    pieces = [f"w{i} " for i in range(10)]
    _writer(fast_store, recorder, Scripted(pieces, {6: subscribe})).run(job)

    assert snapshot == [1]
    assert recorder.seqs("b=") == list(range(2, 11))  # every chunk after the snapshot, in order
    assert recorder.seqs("a=") == list(range(1, 11))
    assert recorder.reads == 4  # created, first chunk, the change, completed


def test_an_unsubscribed_connection_hears_nothing_after_the_change(fast_store: Store) -> None:
    room, owner, guest = _room(fast_store)
    recorder = Recorder()
    recorder.following["a="] = Subscriber(connection_id="a=", user_id=owner, name="Owner")
    recorder.following["b="] = Subscriber(connection_id="b=", user_id=guest, name="Guest")

    def leave() -> None:
        del recorder.following["b="]
        fast_store.messages.listeners_changed(room)  # unsubscribe and removal: every live reply

    pieces = [f"w{i} " for i in range(8)]
    _writer(fast_store, recorder, Scripted(pieces, {4: leave})).run(_job(fast_store, room, owner))

    assert recorder.seqs("b=") == [1, 2, 3, 4]
    assert recorder.seqs("a=") == list(range(1, 9))
    assert [e.type for e in recorder.got["b="]][-1] == "message.delta"  # no completion either


def test_a_marker_that_is_gone_stays_gone(fast_store: Store) -> None:
    room, owner, _ = _room(fast_store)
    reply = fresh_id()
    question = _job(fast_store, room, owner).reply_to
    fast_store.messages.begin_reply(room, reply, reply_to=question, requested_by=owner)
    assert fast_store.messages.stream_signal(room, reply).listeners == 0
    fast_store.messages.listeners_changed(room)
    fast_store.messages.listeners_changed(room, [reply])
    signal = fast_store.messages.stream_signal(room, reply)
    assert (signal.stop, signal.listeners) == (False, 2)
    fast_store.messages.request_stop(room, reply)
    assert fast_store.messages.stream_signal(room, reply).stop

    fast_store.messages.finish_reply(room, reply, content="", seq=0, status="stopped")
    fast_store.messages.listeners_changed(room, [reply])  # no marker is made again
    assert fast_store.messages.live_replies(room) == []
    assert fast_store.messages.stream_signal(room, reply).listeners == 0
