"""Sharded fan-out: every connection of a big room gets every chunk once, in seq order, even
when the slices answer in any order and at any speed; a slice that fails twice is counted."""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from parley.realtime.fanout import Broadcaster, RoomMembers
from parley.realtime.protocol import MessageDelta
from parley.realtime.shards import ShardPoster, post_slice, shard_count
from parley.store.connections import Subscriber

ROOM = "01JDX3Z8N4Q7RM2V5K6B9C1T0E"
REPLY = "01JDX40C3D4E5F6G7H8J9K0M1N"


class Heard:
    """The sockets: what each connection received, in arrival order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frames: dict[str, list[int]] = {}
        self.gone = {"c007="}

    def post(self, connection_id: str, data: bytes) -> str:
        time.sleep(random.uniform(0, 0.004))
        if connection_id in self.gone:
            return "gone"
        with self.lock:
            self.frames.setdefault(connection_id, []).append(json.loads(data)["seq"])
        return "ok"


class Table:
    def __init__(self) -> None:
        self.removed: list[str] = []

    def remove_stale(self, conversation_id: str, connection_id: str) -> None:
        self.removed.append(connection_id)

    def subscribers(self, conversation_id: str) -> list[Subscriber]:
        return []  # the presence update after a 410: nobody else to tell here


def _fanout(heard: Heard, fail: set[int] | None = None) -> Any:
    """`fanout` invokes: each slice on its own pool after a random delay (slices race)."""
    pool = ThreadPoolExecutor(8)
    calls = {"n": 0}
    lock = threading.Lock()

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        time.sleep(random.uniform(0, 0.01))
        if fail and n in fail:
            raise RuntimeError("throttled")
        return post_slice(json.loads(json.dumps(payload)), heard.post, pool)

    return invoke


def _subscribers(n: int) -> list[Subscriber]:
    return [Subscriber(connection_id=f"c{i:03d}=", user_id=f"u{i}", name="") for i in range(n)]


def test_every_connection_hears_every_chunk_in_seq_order() -> None:
    heard, table = Heard(), Table()
    shards = ShardPoster(_fanout(heard), threshold=10, size=7)
    broadcaster = Broadcaster(table, None, shards=shards)  # type: ignore[arg-type]
    room = _subscribers(50)
    members = RoomMembers.fixed({s.user_id for s in room})
    for seq in range(1, 21):
        event = MessageDelta(conversation_id=ROOM, message_id=REPLY, seq=seq, delta=f"{seq} ")
        result = broadcaster.broadcast(ROOM, event, members=members, subscribers=room)
        assert result.recipients == len(room)
        room = [s for s in room if s.connection_id not in result.stale]

    assert shard_count(50, 7) == 8
    assert table.removed == ["c007="]  # the 410 came back to the worker, once
    assert len(heard.frames) == 49
    for frames in heard.frames.values():
        assert frames == list(range(1, 21))


def test_a_small_room_is_not_sharded() -> None:
    invoked: list[Any] = []
    shards = ShardPoster(lambda p: invoked.append(p) or {}, threshold=10, size=7)
    assert not shards.wanted(10)
    assert shards.wanted(11)


def test_a_slice_that_fails_twice_is_counted_and_the_others_are_delivered() -> None:
    heard = Heard()
    heard.gone = set()
    poster = ShardPoster(_fanout(heard, fail={1, 2, 3, 4, 5, 6}), threshold=1, size=5)
    ids = [f"c{i:03d}=" for i in range(20)]
    data = json.dumps({"seq": 1}).encode()

    outcomes = poster.post(ids, data)

    # 4 slices, 6 failed invokes: at least one slice failed twice, and none is lost silently
    assert len(outcomes) == 20
    failed = [c for c, o in zip(ids, outcomes, strict=True) if o == "failed"]
    assert failed, outcomes
    assert len(failed) % 5 == 0
    assert sorted(heard.frames) == sorted(set(ids) - set(failed))
