"""The connections repository against a real (moto server) table built from tables.yaml."""

from __future__ import annotations

import time

import boto3
import pytest

from parley.store.connections import (
    MAX_CONNECTION_SECONDS,
    ConnectionGone,
    ConnectionsRepository,
    Rate,
    RateLimited,
    Subscriber,
    TokenExpired,
    TooManyConnections,
)
from tasks.local.bootstrap import LocalResources

ROOM = "01JDX3Z8N4Q7RM2V5K6B9C1T0E"
OTHER_ROOM = "01JDX40A1B2C3D4E5F6G7H8J9K"


@pytest.fixture
def table(aws: LocalResources):  # type: ignore[no-untyped-def]
    return boto3.resource("dynamodb").Table(aws.connections_table)


@pytest.fixture
def repo(table) -> ConnectionsRepository:  # type: ignore[no-untyped-def]
    return ConnectionsRepository(table)


def keys(table) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Connection and subscription items (the users' lists of open connections aside)."""
    return {(i["pk"], i["sk"]) for i in table.scan()["Items"] if i["sk"] != "CONNS"}


def open_connections(table, user: str) -> set[str]:  # type: ignore[no-untyped-def]
    item = table.get_item(Key={"pk": f"USER#{user}", "sk": "CONNS"}).get("Item") or {}
    return set(item.get("conns", {}))


def test_subscribers_are_the_room_only(repo: ConnectionsRepository) -> None:
    repo.connect("a=", "u1", "Ada")
    repo.connect("b=", "u2", "Bo")
    repo.connect("c=", "u3", "Cy")
    repo.subscribe("a=", ROOM)
    repo.subscribe("b=", ROOM)
    repo.subscribe("c=", OTHER_ROOM)

    assert sorted(repo.subscribers(ROOM), key=lambda s: s.connection_id) == [
        Subscriber("a=", "u1", "Ada"),
        Subscriber("b=", "u2", "Bo"),
    ]
    # a Query reads the room's items only, whatever else the table holds
    assert repo.items_read == 2


def test_every_item_expires_after_the_longest_connection_life(repo, table) -> None:  # type: ignore[no-untyped-def]
    before = int(time.time())
    repo.connect("a=", "u1", "Ada")
    repo.subscribe("a=", ROOM)
    for item in table.scan()["Items"]:
        assert before + MAX_CONNECTION_SECONDS <= int(item["expires_at"])
        assert int(item["expires_at"]) <= int(time.time()) + MAX_CONNECTION_SECONDS + 3600


def test_disconnect_removes_the_connection_and_all_its_subscriptions(repo, table) -> None:  # type: ignore[no-untyped-def]
    repo.connect("a=", "u1", "Ada")
    repo.connect("b=", "u2", "Bo")
    repo.subscribe("a=", ROOM)
    repo.subscribe("a=", OTHER_ROOM)
    repo.subscribe("b=", ROOM)

    gone = repo.disconnect("a=")

    assert gone is not None
    assert gone.subscriptions == {ROOM, OTHER_ROOM}
    assert keys(table) == {("CONN#b=", "META"), (f"CONV#{ROOM}", "CONN#b=")}
    assert open_connections(table, "u1") == set()
    assert open_connections(table, "u2") == {"b="}
    assert repo.disconnect("a=") is None  # a repeated $disconnect is harmless


def test_unsubscribe_and_subscribe_after_disconnect(repo, table) -> None:  # type: ignore[no-untyped-def]
    repo.connect("a=", "u1", "Ada")
    repo.subscribe("a=", ROOM)
    repo.unsubscribe("a=", ROOM)
    repo.unsubscribe("a=", OTHER_ROOM)  # not followed: no error
    assert repo.subscribers(ROOM) == []
    connection = repo.get("a=")
    assert connection is not None
    assert connection.subscriptions == frozenset()

    repo.disconnect("a=")
    with pytest.raises(ConnectionGone):
        repo.subscribe("a=", ROOM)
    assert keys(table) == set()


def test_remove_stale_forgets_exactly_the_gone_connection(repo, table) -> None:  # type: ignore[no-untyped-def]
    for cid, user in (("a=", "u1"), ("b=", "u2")):
        repo.connect(cid, user, user)
        repo.subscribe(cid, ROOM)
        repo.subscribe(cid, OTHER_ROOM)

    repo.remove_stale(ROOM, "b=")

    assert keys(table) == {
        ("CONN#a=", "META"),
        (f"CONV#{ROOM}", "CONN#a="),
        (f"CONV#{OTHER_ROOM}", "CONN#a="),
    }


def test_subscribers_paginate_past_one_page(repo, table) -> None:  # type: ignore[no-untyped-def]
    big = "x" * 300_000  # ~300 KB of names across items forces DynamoDB's 1 MB pages
    with table.batch_writer() as batch:
        for i in range(12):
            batch.put_item(
                Item={
                    "pk": f"CONV#{ROOM}",
                    "sk": f"CONN#{i}",
                    "user_id": f"u{i}",
                    "name": big[:100_000],
                }
            )
    assert len(repo.subscribers(ROOM)) == 12


def test_a_users_open_connections_are_capped(repo, table) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        repo.connect(f"c{n}=", "u1", "Ada", max_per_user=3)
    with pytest.raises(TooManyConnections):
        repo.connect("c3=", "u1", "Ada", max_per_user=3)
    repo.connect("c0=", "u1", "Ada", max_per_user=3)  # a repeated $connect is not a new one
    repo.connect("other=", "u2", "Bo", max_per_user=3)  # the cap is per user
    repo.remove_stale(ROOM, "c1=")  # a connection API Gateway says is gone frees its place
    repo.connect("c3=", "u1", "Ada", max_per_user=3)
    assert open_connections(table, "u1") == {"c0=", "c2=", "c3="}


def test_the_guard_admits_a_burst_then_one_per_interval_and_says_why_it_refuses(table) -> None:  # type: ignore[no-untyped-def]
    now = [1000.0]
    repo = ConnectionsRepository(table, clock=lambda: now[0])
    repo.connect("a=", "u1", "Ada", token_expires_at=2000)
    rate = Rate(burst=3, every=2.0)
    for _ in range(3):
        repo.admit("a=", "ask", rate)
    with pytest.raises(RateLimited) as limited:
        repo.admit("a=", "ask", rate)
    assert limited.value.retry_after == pytest.approx(2.0)
    repo.admit("a=", "other", rate)  # buckets are apart
    now[0] += 2.0
    repo.admit("a=", "ask", rate)  # one more after the interval
    with pytest.raises(RateLimited):
        repo.admit("a=", "ask", rate)
    now[0] = 2000.0
    with pytest.raises(TokenExpired):
        repo.admit("a=", "ask", rate)
    with pytest.raises(ConnectionGone):
        repo.admit("gone=", "ask", rate)
