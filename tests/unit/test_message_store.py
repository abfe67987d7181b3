"""Messages as stored: a resend stores nothing new, a reply begins once, takes its text only
while it streams and nobody asked it to stop, and ends once. Against moto in server mode, with
the items compared to docs/contracts.md; these tests are what `invoke mutate` runs for
`parley.store.messages`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from parley.errors import BadRequest, Conflict, ConversationNotFound, MessageNotFound
from parley.models import Message, Profile, Usage
from parley.store import Store
from parley.store.housekeeping import sweep_key
from parley.store.messages import ASSISTANT_ID, ASSISTANT_NAME, ReplyNotStreaming, ReplyState
from parley.store.table import encode_cursor
from tests.unit.conftest import fresh_id


@pytest.fixture
def owner(fast_store: Store) -> Profile:
    user_id = fresh_id("alice-")
    return fast_store.profiles.ensure(user_id, f"{user_id}@example.com", "Alice")


@pytest.fixture
def chat(fast_store: Store, owner: Profile) -> str:
    return fast_store.conversations.create(owner, kind="group", title="Room").id


def items(store: Store, conversation_id: str, prefix: str) -> list[dict[str, Any]]:
    return [
        item
        for item in store.messages.table.query(
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": f"CONV#{conversation_id}"},
            ConsistentRead=True,
        )["Items"]
        if str(item["sk"]).startswith(prefix)
    ]


def raw(store: Store, conversation_id: str, sk: str) -> dict[str, Any] | None:
    return store.messages.table.get_item(
        Key={"pk": f"CONV#{conversation_id}", "sk": sk}, ConsistentRead=True
    ).get("Item")


def say(
    store: Store,
    chat: str,
    author: str,
    content: str,
    cid: str | None = None,
    message_id: str | None = None,
) -> tuple[Message, bool]:
    return store.messages.put_user_message(
        chat,
        author_id=author,
        author_name=author.title(),
        content=content,
        client_message_id=cid,
        message_id=message_id,
    )


def begin(store: Store, chat: str, reply_id: str, *, to: str = "q", by: str = "alice"):  # type: ignore[no-untyped-def]
    return store.messages.begin_reply(chat, reply_id, reply_to=to, requested_by=by)


# -- a user's message ----------------------------------------------------------------------------
def test_a_message_is_stored_as_sent(fast_store: Store, chat: str) -> None:
    message_id = fresh_id()
    message, created = say(fast_store, chat, "alice", "hello", cid="c-1", message_id=message_id)
    assert created
    assert message.model_dump() == {
        "id": message_id,
        "conversation_id": chat,
        "author_id": "alice",
        "author_name": "Alice",
        "role": "user",
        "content": "hello",
        "status": "complete",
        "client_message_id": "c-1",
        "reply_to": None,
        "parent_id": None,
        "usage": None,
        "model": None,
        "cost_usd": None,
        "attachments": None,
        "assistant_id": None,
        "created_at": message.created_at,
        "updated_at": message.created_at,
    }
    assert fast_store.messages.get(chat, message_id) == message
    assert raw(fast_store, chat, "CLIENTMSG#c-1") == {
        "pk": f"CONV#{chat}",
        "sk": "CLIENTMSG#c-1",
        "message_id": message_id,
        "author_id": "alice",
        "created_at": message.created_at,
    }
    unnamed, _ = fast_store.messages.put_user_message(
        chat, author_id="bob", author_name=None, content="hi"
    )
    assert unnamed.id != message_id
    assert fast_store.messages.get(chat, unnamed.id).author_name is None
    assert items(fast_store, chat, "CLIENTMSG#") == [raw(fast_store, chat, "CLIENTMSG#c-1")]


def test_a_resend_finds_the_first_message_and_stores_nothing(fast_store: Store, chat: str) -> None:
    first, created = say(fast_store, chat, "alice", "once", cid="c-1")
    again, created_again = say(fast_store, chat, "alice", "once (edited)", cid="c-1")
    assert created
    assert not created_again
    assert again == first
    assert [m.content for m in fast_store.messages.page(chat, limit=10, cursor=None)[0]] == ["once"]
    assert fast_store.messages.by_client_id(chat, "c-1", "alice") == first


def test_a_client_id_taken_by_another_member_is_refused_and_not_lent(
    fast_store: Store, chat: str
) -> None:
    say(fast_store, chat, "alice", "mine", cid="c-1")
    with pytest.raises(Conflict) as taken:
        say(fast_store, chat, "bob", "theirs", cid="c-1")
    assert taken.value.message == "clientMessageId is already used in this conversation"
    assert fast_store.messages.by_client_id(chat, "c-1", "bob") is None
    assert fast_store.messages.by_client_id(chat, "c-2", "alice") is None
    assert [m.content for m in fast_store.messages.page(chat, limit=10, cursor=None)[0]] == ["mine"]


def test_a_message_id_is_never_written_twice(fast_store: Store, chat: str) -> None:
    message_id = fresh_id()
    say(fast_store, chat, "alice", "first", message_id=message_id)
    with pytest.raises(ClientError):
        say(fast_store, chat, "alice", "second", message_id=message_id)
    with pytest.raises((ClientError, Conflict)):  # a new client id makes no new message
        say(fast_store, chat, "alice", "third", cid="c-9", message_id=message_id)
    assert fast_store.messages.get(chat, message_id).content == "first"
    assert raw(fast_store, chat, "CLIENTMSG#c-9") is None


def test_no_message_lands_in_a_conversation_that_does_not_exist(fast_store: Store) -> None:
    gone = fresh_id("gone-")
    for cid in (None, "c-1"):
        with pytest.raises(ConversationNotFound):
            say(fast_store, gone, "alice", "late", cid=cid)
    assert items(fast_store, gone, "") == []


def test_a_message_that_does_not_exist_is_not_found(fast_store: Store, chat: str) -> None:
    with pytest.raises(MessageNotFound):
        fast_store.messages.get(chat, fresh_id())


# -- an assistant reply --------------------------------------------------------------------------
def test_a_reply_begins_streaming_once_with_a_marker(fast_store: Store, chat: str) -> None:
    reply_id = fresh_id()
    state, created = begin(fast_store, chat, reply_id, to="q-1", by="bob")
    assert created
    assert (state.message_id, state.conversation_id, state.reply_to) == (reply_id, chat, "q-1")
    assert (state.status, state.content, state.seq, state.requested_by) == (
        "streaming",
        "",
        0,
        "bob",
    )
    assert (state.stop_requested, state.announced, state.error) == (False, False, None)
    assert (state.message.author_id, state.message.author_name) == (ASSISTANT_ID, ASSISTANT_NAME)
    assert (state.message.role, ASSISTANT_ID, ASSISTANT_NAME) == (
        "assistant",
        "assistant",
        "Assistant",
    )
    assert fast_store.messages.reply(chat, reply_id) == state
    assert raw(fast_store, chat, f"STREAM#{reply_id}") == {
        "pk": f"CONV#{chat}",
        "sk": f"STREAM#{reply_id}",
        "message_id": reply_id,
        "started_at": state.message.created_at,
        "sweep": sweep_key("STREAM", reply_id),  # maintenance finds a reply a crash left
        "updated_at": state.message.created_at,
    }

    stored = raw(fast_store, chat, f"MSG#{reply_id}")
    assert stored is not None
    assert (stored["status"], stored["seq"], stored["requested_by"]) == ("streaming", 0, "bob")

    fast_store.messages.progress(chat, reply_id, "Hel", 1)
    again, created_again = begin(fast_store, chat, reply_id, to="q-1", by="bob")
    assert not created_again
    assert (again.content, again.seq, again.requested_by) == ("Hel", 1, "bob")  # not reset


def test_a_reply_cannot_begin_over_a_users_message(fast_store: Store, chat: str) -> None:
    message, _ = say(fast_store, chat, "alice", "mine")
    with pytest.raises(MessageNotFound):
        begin(fast_store, chat, message.id)
    assert fast_store.messages.get(chat, message.id) == message
    assert fast_store.messages.reply(chat, message.id) is None
    assert fast_store.messages.reply(chat, fresh_id()) is None
    assert raw(fast_store, chat, f"STREAM#{message.id}") is None


def test_progress_stores_the_text_until_a_stop_is_asked(fast_store: Store, chat: str) -> None:
    reply_id = fresh_id()
    begin(fast_store, chat, reply_id)
    fast_store.messages.table.update_item(  # as if the last write were long ago
        Key={"pk": f"CONV#{chat}", "sk": f"MSG#{reply_id}"},
        UpdateExpression="SET updated_at = :t",
        ExpressionAttributeValues={":t": "2026-01-01T00:00:00.000Z"},
    )
    assert fast_store.messages.progress(chat, reply_id, "Hel", 1) is False
    state = fast_store.messages.reply(chat, reply_id)
    assert state is not None
    assert (state.content, state.seq) == ("Hel", 1)
    assert state.message.updated_at > "2026-01-01T00:00:00.000Z"  # the heartbeat moved

    fast_store.messages.request_stop(chat, reply_id)
    stopped = fast_store.messages.reply(chat, reply_id)
    assert stopped is not None
    assert (stopped.stop_requested, stopped.status) == (True, "streaming")
    assert fast_store.messages.progress(chat, reply_id, "Hello", 2) is True
    assert fast_store.messages.progress(chat, reply_id, "Hello, w", 3) is True
    after = fast_store.messages.reply(chat, reply_id)
    assert after is not None
    assert (after.content, after.seq) == ("Hel", 1)  # nothing more after the stop
    fast_store.messages.request_stop(chat, reply_id)  # a second stop is harmless


def test_a_stop_is_flagged_on_the_marker_the_writer_reads(fast_store: Store, chat: str) -> None:
    stopped, running = fresh_id(), fresh_id()
    begin(fast_store, chat, stopped)
    begin(fast_store, chat, running)
    assert fast_store.messages.stop_asked(chat, stopped) is False

    fast_store.messages.request_stop(chat, stopped)
    assert fast_store.messages.stop_asked(chat, stopped) is True
    marker = raw(fast_store, chat, f"STREAM#{stopped}")
    assert marker is not None
    assert marker["stop_requested"] is True
    assert fast_store.messages.stop_asked(chat, running) is False  # only the one asked

    fast_store.messages.finish_reply(chat, stopped, content="", seq=0, status="stopped")
    assert fast_store.messages.stop_asked(chat, stopped) is False  # ended: nothing to stop
    assert fast_store.messages.stop_asked(chat, fresh_id()) is False


def test_a_stop_asked_as_the_reply_ends_leaves_no_marker_behind(
    fast_store: Store, chat: str
) -> None:
    reply_id = fresh_id()
    begin(fast_store, chat, reply_id)
    # the writer ended it between the two writes of the stop: its marker is gone already
    fast_store.messages.table.delete_item(Key={"pk": f"CONV#{chat}", "sk": f"STREAM#{reply_id}"})
    fast_store.messages.request_stop(chat, reply_id)
    assert raw(fast_store, chat, f"STREAM#{reply_id}") is None
    assert fast_store.messages.live_replies(chat) == []
    assert fast_store.messages.stop_asked(chat, reply_id) is False


def test_a_reply_ends_once_and_then_takes_nothing(fast_store: Store, chat: str) -> None:
    reply_id = fresh_id()
    begin(fast_store, chat, reply_id, to="q-1")
    fast_store.messages.progress(chat, reply_id, "Hel", 1)
    fast_store.messages.request_stop(chat, reply_id)

    ended = fast_store.messages.finish_reply(
        chat,
        reply_id,
        content="Hello",
        seq=2,
        status="stopped",
        usage=Usage(input_tokens=3, output_tokens=2),
    )
    assert (ended.status, ended.content, ended.seq) == ("stopped", "Hello", 2)
    assert ended.message.usage == Usage(input_tokens=3, output_tokens=2)
    assert (ended.stop_requested, ended.error, ended.reply_to) == (False, None, "q-1")
    assert ended == fast_store.messages.reply(chat, reply_id)
    assert raw(fast_store, chat, f"STREAM#{reply_id}") is None

    for late in (
        lambda: fast_store.messages.progress(chat, reply_id, "Hello!", 3),
        lambda: fast_store.messages.request_stop(chat, reply_id),
        lambda: fast_store.messages.finish_reply(
            chat, reply_id, content="x", seq=3, status="complete"
        ),
    ):
        with pytest.raises(ReplyNotStreaming) as raised:
            late()
        assert raised.value.args == (reply_id,)  # which reply, for the logs
    assert fast_store.messages.reply(chat, reply_id) == ended


def test_a_failed_reply_keeps_its_error_and_no_usage(fast_store: Store, chat: str) -> None:
    reply_id = fresh_id()
    begin(fast_store, chat, reply_id)
    failed = fast_store.messages.finish_reply(
        chat, reply_id, content="Par", seq=1, status="failed", error="provider_error"
    )
    assert (failed.status, failed.error, failed.message.usage) == ("failed", "provider_error", None)
    assert fast_store.messages.reply(chat, reply_id) == failed


def test_a_reply_that_does_not_exist_cannot_be_written_stopped_or_ended(
    fast_store: Store, chat: str
) -> None:
    missing = fresh_id()
    for attempt in (
        lambda: fast_store.messages.progress(chat, missing, "x", 1),
        lambda: fast_store.messages.request_stop(chat, missing),
        lambda: fast_store.messages.finish_reply(
            chat, missing, content="x", seq=1, status="complete"
        ),
    ):
        with pytest.raises(ReplyNotStreaming):
            attempt()
    with pytest.raises(ClientError):  # and is not created by being announced
        fast_store.messages.mark_announced(chat, missing)
    assert raw(fast_store, chat, f"MSG#{missing}") is None


def test_a_reply_stored_before_replies_kept_their_state_reads_as_a_plain_one(
    fast_store: Store, chat: str
) -> None:
    old = fresh_id()
    fast_store.messages.table.put_item(
        Item={
            "pk": f"CONV#{chat}",
            "sk": f"MSG#{old}",
            "author_id": "assistant",
            "role": "assistant",
            "status": "complete",
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z",
        }
    )
    state = fast_store.messages.reply(chat, old)
    assert state is not None
    assert (state.content, state.seq, state.requested_by) == ("", 0, "")  # nobody asked
    assert (state.stop_requested, state.announced, state.error) == (False, False, None)


def test_the_reads_that_decide_are_strongly_consistent(fast_store: Store, chat: str) -> None:
    """moto is always consistent, DynamoDB is not unless asked: a read that decides whether
    a reply still streams, was stopped, or a message was sent before must see the last
    write, so every such request is checked to ask for it."""
    message, _ = say(fast_store, chat, "alice", "hi", cid="c-1")
    reply_id = fresh_id()
    begin(fast_store, chat, reply_id, to=message.id)
    seen: list[tuple[str, Any]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, params.get("ConsistentRead")))

    events = fast_store.messages.table.meta.client.meta.events
    for operation in ("GetItem", "Query"):
        events.register(f"provide-client-params.dynamodb.{operation}", record)
    reads = {
        "by_client_id": lambda: fast_store.messages.by_client_id(chat, "c-1", "alice"),
        "get": lambda: fast_store.messages.get(chat, message.id),
        "recent": lambda: fast_store.messages.recent(chat),
        "reply": lambda: fast_store.messages.reply(chat, reply_id),
        "live_replies": lambda: fast_store.messages.live_replies(chat),
        "stop_asked": lambda: fast_store.messages.stop_asked(chat, reply_id),
    }
    for name, read in reads.items():
        seen.clear()
        read()
        assert seen, name
        assert all(consistent is True for _, consistent in seen), (name, seen)


def test_a_cursor_that_points_at_something_else_than_messages_is_refused(
    fast_store: Store, chat: str
) -> None:
    forged = encode_cursor({"pk": f"CONV#{chat}", "sk": "MEMBER#someone"})
    with pytest.raises(BadRequest) as refused:
        fast_store.messages.page(chat, limit=5, cursor=forged)
    assert refused.value.message == "Invalid cursor"


def test_an_announced_reply_remembers_it(fast_store: Store, chat: str) -> None:
    reply_id = fresh_id()
    begin(fast_store, chat, reply_id)
    fast_store.messages.finish_reply(chat, reply_id, content="Hi", seq=1, status="complete")
    fast_store.messages.mark_announced(chat, reply_id)
    state = fast_store.messages.reply(chat, reply_id)
    assert state is not None
    assert (state.announced, state.status, state.content) == (True, "complete", "Hi")


def test_live_replies_are_the_streaming_ones_in_order(fast_store: Store, chat: str) -> None:
    first, second, ended, elsewhere = fresh_id(), fresh_id(), fresh_id(), fresh_id()
    other_chat = fresh_id("other-")
    for reply_id in (second, first, ended):
        begin(fast_store, chat, reply_id)
    begin(fast_store, other_chat, elsewhere)
    fast_store.messages.progress(chat, first, "Hi", 1)
    fast_store.messages.request_stop(chat, second)  # stopping is still streaming
    fast_store.messages.finish_reply(chat, ended, content="Bye", seq=1, status="complete")

    live = fast_store.messages.live_replies(chat)
    assert [(s.message_id, s.content, s.seq) for s in live] == [(first, "Hi", 1), (second, "", 0)]
    assert [s.stop_requested for s in live] == [False, True]
    assert [s.message_id for s in fast_store.messages.live_replies(other_chat)] == [elsewhere]


def test_markers_left_by_a_worker_that_died_are_cleaned_up(fast_store: Store, chat: str) -> None:
    kept, ended, vanished = fresh_id(), fresh_id(), fresh_id()
    for reply_id in (kept, ended, vanished):
        begin(fast_store, chat, reply_id)
    table = fast_store.messages.table
    table.update_item(  # ended without removing its marker
        Key={"pk": f"CONV#{chat}", "sk": f"MSG#{ended}"},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "complete"},
    )
    table.delete_item(Key={"pk": f"CONV#{chat}", "sk": f"MSG#{vanished}"})

    assert [s.message_id for s in fast_store.messages.live_replies(chat)] == [kept]
    assert [i["sk"] for i in items(fast_store, chat, "STREAM#")] == [f"STREAM#{kept}"]


def test_the_age_of_a_reply_is_the_time_since_its_last_write(fast_store: Store, chat: str) -> None:
    reply_id = fresh_id()
    state, _ = begin(fast_store, chat, reply_id)
    written = datetime.fromisoformat(state.message.updated_at.replace("Z", "+00:00"))
    assert state.age_seconds(written.timestamp() + 7.5) == 7.5
    assert 0 <= state.age_seconds() < 3600  # now, by default


# -- history -------------------------------------------------------------------------------------
def test_history_pages_newest_first_and_reads_oldest_first(fast_store: Store, chat: str) -> None:
    sent = [say(fast_store, chat, "alice", f"m{i}")[0] for i in range(3)]
    reply_id = fresh_id()
    begin(fast_store, chat, reply_id, to=sent[-1].id)
    done = fast_store.messages.finish_reply(
        chat, reply_id, content="answer", seq=1, status="complete"
    )
    say(fast_store, chat, "alice", "x", cid="c-1")  # the CLIENTMSG item is not a message
    latest = fast_store.messages.page(chat, limit=10, cursor=None)[0][0]

    page, cursor = fast_store.messages.page(chat, limit=2, cursor=None)
    assert [m.id for m in page] == [latest.id, reply_id]
    older, end = fast_store.messages.page(chat, limit=5, cursor=cursor)
    assert [m.id for m in older] == [sent[2].id, sent[1].id, sent[0].id]
    assert end is None
    assert [m.id for m in fast_store.messages.recent(chat, limit=2)] == [reply_id, latest.id]
    assert [m.id for m in fast_store.messages.recent(chat, up_to=sent[1].id)] == [
        sent[0].id,
        sent[1].id,
    ]
    assert fast_store.messages.reply_to(chat, sent[-1].id) == done.message
    assert fast_store.messages.reply_to(chat, sent[0].id) is None


def test_only_a_complete_reply_is_an_answer(fast_store: Store, chat: str) -> None:
    question, _ = say(fast_store, chat, "alice", "q")
    for status in ("failed", "stopped"):
        reply_id = fresh_id()
        begin(fast_store, chat, reply_id, to=question.id)
        fast_store.messages.finish_reply(chat, reply_id, content="", seq=0, status=status)
    begin(fast_store, chat, fresh_id(), to=question.id)  # streaming
    assert fast_store.messages.reply_to(chat, question.id) is None
    answer = fresh_id()
    begin(fast_store, chat, answer, to=question.id)
    fast_store.messages.finish_reply(chat, answer, content="a", seq=1, status="complete")
    found = fast_store.messages.reply_to(chat, question.id)
    assert found is not None
    assert found.id == answer
    assert isinstance(fast_store.messages.reply(chat, answer), ReplyState)
