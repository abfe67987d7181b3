"""A reply's life on its message item: idempotent begin, progress, stop flag, one ending."""

from __future__ import annotations

import boto3
import pytest

from parley.ids import iso
from parley.store.messages import MessageRepository, ReplyNotStreaming
from tasks.local.bootstrap import LocalResources

ROOM = "01JDX3Z8N4Q7RM2V5K6B9C1T0E"
USER_MSG = "01JDX40A1B2C3D4E5F6G7H8J9K"
REPLY = "01JDX40C3D4E5F6G7H8J9K0M1N"


@pytest.fixture
def table(aws: LocalResources):  # type: ignore[no-untyped-def]
    return boto3.resource("dynamodb").Table(aws.chat_table)


@pytest.fixture
def repo(table) -> MessageRepository:  # type: ignore[no-untyped-def]
    return MessageRepository(table)


def test_begin_is_idempotent_on_the_reply_id(repo: MessageRepository) -> None:
    state, created = repo.begin_reply(ROOM, REPLY, reply_to=USER_MSG, requested_by="u1")
    assert created
    assert state.status == "streaming"
    assert state.seq == 0
    repo.progress(ROOM, REPLY, "Hello", 1)

    again, created_again = repo.begin_reply(ROOM, REPLY, reply_to=USER_MSG, requested_by="u1")

    assert not created_again
    assert (again.content, again.seq) == ("Hello", 1)  # the retry sees the work, not a reset
    assert again.requested_by == "u1"


def test_progress_returns_the_stop_flag_and_live_replies_are_listed(repo) -> None:  # type: ignore[no-untyped-def]
    repo.begin_reply(ROOM, REPLY, reply_to=USER_MSG, requested_by="u1")
    assert repo.progress(ROOM, REPLY, "Hel", 1) is False
    [live] = repo.live_replies(ROOM)
    assert (live.message_id, live.seq, live.content) == (REPLY, 1, "Hel")

    repo.request_stop(ROOM, REPLY)
    assert repo.progress(ROOM, REPLY, "Hello", 2) is True

    ended = repo.finish_reply(ROOM, REPLY, content="Hello", seq=2, status="stopped")
    assert ended.status == "stopped"
    assert not ended.stop_requested
    assert repo.live_replies(ROOM) == []
    with pytest.raises(ReplyNotStreaming):
        repo.progress(ROOM, REPLY, "Hello!", 3)
    with pytest.raises(ReplyNotStreaming):
        repo.finish_reply(ROOM, REPLY, content="x", seq=3, status="complete")
    with pytest.raises(ReplyNotStreaming):
        repo.request_stop(ROOM, REPLY)


def test_a_users_message_is_not_a_reply(repo: MessageRepository, table) -> None:  # type: ignore[no-untyped-def]
    table.put_item(Item={"pk": f"CONV#{ROOM}", "sk": "META", "kind": "assistant"})
    repo.put_user_message(ROOM, author_id="u1", author_name="U", content="hi", message_id=USER_MSG)
    assert repo.reply(ROOM, USER_MSG) is None
    assert repo.reply(ROOM, REPLY) is None


def test_markers_of_ended_replies_are_cleaned_up(repo, table) -> None:  # type: ignore[no-untyped-def]
    repo.begin_reply(ROOM, REPLY, reply_to=USER_MSG, requested_by="u1")
    # a worker that died between storing the reply and removing the marker
    table.update_item(
        Key={"pk": f"CONV#{ROOM}", "sk": f"MSG#{REPLY}"},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "complete"},
    )
    assert repo.live_replies(ROOM) == []
    assert "Item" not in table.get_item(Key={"pk": f"CONV#{ROOM}", "sk": f"STREAM#{REPLY}"})


def test_timestamps_are_utc_with_milliseconds() -> None:
    from datetime import UTC, datetime

    assert iso(datetime.fromtimestamp(0.5, tz=UTC)) == "1970-01-01T00:00:00.500Z"
