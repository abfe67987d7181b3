"""Rooms over the WebSocket API: membership, presence, typing, sending, bad input, stale clients.

Every handler runs as deployed, with API Gateway's event shapes, against moto (server mode) and
the loopback @connections endpoint; async invokes of the worker are recorded by the endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.support.cognito import TestUser
from tests.support.connections_endpoint import ConnectionsEndpoint, WsClient


def store():  # type: ignore[no-untyped-def]
    from parley.store import get_store

    return get_store()


def make_room(owner: TestUser, *members: TestUser, kind: str = "group") -> str:
    profiles = store().profiles
    owner_profile = profiles.ensure(owner.sub, owner.email, owner.name)
    conversation = store().conversations.create(owner_profile, kind=kind, title="Room")
    for member in members:
        profile = profiles.ensure(member.sub, member.email, member.name)
        store().conversations.add_member(store().conversations.record(conversation.id), profile)
    return str(conversation.id)


def stored(conversation_id: str) -> list:  # type: ignore[type-arg]
    messages, _ = store().messages.page(conversation_id, limit=100, cursor=None)
    return messages


@pytest.fixture
def online(endpoint: ConnectionsEndpoint) -> Callable[[TestUser], WsClient]:
    def connect(user: TestUser) -> WsClient:
        client = WsClient(endpoint, user.id_token)
        client.connect()
        return client

    return connect


@pytest.fixture
def alice(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user(name="Alice")


@pytest.fixture
def bob(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user(name="Bob")


@pytest.fixture
def mallory(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user(name="Mallory")


def test_subscribe_answers_with_resume_point_and_presence(alice, bob, online) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice, bob)
    a, b = online(alice), online(bob)

    a.send("subscribe", conversationId=room)
    b.send("subscribe", conversationId=room)

    assert a.events("subscribed") == [
        {"type": "subscribed", "conversationId": room, "streaming": []}
    ]
    online_now = sorted(u["userId"] for u in a.last("presence")["online"])
    assert online_now == sorted([alice.sub, bob.sub])
    assert b.last("presence") == a.last("presence")

    b.send("unsubscribe", conversationId=room)
    assert [u["userId"] for u in a.last("presence")["online"]] == [alice.sub]
    presence_seen = len(a.events("presence"))
    b.send("unsubscribe", conversationId=room)  # again: nothing changes, nobody is told
    assert len(a.events("presence")) == presence_seen


def test_messages_reach_the_room_and_are_stored(alice, bob, online, endpoint) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice, bob)
    a, b = online(alice), online(bob)
    for client in (a, b):
        client.send("subscribe", conversationId=room)

    a.send("sendMessage", conversationId=room, clientMessageId="c-1", content="hello Bob")

    [message] = stored(room)
    for client in (a, b):
        [created] = client.events("message.created")
        assert created["message"]["id"] == message.id
        assert created["message"]["content"] == "hello Bob"
        assert created["message"]["authorId"] == alice.sub
        assert created["message"]["clientMessageId"] == "c-1"
    assert endpoint.invokes() == []  # a group without @assistant: the bot stays out


def test_the_assistant_is_called_by_mention_in_groups_and_always_in_private(
    alice, bob, online, endpoint
) -> None:  # type: ignore[no-untyped-def]
    group = make_room(alice, bob)
    private = make_room(alice, kind="assistant")
    a = online(alice)

    a.send("sendMessage", conversationId=group, clientMessageId="g1", content="email@assistant.com")
    a.send(
        "sendMessage", conversationId=group, clientMessageId="g2", content="@Assistant summarise"
    )
    a.send("sendMessage", conversationId=private, clientMessageId="p1", content="hi")

    jobs = [invoke.json() for invoke in endpoint.invokes()]
    mention = next(m for m in stored(group) if m.client_message_id == "g2")
    question = stored(private)[0]
    assert [(j["conversationId"], j["replyTo"], j["requestedBy"]) for j in jobs] == [
        (group, mention.id, alice.sub),
        (private, question.id, alice.sub),
    ]
    assert all(len(j["replyId"]) == 26 for j in jobs)
    assert all(
        i.invocation_type == "Event" and i.function == "bot_worker" for i in endpoint.invokes()
    )


def test_a_repeated_client_message_id_is_stored_and_broadcast_once(
    alice, bob, online, endpoint
) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice, kind="assistant")
    a = online(alice)
    a2 = online(alice)  # a second tab of the same user
    for client in (a, a2):
        client.send("subscribe", conversationId=room)

    for _ in range(3):
        a.send("sendMessage", conversationId=room, clientMessageId="same", content="only once")

    [message] = stored(room)
    assert [e["message"]["id"] for e in a2.events("message.created")] == [message.id]
    # the sender is told each time, always about the same message
    assert {e["message"]["id"] for e in a.events("message.created")} == {message.id}
    assert len(endpoint.invokes()) == 1


def test_typing_reaches_the_others_only(alice, bob, online) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice, bob)
    a, b = online(alice), online(bob)
    for client in (a, b):
        client.send("subscribe", conversationId=room)

    a.send("typing", conversationId=room, isTyping=True)

    assert a.events("typing") == []
    assert b.events("typing") == [
        {
            "type": "typing",
            "conversationId": room,
            "userId": alice.sub,
            "name": "Alice",  # the profile's name, not the token's
            "isTyping": True,
        }
    ]


def test_a_non_member_can_do_nothing_in_the_room(alice, bob, mallory, online, endpoint) -> None:  # type: ignore[no-untyped-def]
    from parley.services import connections_repository

    room = make_room(alice, bob)
    a, m = online(alice), online(mallory)
    a.send("subscribe", conversationId=room)
    a.send("sendMessage", conversationId=room, clientMessageId="q", content="@assistant hi")
    [question] = stored(room)
    [job] = [i.json() for i in endpoint.invokes()]

    attempts = [
        ("subscribe", {}),
        ("sendMessage", {"clientMessageId": "x", "content": "let me in"}),
        ("typing", {"isTyping": True}),
        ("stop", {"messageId": job["replyId"]}),
        ("retry", {"messageId": question.id}),
    ]
    for action, fields in attempts:
        m.send(action, conversationId=room, **fields)

    errors = m.events("error")
    assert [(e["code"], e["action"]) for e in errors] == [("not_found", a) for a, _ in attempts]
    assert all(e["message"] == "Conversation not found" for e in errors)
    assert m.events("presence", "typing", "message.created", "subscribed") == []
    assert [s.user_id for s in connections_repository().subscribers(room)] == [alice.sub]
    assert len(stored(room)) == 1
    assert len(endpoint.invokes()) == 1
    assert a.events("typing") == []


def test_a_removed_member_stops_receiving_the_room(alice, bob, online) -> None:  # type: ignore[no-untyped-def]
    from parley.services import connections_repository

    room = make_room(alice, bob)
    a, b = online(alice), online(bob)
    for client in (a, b):
        client.send("subscribe", conversationId=room)
    from parley.services import conversations

    conversations().remove(room, alice.sub, bob.sub)

    a.send("sendMessage", conversationId=room, clientMessageId="after", content="secret")

    assert b.events("message.created") == []
    assert [s.user_id for s in connections_repository().subscribers(room)] == [alice.sub]


@pytest.mark.parametrize(
    ("frame", "code", "action", "says"),
    [
        ('{"action": "dance", "conversationId": "x"}', "bad_request", "dance", "Unknown action"),
        ("{not json", "bad_request", None, "not valid JSON"),
        ("[1, 2]", "bad_request", None, "JSON object"),
        ('{"conversationId": "x"}', "bad_request", None, "Missing 'action'"),
        (
            '{"action": "sendMessage", "clientMessageId": "a", "content": "hi"}',
            "validation_error",
            "sendMessage",
            "'conversationId' is required",
        ),
        (
            '{"action": "sendMessage", "conversationId": "{room}", "clientMessageId": "a"}',
            "validation_error",
            "sendMessage",
            "'content' is required",
        ),
        (
            '{"action": "sendMessage", "conversationId": "{room}", "clientMessageId": "a", '
            '"content": "{big}"}',
            "validation_error",
            "sendMessage",
            "larger than 16384 bytes",
        ),
        (
            '{"action": "sendMessage", "conversationId": "{room}", "clientMessageId": "a", '
            '"content": "   "}',
            "validation_error",
            "sendMessage",
            "must not be blank",
        ),
        (
            '{"action": "typing", "conversationId": "{room}", "isTyping": true, "x": 1}',
            "validation_error",
            "typing",
            "'x' is not a known field",
        ),
        (
            '{"action": "stop", "conversationId": "../etc", "messageId": "1"}',
            "validation_error",
            "stop",
            "'conversationId' has an invalid format",
        ),
        ("x" * 70_000, "payload_too_large", None, "larger than 65536 bytes"),
    ],
)
def test_bad_input_gets_an_error_event_and_stores_nothing(
    alice, online, endpoint, frame, code, action, says
) -> None:  # type: ignore[no-untyped-def]
    room = make_room(alice, kind="assistant")
    a = online(alice)
    a.send("subscribe", conversationId=room)

    a.send_raw(frame.replace("{room}", room).replace("{big}", "é" * 9000))

    [error] = a.events("error")
    assert (error["code"], error.get("action")) == (code, action)
    assert says in error["message"]
    assert "Traceback" not in json.dumps(error)
    assert stored(room) == []
    assert endpoint.invokes() == []
    assert a.events("message.created") == []


def test_a_gone_connection_loses_only_its_own_subscription(alice, bob, online, endpoint) -> None:  # type: ignore[no-untyped-def]
    from parley.services import connections_repository

    room = make_room(alice, bob)
    a, b = online(alice), online(bob)
    for client in (a, b):
        client.send("subscribe", conversationId=room)
    endpoint.mark_gone(b.connection_id)  # Bob's laptop went to sleep without a $disconnect

    a.send("sendMessage", conversationId=room, clientMessageId="m", content="still there?")

    assert [s.connection_id for s in connections_repository().subscribers(room)] == [
        a.connection_id
    ]
    assert connections_repository().get(b.connection_id) is None
    assert connections_repository().get(a.connection_id) is not None
    assert len(a.events("message.created")) == 1
    # and the room learns that Bob is gone
    assert [u["userId"] for u in a.last("presence")["online"]] == [alice.sub]


def test_disconnect_forgets_the_connection_and_updates_presence(alice, bob, online) -> None:  # type: ignore[no-untyped-def]
    from parley.services import connections_repository

    room = make_room(alice, bob)
    a, b = online(alice), online(bob)
    for client in (a, b):
        client.send("subscribe", conversationId=room)

    assert b.disconnect() == {"statusCode": 200}

    assert [u["userId"] for u in a.last("presence")["online"]] == [alice.sub]
    assert connections_repository().get(b.connection_id) is None
    assert [s.user_id for s in connections_repository().subscribers(room)] == [alice.sub]


def test_long_replies_streaming_at_once_are_resumed_in_parts(alice, bob, online, endpoint) -> None:  # type: ignore[no-untyped-def]
    from parley.ids import new_ulid

    room = make_room(alice, bob)
    texts = {}
    for author in (alice, bob):
        question, _ = store().messages.put_user_message(
            room, author_id=author.sub, author_name=author.name, content="@assistant long"
        )
        reply_id = new_ulid()
        store().messages.begin_reply(room, reply_id, reply_to=question.id, requested_by=author.sub)
        texts[reply_id] = "ü" * 9000  # 18 KB each: together they exceed one frame
        store().messages.progress(room, reply_id, texts[reply_id], 40)
    a = online(alice)

    a.send("subscribe", conversationId=room)

    parts = a.events("subscribed")
    assert len(parts) == 2
    resumed = {s["messageId"]: (s["seq"], s["content"]) for p in parts for s in p["streaming"]}
    assert resumed == {reply_id: (40, text) for reply_id, text in texts.items()}
    assert max(len(f) for f in endpoint.frames(a.connection_id)) <= 32 * 1024
