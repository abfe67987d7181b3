"""Streamed assistant replies end to end: ws_message → async invoke → bot_worker → the room.

The model is the scripted OpenAI-compatible server, reached through the real `openai` SDK;
DynamoDB is moto in server mode; frames land on the loopback @connections endpoint.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.cognito import TestUser
from tests.support.connections_endpoint import ConnectionsEndpoint, WsClient, run_worker
from tests.support.environment import clear_parley_caches

WORDS = " ".join(f"word{i}" for i in range(60))


def store():  # type: ignore[no-untyped-def]
    from parley.store import get_store

    return get_store()


def private_room(user: TestUser) -> str:
    profile = store().profiles.ensure(user.sub, user.email, user.name)
    return str(store().conversations.create(profile, kind="assistant", title="Chat").id)


@pytest.fixture
def chat(user: TestUser, endpoint: ConnectionsEndpoint) -> tuple[str, WsClient]:
    room = private_room(user)
    client = WsClient(endpoint, user.id_token)
    client.connect()
    client.send("subscribe", conversationId=room)
    return room, client


def ask(client: WsClient, room: str, text: str = "Tell me something", cid: str = "c1") -> None:
    client.send("sendMessage", conversationId=room, clientMessageId=cid, content=text)


def deltas(client: WsClient, reply_id: str) -> list[dict[str, Any]]:
    return [e for e in client.events("message.delta") if e["messageId"] == reply_id]


def in_background(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    return thread, out


def test_deltas_arrive_in_order_and_add_up_to_the_stored_reply(
    chat, endpoint: ConnectionsEndpoint, scripted_model: ScriptedModel
) -> None:  # type: ignore[no-untyped-def]
    room, client = chat
    scripted_model.enqueue(Reply(text=WORDS, token_delay=0.004))
    ask(client, room)
    [invoke] = endpoint.invokes()

    assert run_worker(endpoint, invoke) == {"outcome": "complete"}

    reply_id = invoke.json()["replyId"]
    created = [e["message"] for e in client.events("message.created")]
    assert [(m["role"], m["status"]) for m in created] == [
        ("user", "complete"),
        ("assistant", "streaming"),
    ]
    assert created[1]["id"] == reply_id
    assert created[1]["replyTo"] == created[0]["id"]
    stream = deltas(client, reply_id)
    assert [d["seq"] for d in stream] == list(range(1, len(stream) + 1))
    assert 2 <= len(stream) < len(WORDS.split())  # coalesced: fewer frames than tokens
    [completed] = client.events("message.completed")
    final = completed["message"]
    assert final["content"] == "".join(d["delta"] for d in stream) == WORDS
    assert final["status"] == "complete"
    assert final["usage"]["outputTokens"] == len(WORDS.split())
    assert final["usage"]["inputTokens"] > 0
    stored = store().messages.get(room, reply_id)
    assert (stored.content, stored.status) == (WORDS, "complete")
    # the model saw the question, after the system prompt
    sent = scripted_model.completions()[0].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]
    assert sent[-1]["content"] == "Tell me something"
    # and the order on the wire: created, deltas, completed
    kinds = [e["type"] for e in client.events() if e["type"].startswith("message.")]
    assert kinds == ["message.created", "message.created"] + ["message.delta"] * len(stream) + [
        "message.completed"
    ]


def test_stop_cancels_the_model_and_keeps_what_was_said(
    chat, user: TestUser, endpoint: ConnectionsEndpoint, scripted_model: ScriptedModel
) -> None:  # type: ignore[no-untyped-def]
    room, client = chat
    scripted_model.enqueue(Reply(text="la", endless=True, token_delay=0.01))
    ask(client, room)
    [invoke] = endpoint.invokes()
    reply_id = invoke.json()["replyId"]
    worker, outcome = in_background(lambda: run_worker(endpoint, invoke))
    assert endpoint.wait_for(lambda: len(deltas(client, reply_id)) >= 3, timeout=20)

    client.send("stop", conversationId=room, messageId=reply_id)
    frames_at_stop = len(deltas(client, reply_id))
    worker.join(timeout=20)

    assert outcome == [{"outcome": "stopped"}]
    stream = deltas(client, reply_id)
    assert len(stream) - frames_at_stop <= 2  # within one coalescing window (+ the tail)
    [completed] = client.events("message.completed")
    assert completed["message"]["status"] == "stopped"
    assert completed["message"]["content"] == "".join(d["delta"] for d in stream)
    assert store().messages.get(room, reply_id).status == "stopped"
    request = scripted_model.completions()[0]
    deadline = time.monotonic() + 5
    while not request.disconnected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert request.disconnected  # the HTTP stream to the model was really closed
    client.send("stop", conversationId=room, messageId=reply_id)
    assert client.last("error")["code"] == "conflict"


def test_a_provider_fault_mid_stream_fails_the_reply_and_keeps_the_question(
    chat, endpoint: ConnectionsEndpoint, scripted_model: ScriptedModel
) -> None:  # type: ignore[no-untyped-def]
    room, client = chat
    scripted_model.enqueue(Reply(text=WORDS, token_delay=0.01, break_after=12))
    ask(client, room)
    [invoke] = endpoint.invokes()
    reply_id = invoke.json()["replyId"]

    assert run_worker(endpoint, invoke) == {"outcome": "failed"}

    [failed] = client.events("message.failed")
    question = store().messages.get(room, failed["replyTo"])
    assert (question.role, question.content) == ("user", "Tell me something")
    assert failed["messageId"] == reply_id
    assert failed["retryable"] is True
    assert failed["reason"] == "The assistant's reply was cut off"
    reply = store().messages.get(room, reply_id)
    assert reply.status == "failed"
    assert reply.content == "".join(d["delta"] for d in deltas(client, reply_id))
    assert client.events("message.completed") == []

    # the retry action asks again, for the same question
    scripted_model.enqueue(Reply(text="Second try works"))
    client.send("retry", conversationId=room, messageId=question.id)
    retry = endpoint.invokes()[-1]
    assert retry.json()["replyTo"] == question.id
    assert retry.json()["replyId"] != reply_id
    assert run_worker(endpoint, retry) == {"outcome": "complete"}
    assert client.last("message.completed")["message"]["content"] == "Second try works"


def test_a_refused_model_call_fails_cleanly(
    chat, endpoint: ConnectionsEndpoint, scripted_model: ScriptedModel
) -> None:  # type: ignore[no-untyped-def]
    room, client = chat
    scripted_model.enqueue(Reply(status=500))
    ask(client, room)
    [invoke] = endpoint.invokes()

    assert run_worker(endpoint, invoke) == {"outcome": "failed"}

    [failed] = client.events("message.failed")
    assert failed["retryable"] is True
    assert "scripted failure" not in failed["reason"]  # provider details stay in the logs
    assert client.events("message.delta") == []


def test_a_reload_mid_stream_resumes_without_loss_or_duplication(
    chat, user: TestUser, endpoint: ConnectionsEndpoint, scripted_model: ScriptedModel
) -> None:  # type: ignore[no-untyped-def]
    room, client = chat
    go = threading.Event()
    scripted_model.enqueue(Reply(text=WORDS, token_delay=0.01, pause_after=30, resume=go))
    ask(client, room)
    [invoke] = endpoint.invokes()
    reply_id = invoke.json()["replyId"]
    worker, _ = in_background(lambda: run_worker(endpoint, invoke))
    assert endpoint.wait_for(lambda: len(deltas(client, reply_id)) >= 2, timeout=20)

    reloaded = WsClient(endpoint, user.id_token)  # the page reloads: a new connection
    reloaded.connect()
    reloaded.send("subscribe", conversationId=room)  # while the reply is surely mid-way
    go.set()
    worker.join(timeout=30)

    [snapshot] = reloaded.last("subscribed")["streaming"]
    assert snapshot["messageId"] == reply_id
    assert snapshot["seq"] >= 1
    later = [d for d in deltas(reloaded, reply_id) if d["seq"] > snapshot["seq"]]
    assert [d["seq"] for d in later] == list(
        range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(later))
    )
    final = reloaded.last("message.completed")["message"]["content"]
    assert snapshot["content"] + "".join(d["delta"] for d in later) == final == WORDS
    # what the first tab saw adds up too
    assert "".join(d["delta"] for d in deltas(client, reply_id)) == WORDS


@pytest.mark.parametrize("persist_every", [0.0, 60.0], ids=["every_chunk", "once"])
def test_a_late_subscriber_hears_every_chunk_whatever_the_snapshot_holds(
    chat,
    user: TestUser,
    endpoint: ConnectionsEndpoint,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
    persist_every: float,
) -> None:  # type: ignore[no-untyped-def]
    """The text is persisted every few seconds, not per chunk: a subscriber who joins between
    two writes gets an older snapshot, and the writer sends it the chunks after it."""
    from parley import replies

    monkeypatch.setattr(replies, "PERSIST_EVERY", persist_every)
    clear_parley_caches()
    room, client = chat
    go = threading.Event()
    scripted_model.enqueue(Reply(text=WORDS, token_delay=0.01, pause_after=30, resume=go))
    ask(client, room)
    [invoke] = endpoint.invokes()
    reply_id = invoke.json()["replyId"]
    worker, _ = in_background(lambda: run_worker(endpoint, invoke))
    assert endpoint.wait_for(lambda: len(deltas(client, reply_id)) >= 2, timeout=20)

    late = WsClient(endpoint, user.id_token)
    late.connect()
    late.send("subscribe", conversationId=room)  # while the reply is surely mid-way
    go.set()
    worker.join(timeout=30)

    [snapshot] = late.last("subscribed")["streaming"]
    if persist_every:
        assert snapshot["seq"] == 1  # only the first chunk was written before the end
    heard = {d["seq"]: d["delta"] for d in deltas(late, reply_id) if d["seq"] > snapshot["seq"]}
    last = max(heard)
    assert sorted(heard) == list(range(snapshot["seq"] + 1, last + 1))  # no gap
    final = late.last("message.completed")["message"]["content"]
    assert snapshot["content"] + "".join(heard[s] for s in sorted(heard)) == final == WORDS


class Crash(BaseException):
    """The Lambda process dying: no handler of ours sees it."""


def test_a_worker_retried_after_a_crash_between_store_and_post_answers_once(
    chat,
    endpoint: ConnectionsEndpoint,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    from parley.realtime.fanout import Broadcaster

    room, client = chat
    scripted_model.enqueue(Reply(text="The one answer"))
    ask(client, room)
    [invoke] = endpoint.invokes()
    reply_id = invoke.json()["replyId"]
    real = Broadcaster.broadcast

    def dies_before_completion(self, conversation_id, event, **kw):  # type: ignore[no-untyped-def]
        if event.type == "message.completed":
            raise Crash
        return real(self, conversation_id, event, **kw)

    monkeypatch.setattr(Broadcaster, "broadcast", dies_before_completion)
    with pytest.raises(Crash):
        run_worker(endpoint, invoke)
    assert store().messages.get(room, reply_id).status == "complete"  # stored, not announced
    assert client.events("message.completed") == []
    monkeypatch.setattr(Broadcaster, "broadcast", real)

    assert run_worker(endpoint, invoke) == {"outcome": "reannounced"}  # Lambda's retry
    assert run_worker(endpoint, invoke) == {"outcome": "duplicate"}  # and a late duplicate

    assert len(scripted_model.completions()) == 1
    [completed] = client.events("message.completed")
    assert completed["message"]["content"] == "The one answer"
    replies = [
        m for m in store().messages.page(room, limit=50, cursor=None)[0] if m.role == "assistant"
    ]
    assert [m.id for m in replies] == [reply_id]


def test_a_worker_that_died_mid_stream_is_closed_by_the_retry(
    chat,
    endpoint: ConnectionsEndpoint,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    from parley import replies as worker_module
    from parley.realtime.fanout import Broadcaster

    room, client = chat
    scripted_model.enqueue(Reply(text=WORDS, token_delay=0.005))
    ask(client, room)
    [invoke] = endpoint.invokes()
    reply_id = invoke.json()["replyId"]
    real = Broadcaster.broadcast

    def dies_mid_stream(self, conversation_id, event, **kw):  # type: ignore[no-untyped-def]
        if event.type == "message.delta" and event.seq == 2:
            raise Crash
        return real(self, conversation_id, event, **kw)

    monkeypatch.setattr(Broadcaster, "broadcast", dies_mid_stream)
    with pytest.raises(Crash):
        run_worker(endpoint, invoke)
    monkeypatch.setattr(Broadcaster, "broadcast", real)

    # a duplicate delivered while the first might still be running is refused (Lambda retries)
    with pytest.raises(worker_module.ReplyBusy):
        run_worker(endpoint, invoke)
    monkeypatch.setattr(worker_module, "STALE_AFTER_SECONDS", 0.0)  # time passes
    assert run_worker(endpoint, invoke) == {"outcome": "failed_interrupted"}

    [failed] = client.events("message.failed")
    assert (failed["messageId"], failed["retryable"]) == (reply_id, True)
    assert store().messages.get(room, reply_id).status == "failed"
    assert len(scripted_model.completions()) == 1
    client.send("subscribe", conversationId=room)
    assert client.last("subscribed")["streaming"] == []


def group_room(owner: TestUser, *members: TestUser) -> str:
    profiles = store().profiles
    room = (
        store()
        .conversations.create(
            profiles.ensure(owner.sub, owner.email, owner.name), kind="group", title="Team"
        )
        .id
    )
    for member in members:
        profile = profiles.ensure(member.sub, member.email, member.name)
        store().conversations.add_member(store().conversations.record(room), profile)
    return str(room)


def test_in_a_group_the_assistant_reads_the_room_with_names(
    user: TestUser,
    other_user: TestUser,
    endpoint: ConnectionsEndpoint,
    scripted_model: ScriptedModel,
) -> None:
    room = group_room(user, other_user)
    me, them = WsClient(endpoint, user.id_token), WsClient(endpoint, other_user.id_token)
    for client in (me, them):
        client.connect()
        client.send("subscribe", conversationId=room)
    me.send("sendMessage", conversationId=room, clientMessageId="1", content="Lunch at noon?")
    them.send("sendMessage", conversationId=room, clientMessageId="2", content="Yes, where?")
    me.send(
        "sendMessage",
        conversationId=room,
        clientMessageId="3",
        content="@assistant suggest a place",
    )
    [invoke] = endpoint.invokes()
    scripted_model.enqueue(Reply(text="Try the noodle bar."))

    assert run_worker(endpoint, invoke) == {"outcome": "complete"}

    sent = scripted_model.completions()[0].body["messages"]
    assert sent[0]["role"] == "system"
    assert "group conversation" in sent[0]["content"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", f'"{user.name}": Lunch at noon?'),  # names from the profiles, quoted
        ("user", f'"{other_user.name}": Yes, where?'),
        ("user", f'"{user.name}": @assistant suggest a place'),
    ]
    # both members see the answer stream and complete
    for client in (me, them):
        assert client.last("message.completed")["message"]["content"] == "Try the noodle bar."


def test_a_member_cannot_stop_another_members_reply_but_the_owner_can(
    user: TestUser,
    other_user: TestUser,
    endpoint: ConnectionsEndpoint,
    scripted_model: ScriptedModel,
) -> None:
    room = group_room(user, other_user)
    owner, member = WsClient(endpoint, user.id_token), WsClient(endpoint, other_user.id_token)
    for client in (owner, member):
        client.connect()
        client.send("subscribe", conversationId=room)
    owner.send("sendMessage", conversationId=room, clientMessageId="q", content="@assistant go")
    [invoke] = endpoint.invokes()
    reply_id = invoke.json()["replyId"]
    scripted_model.enqueue(Reply(text="la", endless=True, token_delay=0.01))
    worker, outcome = in_background(lambda: run_worker(endpoint, invoke))
    assert endpoint.wait_for(lambda: len(deltas(member, reply_id)) >= 2, timeout=20)

    member.send("stop", conversationId=room, messageId=reply_id)
    assert member.last("error")["code"] == "forbidden"
    assert worker.is_alive()
    owner.send("stop", conversationId=room, messageId=reply_id)
    worker.join(timeout=20)
    assert outcome == [{"outcome": "stopped"}]


def test_a_very_long_reply_is_cut_so_every_frame_fits(
    chat, endpoint: ConnectionsEndpoint, scripted_model: ScriptedModel
) -> None:  # type: ignore[no-untyped-def]
    from parley.realtime.protocol import MAX_REPLY_BYTES, encoded_size

    room, client = chat
    long = "€uro " * 8000  # 56,000 bytes of UTF-8
    scripted_model.enqueue(Reply(chunks=tuple(long[i : i + 700] for i in range(0, len(long), 700))))
    ask(client, room)
    [invoke] = endpoint.invokes()

    assert run_worker(endpoint, invoke) == {"outcome": "complete"}

    final = client.last("message.completed")["message"]["content"]
    assert long.startswith(final)
    assert MAX_REPLY_BYTES - 10 <= encoded_size(final) <= MAX_REPLY_BYTES
    assert "".join(d["delta"] for d in client.events("message.delta")) == final
    assert max(len(f) for f in endpoint.frames(client.connection_id)) < 32 * 1024


def test_over_quota_questions_are_refused_before_storing(
    chat, user: TestUser, endpoint: ConnectionsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from parley.ids import today
    from parley.models import Usage

    room, client = chat
    monkeypatch.setenv("DAILY_TOKEN_QUOTA", "100")
    clear_parley_caches()
    store().usage.add(user.sub, today(), Usage(input_tokens=60, output_tokens=40))

    ask(client, room, "one more?")

    error = client.last("error")
    assert (error["code"], error["action"]) == ("quota_exceeded", "sendMessage")
    assert store().messages.page(room, limit=10, cursor=None)[0] == []
    assert endpoint.invokes() == []


def test_a_reply_that_would_outlive_the_function_is_stored_before_the_timeout(
    chat, endpoint: ConnectionsEndpoint, scripted_model: ScriptedModel
) -> None:  # type: ignore[no-untyped-def]
    from parley.jobs import ReplyJob
    from parley.replies import DEADLINE_MARGIN
    from parley.services import reply_writer

    room, client = chat
    scripted_model.enqueue(Reply(text="la", endless=True, token_delay=0.01))
    ask(client, room)
    [invoke] = endpoint.invokes()
    job = ReplyJob.model_validate(invoke.json())

    started = time.monotonic()
    outcome = reply_writer().run(job, time_left=DEADLINE_MARGIN + 3.0)

    assert outcome.status == "complete"  # an endless answer, ended by the deadline
    assert 3.0 <= time.monotonic() - started < DEADLINE_MARGIN + 3.0
    final = client.last("message.completed")["message"]
    assert final["content"] == "".join(d["delta"] for d in deltas(client, job.reply_id))
    assert final["content"].startswith("la")
    assert store().messages.get(room, job.reply_id).content == final["content"]


def test_metrics_are_published_as_emf(
    chat,
    endpoint: ConnectionsEndpoint,
    scripted_model: ScriptedModel,
    capsys: pytest.CaptureFixture[str],
) -> None:  # type: ignore[no-untyped-def]
    room, client = chat
    endpoint.mark_gone("gone-tab=")
    from parley.services import connections_repository

    connections_repository().connect("gone-tab=", client.context["userId"], "x")
    connections_repository().subscribe("gone-tab=", room)
    scripted_model.enqueue(Reply(text=WORDS, token_delay=0.002))
    capsys.readouterr()
    ask(client, room)
    [invoke] = endpoint.invokes()
    run_worker(endpoint, invoke)

    published: dict[str, list[float]] = {}
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            [directive] = document["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == "Parley"
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                published.setdefault(metric["Name"], []).extend(
                    value if isinstance(value, list) else [value]
                )
    assert published["StaleConnectionsRemoved"] == [1.0]
    assert published["MessagesSent"] == [1.0]
    assert min(published["FanoutSize"]) >= 1
    assert published["FanoutDuration"]
    assert published["BotTimeToFirstToken"][0] > 0
    assert published["BotOutputTokens"] == [float(len(WORDS.split()))]
    assert published["BotInputTokens"][0] > 0
    assert published["DeltaFramesPerReply"] == [
        float(len(deltas(client, invoke.json()["replyId"])))
    ]
