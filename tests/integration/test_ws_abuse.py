"""Flooding and outliving a token over the WebSocket: per-connection rate limits, a cap on a
user's open connections, and a connection that ends with its token.

Every handler runs as deployed against moto and the loopback @connections endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import boto3
import pytest

from tasks.local.bootstrap import LocalResources
from tests.support.cognito import TestUser
from tests.support.connections_endpoint import ConnectionsEndpoint, WsClient


def store():  # type: ignore[no-untyped-def]
    from parley.store import get_store

    return get_store()


def make_room(owner: TestUser, *members: TestUser) -> str:
    profiles = store().profiles
    room = store().conversations.create(
        profiles.ensure(owner.sub, owner.email, owner.name), kind="group", title="Room"
    )
    for member in members:
        profile = profiles.ensure(member.sub, member.email, member.name)
        store().conversations.add_member(store().conversations.record(room.id), profile)
    return str(room.id)


@pytest.fixture
def online(endpoint: ConnectionsEndpoint) -> Callable[[TestUser], WsClient]:
    def connect(user: TestUser) -> WsClient:
        client = WsClient(endpoint, user.id_token)
        answer = client.connect()
        assert answer["statusCode"] == 200, answer
        return client

    return connect


@pytest.fixture
def alice(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user(name="Alice")


@pytest.fixture
def bob(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user(name="Bob")


def codes(client: WsClient) -> list[str]:
    return [e["code"] for e in client.events("error")]


def test_typing_reaches_the_room_at_most_once_per_two_seconds(alice, bob, online) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice, bob)
    a, b = online(alice), online(bob)
    for client in (a, b):
        client.send("subscribe", conversationId=room)

    started = time.monotonic()
    for _ in range(50):
        a.send("typing", conversationId=room, isTyping=True)
    elapsed = time.monotonic() - started

    heard = len(b.events("typing"))
    assert 1 <= heard <= 1 + int(elapsed / 2)  # one per 2 s at most
    assert set(codes(a)) == {"rate_limited"}
    assert len(codes(a)) == 50 - heard


def test_a_send_flood_is_refused_past_the_burst_and_stores_nothing_refused(
    alice, bob, online, endpoint
) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice, bob)
    a = online(alice)
    a.send("subscribe", conversationId=room)

    for i in range(30):
        a.send("sendMessage", conversationId=room, clientMessageId=f"m{i}", content=f"spam {i}")

    stored, _ = store().messages.page(room, limit=100, cursor=None)
    refused = [e for e in a.events("error") if e["code"] == "rate_limited"]
    assert 0 < len(stored) < 30
    assert len(stored) + len(refused) == 30
    assert {e["action"] for e in refused} == {"sendMessage"}
    assert "try again" in refused[0]["message"]
    # the socket stays open and other actions still work
    assert a.connection_id not in endpoint.deleted
    a.send("typing", conversationId=room, isTyping=True)
    assert len(codes(a)) == len(refused)


def test_a_subscribe_flood_is_refused_past_the_burst(alice, online) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice)
    a = online(alice)
    for _ in range(60):
        a.send("subscribe", conversationId=room)
    assert "rate_limited" in codes(a)
    assert len(a.events("subscribed")) < 60


def test_a_user_has_at_most_ten_open_connections(alice, endpoint) -> None:  # type: ignore[no-untyped-def]
    clients = [WsClient(endpoint, alice.id_token) for _ in range(11)]
    answers = [client.connect()["statusCode"] for client in clients]
    assert answers == [200] * 10 + [429]

    clients[0].disconnect()
    again = WsClient(endpoint, alice.id_token)
    assert again.connect()["statusCode"] == 200


def test_connections_lost_without_a_disconnect_do_not_count_for_ever(
    alice, endpoint, aws: LocalResources
) -> None:  # type: ignore[no-untyped-def]
    clients = [WsClient(endpoint, alice.id_token) for _ in range(10)]
    for client in clients:
        assert client.connect()["statusCode"] == 200
    # API Gateway ends every connection within two hours; the user's list says when
    table = boto3.resource("dynamodb").Table(aws.connections_table)
    for client in clients:
        table.update_item(
            Key={"pk": f"USER#{alice.sub}", "sk": "CONNS"},
            UpdateExpression="SET conns.#c = :past",
            ExpressionAttributeNames={"#c": client.connection_id},
            ExpressionAttributeValues={":past": 1},
        )
    assert WsClient(endpoint, alice.id_token).connect()["statusCode"] == 200


def test_an_expired_token_ends_the_connection_at_its_next_action(
    alice, bob, online, endpoint, aws: LocalResources
) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice, bob)
    a, b = online(alice), online(bob)
    for client in (a, b):
        client.send("subscribe", conversationId=room)
    item = (
        boto3.resource("dynamodb")
        .Table(aws.connections_table)
        .get_item(Key={"pk": f"CONN#{a.connection_id}", "sk": "META"})["Item"]
    )
    assert int(item["token_expires_at"]) == int(a.context["tokenExpiresAt"])
    # the token runs out (or is revoked: the app's refresh then fails and it signs out)
    boto3.resource("dynamodb").Table(aws.connections_table).update_item(
        Key={"pk": f"CONN#{a.connection_id}", "sk": "META"},
        UpdateExpression="SET token_expires_at = :past",
        ExpressionAttributeValues={":past": 1},
    )

    a.send("sendMessage", conversationId=room, clientMessageId="late", content="still me?")

    assert codes(a) == ["unauthorized"]
    assert a.connection_id in endpoint.deleted  # closed by the server
    assert store().messages.page(room, limit=10, cursor=None)[0] == []
    assert b.events("message.created") == []
