"""The connections repository against a real (moto server) table built from tables.yaml."""

from __future__ import annotations

import time

import boto3
import pytest

from parley.store.connections import (
    MAX_CONNECTION_SECONDS,
    ConnectionGone,
    ConnectionsRepository,
    Subscriber,
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
    return {(i["pk"], i["sk"]) for i in table.scan()["Items"]}


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
