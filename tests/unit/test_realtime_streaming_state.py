"""Streaming reply state on the chat table: idempotent begin, progress, stop flag, finish."""

from __future__ import annotations

import boto3
import pytest

from parley.store.streaming import (
    ReplyNotFound,
    ReplyNotStreaming,
    StopNotAllowed,
    StreamingRepository,
    iso_now,
)
from tasks.local.bootstrap import LocalResources

ROOM = "01JDX3Z8N4Q7RM2V5K6B9C1T0E"
USER_MSG = "01JDX40A1B2C3D4E5F6G7H8J9K"
REPLY = "01JDX40C3D4E5F6G7H8J9K0M1N"


@pytest.fixture
def table(aws: LocalResources):  # type: ignore[no-untyped-def]
    return boto3.resource("dynamodb").Table(aws.chat_table)


@pytest.fixture
def repo(table) -> StreamingRepository:  # type: ignore[no-untyped-def]
    return StreamingRepository(table)


def test_begin_is_idempotent_on_the_reply_id(repo: StreamingRepository) -> None:
    state, created = repo.begin(ROOM, REPLY, reply_to=USER_MSG, requested_by="u1")
    assert created
    assert state.status == "streaming"
    assert state.seq == 0
    repo.progress(ROOM, REPLY, "Hello", 1)

    again, created_again = repo.begin(ROOM, REPLY, reply_to=USER_MSG, requested_by="u1")

    assert not created_again
    assert (again.content, again.seq) == ("Hello", 1)  # the retry sees the work, not a reset


def test_progress_returns_the_stop_flag_and_streaming_lists_live_replies(repo) -> None:  # type: ignore[no-untyped-def]
    repo.begin(ROOM, REPLY, reply_to=USER_MSG, requested_by="u1")
    assert repo.progress(ROOM, REPLY, "Hel", 1) is False
    [live] = repo.streaming(ROOM)
    assert (live.message_id, live.seq, live.content) == (REPLY, 1, "Hel")

    repo.request_stop(ROOM, REPLY, user_id="u1", is_owner=False)
    assert repo.progress(ROOM, REPLY, "Hello", 2) is True

    item = repo.finish(
        ROOM,
        REPLY,
        content="Hello",
        seq=2,
        status="stopped",
        usage={"input_tokens": 3, "output_tokens": 2},
    )
    assert item["status"] == "stopped"
    assert "stop_requested" not in item
    assert repo.streaming(ROOM) == []
    with pytest.raises(ReplyNotStreaming):
        repo.progress(ROOM, REPLY, "Hello!", 3)
    with pytest.raises(ReplyNotStreaming):
        repo.finish(ROOM, REPLY, content="x", seq=3, status="complete")


def test_only_the_requester_or_the_owner_may_stop(repo: StreamingRepository) -> None:
    repo.begin(ROOM, REPLY, reply_to=USER_MSG, requested_by="u1")
    with pytest.raises(StopNotAllowed):
        repo.request_stop(ROOM, REPLY, user_id="u2", is_owner=False)
    repo.request_stop(ROOM, REPLY, user_id="u2", is_owner=True)
    with pytest.raises(ReplyNotFound):
        repo.request_stop(ROOM, USER_MSG, user_id="u1", is_owner=False)


def test_markers_of_ended_replies_are_cleaned_up(repo, table) -> None:  # type: ignore[no-untyped-def]
    repo.begin(ROOM, REPLY, reply_to=USER_MSG, requested_by="u1")
    # a worker that died between storing the reply and removing the marker
    table.update_item(
        Key={"pk": f"CONV#{ROOM}", "sk": f"MSG#{REPLY}"},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "complete"},
    )
    assert repo.streaming(ROOM) == []
    assert "Item" not in table.get_item(Key={"pk": f"CONV#{ROOM}", "sk": f"STREAM#{REPLY}"})


def test_iso_now_is_utc_with_milliseconds() -> None:
    assert iso_now(lambda: 0.5) == "1970-01-01T00:00:00.500Z"
