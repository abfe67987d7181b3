"""Fan-out through the real boto3 management client to the loopback @connections endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from parley.realtime.fanout import Broadcaster, RoomMembers
from parley.realtime.protocol import TypingEvent
from parley.store.connections import ConnectionsRepository
from tasks.local.bootstrap import LocalResources
from tests.support.connections_endpoint import ConnectionsEndpoint

ROOM = "01JDX3Z8N4Q7RM2V5K6B9C1T0E"


@pytest.fixture
def endpoint() -> Iterator[ConnectionsEndpoint]:
    with ConnectionsEndpoint() as server:
        yield server


@pytest.fixture
def connections(aws: LocalResources) -> ConnectionsRepository:
    return ConnectionsRepository(boto3.resource("dynamodb").Table(aws.connections_table))


def broadcaster(
    connections: ConnectionsRepository, endpoint: ConnectionsEndpoint, pool: int = 8
) -> Broadcaster:
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint.url,
        config=Config(max_pool_connections=pool),
    )
    return Broadcaster(connections, client, pool_size=pool)


def event(user: str = "u0") -> TypingEvent:
    return TypingEvent(conversation_id=ROOM, user_id=user, name="Ada", is_typing=True)


def everyone(connections: ConnectionsRepository) -> RoomMembers:
    """Every subscriber is a member."""
    return RoomMembers.fixed({s.user_id for s in connections.subscribers(ROOM)})


def join(connections: ConnectionsRepository, *pairs: tuple[str, str]) -> None:
    for connection_id, user in pairs:
        connections.connect(connection_id, user, user)
        connections.subscribe(connection_id, ROOM)


def test_every_subscriber_gets_the_event_once(connections, endpoint) -> None:  # type: ignore[no-untyped-def]
    ids = [(f"c{i}=", f"u{i}") for i in range(12)]
    join(connections, *ids)

    result = broadcaster(connections, endpoint).broadcast(
        ROOM, event(), members=everyone(connections)
    )

    assert (result.recipients, result.delivered, result.failed, result.stale) == (12, 12, 0, ())
    for connection_id, _ in ids:
        assert endpoint.events(connection_id) == [event().model_dump(by_alias=True)]


def test_posts_run_concurrently_within_the_pool_bound(connections, endpoint) -> None:  # type: ignore[no-untyped-def]
    join(connections, *[(f"c{i}=", f"u{i}") for i in range(24)])
    endpoint.latency = 0.05

    result = broadcaster(connections, endpoint, pool=6).broadcast(
        ROOM, event(), members=everyone(connections)
    )

    assert result.delivered == 24
    assert 2 <= endpoint.max_in_flight <= 6
    # 24 posts of 50 ms each, 6 at a time: about 4 rounds, far from the 1.2 s of one by one
    assert result.duration_ms < 24 * 50


def test_gone_removes_only_the_stale_subscription(connections, endpoint) -> None:  # type: ignore[no-untyped-def]
    join(connections, ("sender=", "u1"), ("stale=", "u2"), ("other=", "u3"))
    endpoint.mark_gone("stale=")

    result = broadcaster(connections, endpoint).broadcast(
        ROOM, event(), members=everyone(connections)
    )

    assert result.stale == ("stale=",)
    assert result.delivered == 2
    assert sorted(s.connection_id for s in connections.subscribers(ROOM)) == ["other=", "sender="]
    assert connections.get("stale=") is None
    assert connections.get("sender=") is not None


def test_exclusions_and_non_members(connections, endpoint) -> None:  # type: ignore[no-untyped-def]
    join(connections, ("a1=", "alice"), ("a2=", "alice"), ("b=", "bob"), ("x=", "mallory"))

    result = broadcaster(connections, endpoint).broadcast(
        ROOM, event("alice"), exclude_users=("alice",), members=RoomMembers.fixed({"alice", "bob"})
    )

    assert result.recipients == 1
    assert [c for c, evs in endpoint.all_events().items() if evs] == ["b="]
    # a subscriber who is no longer a member loses the subscription
    assert "x=" not in {s.connection_id for s in connections.subscribers(ROOM)}


def test_other_failures_are_counted_not_raised(connections, endpoint) -> None:  # type: ignore[no-untyped-def]
    join(connections, ("ok=", "u1"), ("big=", "u2"))
    small = ConnectionsEndpoint(frame_limit=10).start()
    try:
        result = broadcaster(connections, small).broadcast(
            ROOM, event(), members=everyone(connections)
        )
    finally:
        small.stop()
    assert result.failed == 2
    assert result.stale == ()
    assert len(connections.subscribers(ROOM)) == 2  # not gone: kept


def test_send_to_one_connection(connections, endpoint) -> None:  # type: ignore[no-untyped-def]
    sender = broadcaster(connections, endpoint)
    assert sender.send("solo=", event()) is True
    endpoint.mark_gone("solo=")
    assert sender.send("solo=", event()) is False
    assert endpoint.events("solo=") == [event().model_dump(by_alias=True)]


def test_a_subscriber_unknown_to_the_member_list_is_checked_again_before_being_dropped(
    connections, endpoint
) -> None:  # type: ignore[no-untyped-def]
    join(connections, ("a=", "alice"), ("c=", "carol"))
    members = {"alice"}
    reads: list[int] = []

    def load() -> set[str]:
        reads.append(1)
        return set(members)

    room = RoomMembers(load, known={"alice"})
    members.add("carol")  # added after the list was read (a reply started before)

    result = broadcaster(connections, endpoint).broadcast(ROOM, event(), members=room)

    assert result.recipients == 2
    assert len(reads) == 1  # read once more, because of the stranger
    assert {s.connection_id for s in connections.subscribers(ROOM)} == {"a=", "c="}


def test_the_member_list_is_read_again_once_it_is_older_than_its_max_age(connections) -> None:  # type: ignore[no-untyped-def]
    now = [0.0]
    members = {"alice", "bob"}
    room = RoomMembers(lambda: set(members), max_age=1.0, clock=lambda: now[0])
    assert room.current() == {"alice", "bob"}
    members.discard("bob")
    now[0] = 0.5
    assert room.current() == {"alice", "bob"}  # young enough: trusted
    now[0] = 1.0
    assert room.current() == {"alice"}
