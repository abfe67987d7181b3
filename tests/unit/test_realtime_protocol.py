"""The protocol models: parsing, frame sizes, the generated page and the manifest routes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.models import Message
from parley.realtime import docs
from parley.realtime.events import body
from parley.realtime.protocol import (
    ACTION_NAMES,
    FRAME_LIMIT,
    MAX_CONTENT_BYTES,
    MAX_REPLY_BYTES,
    FrameTooLarge,
    MessageCompleted,
    MessageCreated,
    MessageDelta,
    ProtocolError,
    SendMessage,
    ServerFrame,
    encode_event,
    encoded_size,
    parse_action,
)
from tasks.core.manifest import load_manifest

ROOM = "01JDX3Z8N4Q7RM2V5K6B9C1T0E"


def message(content: str) -> Message:
    return Message(
        id="01JDX40C3D4E5F6G7H8J9K0M1N",
        conversation_id=ROOM,
        author_id="assistant",
        author_name="Assistant",
        role="assistant",
        content=content,
        status="complete",
        reply_to="01JDX40A1B2C3D4E5F6G7H8J9K",
        created_at="2026-11-27T08:00:00.000Z",
        updated_at="2026-11-27T08:00:00.000Z",
    )


def test_the_page_is_what_the_models_say() -> None:
    assert docs.DOC_PATH.read_text(encoding="utf-8") == docs.render(), (
        "docs/websocket-protocol.md is stale: run `python -m parley.realtime.docs --write` "
        "in functions/"
    )


def test_every_action_has_a_websocket_route_to_ws_message() -> None:
    manifest = load_manifest()
    routes = manifest.functions["ws_message"].triggers.websocket
    assert set(routes) == {*ACTION_NAMES, "$default"}
    assert manifest.functions["ws_connect"].triggers.websocket == ["$connect"]
    assert manifest.functions["ws_disconnect"].triggers.websocket == ["$disconnect"]
    assert manifest.functions["ws_authorizer"].triggers.authorizer == "websocket"
    worker = manifest.functions["bot_worker"].triggers.async_
    assert worker is not None
    assert worker.on_failure == "dlq"
    assert worker.max_retries >= 1  # a crash is retried; the reply id makes that safe


def test_a_valid_action_round_trips_in_camel_case() -> None:
    frame = {
        "action": "sendMessage",
        "conversationId": ROOM,
        "clientMessageId": "c:1.a_b-2",
        "content": "héllo",
    }
    action = parse_action(json.dumps(frame))
    assert isinstance(action, SendMessage)
    assert action.model_dump(by_alias=True, exclude_defaults=True) == frame


@pytest.mark.parametrize(
    ("content", "ok"),
    [
        ("a" * MAX_CONTENT_BYTES, True),
        ("a" * (MAX_CONTENT_BYTES + 1), False),
        ("€" * (MAX_CONTENT_BYTES // 3), True),
        ("€" * (MAX_CONTENT_BYTES // 3 + 1), False),
        ("\n" * (MAX_CONTENT_BYTES // 2 + 1), False),  # each newline is two bytes on the wire
    ],
)
def test_content_is_measured_as_the_frame_carries_it(content: str, ok: bool) -> None:
    frame = json.dumps(
        {
            "action": "sendMessage",
            "conversationId": ROOM,
            "clientMessageId": "x",
            "content": content,
        }
    )
    if ok:
        parse_action(frame)
    else:
        with pytest.raises(ProtocolError) as raised:
            parse_action(frame)
        assert raised.value.code == "validation_error"


@given(st.text(max_size=300))
def test_arbitrary_text_never_escapes_as_anything_but_a_protocol_error(text: str) -> None:
    code = "ok"
    try:
        parse_action(text)
    except ProtocolError as exc:
        code = exc.code
    assert code in {"ok", "bad_request", "validation_error", "payload_too_large"}


def test_largest_allowed_messages_fit_one_frame() -> None:
    worst_user = "\\" * (MAX_CONTENT_BYTES // 2)  # each backslash doubles on the wire
    assert encoded_size(worst_user) == MAX_CONTENT_BYTES
    created = MessageCreated(conversation_id=ROOM, message=message(worst_user))
    assert json.loads(encode_event(created))["contentOmitted"] is False
    reply = "€" * (MAX_REPLY_BYTES // 3)
    completed = MessageCompleted(conversation_id=ROOM, message=message(reply))
    data = encode_event(completed)
    assert len(data) <= FRAME_LIMIT
    assert ServerFrame.model_validate_json(data).root.message.content == reply  # type: ignore[union-attr]


def test_a_message_too_large_for_a_frame_is_sent_without_its_text() -> None:
    huge = MessageCompleted(conversation_id=ROOM, message=message("x" * 40_000))
    data = encode_event(huge)
    assert len(data) <= FRAME_LIMIT
    event = json.loads(data)
    assert event["contentOmitted"] is True
    assert event["message"]["content"] == ""
    assert event["message"]["id"] == "01JDX40C3D4E5F6G7H8J9K0M1N"


def test_a_delta_that_cannot_fit_is_a_bug_not_a_silent_cut() -> None:
    delta = MessageDelta(conversation_id=ROOM, message_id=ROOM, seq=1, delta="x" * FRAME_LIMIT)
    with pytest.raises(FrameTooLarge):
        encode_event(delta)


def test_a_route_reads_the_frame_text() -> None:
    frame = json.dumps({"action": "typing", "conversationId": ROOM, "isTyping": False})
    assert parse_action(body({"body": frame, "isBase64Encoded": False})).action == "typing"
    with pytest.raises(ProtocolError):
        parse_action(body({"isBase64Encoded": False}))
