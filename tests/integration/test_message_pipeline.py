"""One message pipeline: the same scenario over HTTP and over the WebSocket gives the same result.

Each scenario runs twice against a fresh moto — once through `chat_api` (`POST
/conversations/{id}/messages`, the reply written inline) and once through `ws_message` and
`bot_worker` — and what a person could observe is compared: the stored messages, the title,
the history the model was sent and the events a live subscriber received. The concurrent cases
(membership changing while a reply streams, many sends racing the daily quota) follow.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser
from tests.support.connections_endpoint import ConnectionsEndpoint, WsClient, run_worker
from tests.support.environment import clear_parley_caches

WORDS = " ".join(f"word{i}" for i in range(40))


def store():  # type: ignore[no-untyped-def]
    from parley.store import get_store

    return get_store()


def http(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
    from chat_api.app import handler

    return call(handler, method, path, headers=user.bearer(), **kwargs)


def make_room(owner: TestUser, *members: TestUser, kind: str = "group") -> str:
    room = http("POST", "/conversations", owner, body={"kind": kind})
    assert room.status == 201, room.text
    for member in members:
        store().profiles.ensure(member.sub, member.email, member.name)
        added = http("POST", f"/conversations/{room.json['id']}/members", owner,
                     body={"email": member.email})  # fmt: skip
        assert added.status == 201, added.text
    return str(room.json["id"])


def online(endpoint: ConnectionsEndpoint, user: TestUser, room: str | None = None) -> WsClient:
    client = WsClient(endpoint, user.id_token)
    client.connect()
    if room is not None:
        client.send("subscribe", conversationId=room)
    return client


def in_background(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    return thread, out


# -- the two transports -------------------------------------------------------------------------
class Transport:
    name = ""

    def __init__(self, endpoint: ConnectionsEndpoint) -> None:
        self.endpoint = endpoint

    def send(self, user: TestUser, room: str, content: str, cid: str) -> str | None:
        """Post a message and let any reply finish; the error code of a refusal, else None."""
        raise NotImplementedError


class Http(Transport):
    name = "http"

    def send(self, user: TestUser, room: str, content: str, cid: str) -> str | None:
        answer = http("POST", f"/conversations/{room}/messages", user,
                      body={"content": content, "clientMessageId": cid})  # fmt: skip
        if answer.status >= 400:
            return str(answer.json["error"]["code"])
        assert answer.status == 201, answer.text
        return None


class WebSocket(Transport):
    name = "websocket"

    def __init__(self, endpoint: ConnectionsEndpoint) -> None:
        super().__init__(endpoint)
        self.clients: dict[str, WsClient] = {}

    def send(self, user: TestUser, room: str, content: str, cid: str) -> str | None:
        client = self.clients.get(user.sub) or online(self.endpoint, user, room)
        self.clients[user.sub] = client
        done = len(self.endpoint.invokes())
        before = len(client.events("error", "message.failed"))
        client.send("sendMessage", conversationId=room, clientMessageId=cid, content=content)
        for invoke in self.endpoint.invokes()[done:]:
            run_worker(self.endpoint, invoke)
        errors = client.events("error", "message.failed")[before:]
        if not errors:
            return None
        # a reply that fails is told by an event here, by the HTTP response there
        return (
            "assistant_unavailable"
            if errors[-1]["type"] == "message.failed"
            else str(errors[-1]["code"])
        )


# -- what is observed ---------------------------------------------------------------------------
@dataclass
class Observed:
    refusals: list[str | None] = field(default_factory=list)
    stored: list[tuple[Any, ...]] = field(default_factory=list)
    title: str = ""
    model_calls: list[list[tuple[str, str]]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)


def observe(room: str, watcher: WsClient, model: ScriptedModel) -> Observed:
    messages, _ = store().messages.page(room, limit=100, cursor=None)
    seen = Observed()
    seen.stored = [
        (m.role, m.author_id, m.author_name, m.content, m.status) for m in reversed(messages)
    ]
    seen.title = store().conversations.record(room).title
    seen.model_calls = [
        [(t["role"], t["content"]) for t in r.body["messages"]] for r in model.completions()
    ]
    streamed = ""
    for event in watcher.events():
        kind = event["type"]
        if kind == "message.delta":
            streamed += event["delta"]
            continue
        if streamed:
            seen.events.append(("message.delta", streamed))
            streamed = ""
        if kind in ("message.created", "message.completed"):
            message = event["message"]
            seen.events.append((kind, message["role"], message["content"], message["status"]))
        elif kind == "message.failed":
            seen.events.append((kind, event["retryable"]))
    return seen


@dataclass(frozen=True)
class Scenario:
    kind: str
    sends: tuple[tuple[str, str], ...]
    replies: tuple[Reply, ...] = ()
    used_of_quota: tuple[int, int] | None = None
    """(tokens used today, daily quota)"""


SCENARIOS = {
    "assistant chat": Scenario(
        "assistant", (("**Explain** `x`", "c1"), ("And `y`?", "c2")),
        (Reply(text="x is a letter"), Reply(text="y too")),
    ),
    "group without mention": Scenario("group", (("hello Bob, *lunch*?", "c1"),)),
    "group with @assistant": Scenario(
        "group", (("hi all", "c1"), ("@assistant what is 2+2?", "c2")), (Reply(text="4"),)
    ),
    "quota exhausted": Scenario(
        "assistant", (("one more?", "c1"),), (Reply(text="never"),), used_of_quota=(100, 100)
    ),
    "provider failure": Scenario("assistant", (("Will you answer?", "c1"),), (Reply(status=500),)),
    "duplicate clientMessageId": Scenario(
        "assistant", (("Once only", "c1"), ("Once only", "c1")), (Reply(text="Said once"),)
    ),
}  # fmt: skip


def run_scenario(
    scenario: Scenario,
    transport: Transport,
    alice: TestUser,
    bob: TestUser,
    model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
) -> Observed:
    if scenario.used_of_quota is not None:
        from parley.ids import today
        from parley.models import Usage

        used, quota = scenario.used_of_quota
        monkeypatch.setenv("DAILY_TOKEN_QUOTA", str(quota))
        clear_parley_caches()
        store().usage.add(alice.sub, today(), Usage(input_tokens=used, output_tokens=0))
    room = make_room(alice, bob) if scenario.kind == "group" else make_room(alice, kind="assistant")
    watcher = online(transport.endpoint, bob if scenario.kind == "group" else alice, room)
    model.enqueue(*scenario.replies)
    refusals = [transport.send(alice, room, text, cid) for text, cid in scenario.sends]
    seen = observe(room, watcher, model)
    seen.refusals = refusals
    return seen


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_http_and_websocket_give_the_same_result(
    name: str,
    endpoint: ConnectionsEndpoint,
    make_user: Callable[..., TestUser],
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
    aws: Any,
) -> None:
    scenario = SCENARIOS[name]
    results = {}
    for transport in (Http(endpoint), WebSocket(endpoint)):
        scripted_model.reset()
        endpoint.reset()
        alice, bob = make_user(name="Alice"), make_user(name="Bob")
        results[transport.name] = run_scenario(
            scenario, transport, alice, bob, scripted_model, monkeypatch
        )
        # users differ per run: compare by who, not by id
        who = {alice.sub: "alice", bob.sub: "bob"}
        profiles = {alias: store().profiles.get(sub) for sub, alias in who.items()}
        names = {p.name: alias for alias, p in profiles.items() if p is not None}
        seen = results[transport.name]
        seen.stored = [
            (role, who.get(author, author), names.get(name, name), *rest)
            for role, author, name, *rest in seen.stored
        ]
        for shown, alias in names.items():
            seen.model_calls = [
                [(role, text.replace(f'"{shown}":', f'"{alias}":')) for role, text in call]
                for call in seen.model_calls
            ]
        monkeypatch.delenv("DAILY_TOKEN_QUOTA", raising=False)
        clear_parley_caches()

    over_http, over_ws = results["http"], results["websocket"]
    assert over_http.refusals == over_ws.refusals
    assert over_http.stored == over_ws.stored
    assert over_http.title == over_ws.title
    assert over_http.model_calls == over_ws.model_calls
    assert over_http.events == over_ws.events
    # and what that result is
    expected = {
        "assistant chat": lambda s: (
            s.title == "Explain x"
            and [m[0] for m in s.stored] == ["user", "assistant", "user", "assistant"]
            and s.model_calls[1][1:] == [("user", "**Explain** `x`"), ("assistant",
                                         "x is a letter"), ("user", "And `y`?")]
        ),
        "group without mention": lambda s: (
            s.model_calls == [] and [m[0] for m in s.stored] == ["user"]
            and s.events == [("message.created", "user", "hello Bob, *lunch*?", "complete")]
        ),
        "group with @assistant": lambda s: (
            len(s.model_calls) == 1
            and "group conversation" in s.model_calls[0][0][1]
            and s.model_calls[0][-1] == ("user", '"alice": @assistant what is 2+2?')
            and s.stored[-1][3:] == ("4", "complete")
        ),
        "quota exhausted": lambda s: (
            s.refusals == ["quota_exceeded"] and s.stored == [] and s.model_calls == []
        ),
        "provider failure": lambda s: (
            [m[0::4] for m in s.stored] == [("user", "complete"), ("assistant", "failed")]
            and ("message.failed", True) in s.events
        ),
        "duplicate clientMessageId": lambda s: (
            [m[0] for m in s.stored] == ["user", "assistant"] and len(s.model_calls) == 1
        ),
    }[name]  # fmt: skip
    assert expected(over_http), over_http


# -- membership changing while a reply streams ---------------------------------------------------
def deltas(client: WsClient) -> list[dict[str, Any]]:
    return client.events("message.delta")


def start_reply(
    endpoint: ConnectionsEndpoint, asker: WsClient, room: str, model: ScriptedModel, reply: Reply
) -> tuple[threading.Thread, list[Any], str]:
    model.enqueue(reply)
    asker.send("sendMessage", conversationId=room, clientMessageId="q", content="@assistant go")
    [invoke] = endpoint.invokes()
    worker, outcome = in_background(lambda: run_worker(endpoint, invoke))
    return worker, outcome, str(invoke.json()["replyId"])


def test_a_member_removed_mid_reply_hears_no_more_of_it(
    endpoint: ConnectionsEndpoint, make_user: Callable[..., TestUser], scripted_model: ScriptedModel
) -> None:
    alice, bob = make_user(name="Alice"), make_user(name="Bob")
    room = make_room(alice, bob)
    a, b = online(endpoint, alice, room), online(endpoint, bob, room)
    worker, _, reply_id = start_reply(
        endpoint, a, room, scripted_model, Reply(text="la", endless=True, token_delay=0.01)
    )
    assert endpoint.wait_for(lambda: len(deltas(b)) >= 3, timeout=20)

    removed = http("DELETE", f"/conversations/{room}/members/{bob.sub}", alice)
    assert removed.status == 204
    heard_at_removal, alice_at_removal = len(deltas(b)), len(deltas(a))
    # Three more frames for Alice (windows double up to 3 s): Bob would have heard them too.
    assert endpoint.wait_for(lambda: len(deltas(a)) >= alice_at_removal + 3, timeout=20)
    a.send("stop", conversationId=room, messageId=reply_id)
    worker.join(timeout=20)

    assert a.events("message.completed"), "the reply ended for the members"
    assert len(deltas(b)) - heard_at_removal <= 1  # at most the frame already in flight
    assert b.events("message.completed") == []


def test_a_member_added_mid_reply_hears_the_rest_of_it(
    endpoint: ConnectionsEndpoint, make_user: Callable[..., TestUser], scripted_model: ScriptedModel
) -> None:
    alice, bob, carol = make_user(name="Alice"), make_user(name="Bob"), make_user(name="Carol")
    room = make_room(alice, bob)
    a = online(endpoint, alice, room)
    worker, outcome, reply_id = start_reply(
        endpoint, a, room, scripted_model, Reply(text=WORDS, token_delay=0.04)
    )
    assert endpoint.wait_for(lambda: len(deltas(a)) >= 3, timeout=20)

    store().profiles.ensure(carol.sub, carol.email, carol.name)
    added = http("POST", f"/conversations/{room}/members", alice, body={"email": carol.email})
    assert added.status == 201
    c = online(endpoint, carol, room)
    worker.join(timeout=30)

    assert outcome == [{"outcome": "complete"}]
    [snapshot] = c.last("subscribed")["streaming"]
    later = [d for d in deltas(c) if d["seq"] > snapshot["seq"]]
    assert later, "the new member hears the reply go on"
    [completed] = c.events("message.completed")
    assert completed["message"]["id"] == reply_id
    assert snapshot["content"] + "".join(d["delta"] for d in later) == WORDS
    assert completed["message"]["content"] == WORDS


# -- the daily quota under concurrent sends ------------------------------------------------------
def exhaust_all_but_one(user: TestUser, monkeypatch: pytest.MonkeyPatch, quota: int = 1000) -> None:
    from parley.ids import today
    from parley.models import Usage

    monkeypatch.setenv("DAILY_TOKEN_QUOTA", str(quota))
    clear_parley_caches()
    store().usage.add(user.sub, today(), Usage(input_tokens=quota - 1, output_tokens=0))


def test_ten_concurrent_websocket_sends_with_one_token_left_start_one_model_call(
    endpoint: ConnectionsEndpoint,
    user: TestUser,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exhaust_all_but_one(user, monkeypatch)
    rooms = [make_room(user, kind="assistant") for _ in range(10)]
    clients = [online(endpoint, user) for _ in rooms]
    barrier = threading.Barrier(len(rooms))

    def send(client: WsClient, room: str) -> None:
        barrier.wait()
        client.send("sendMessage", conversationId=room, clientMessageId="q", content="hi")

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(clients, rooms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for invoke in endpoint.invokes():
        run_worker(endpoint, invoke)

    assert len(scripted_model.completions()) == 1
    refused = [c.last("error") for c in clients if c.events("error")]
    assert len(refused) == 9
    assert {e["code"] for e in refused} == {"quota_exceeded"}
    assert all("00:00 UTC" in e["message"] for e in refused)


def test_five_concurrent_http_posts_with_one_token_left_start_one_model_call(
    endpoint: ConnectionsEndpoint,
    user: TestUser,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The claim is what keeps the quota: five asks race it in one process, as five `chat_api`
    instances would (one handler per request in Lambda, so each races through its own pipeline
    here; the module-level router of one handler can't serve two threads at once)."""
    from parley.errors import QuotaExceeded
    from parley.profiles import profile_of
    from parley.services import api_pipeline
    from parley.store import get_store

    exhaust_all_but_one(user, monkeypatch)
    rooms = [make_room(user, kind="assistant") for _ in range(5)]
    pipeline, writer = api_pipeline()
    me = profile_of(get_store(), user.sub, user.email, user.name)
    barrier = threading.Barrier(len(rooms))
    outcomes: list[str] = []

    def post(room: str) -> None:
        barrier.wait()
        try:
            pipeline.ask(me, room, "hi", client_message_id="q",
                         run=lambda job: writer.run(job, time_left=20))  # fmt: skip
            outcomes.append("answered")
        except QuotaExceeded:
            outcomes.append("quota")

    threads = [threading.Thread(target=post, args=(room,)) for room in rooms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(scripted_model.completions()) == 1
    assert sorted(outcomes) == ["answered", "quota", "quota", "quota", "quota"]
    # Over HTTP, the refusal is a 429 that says when to come back.
    refused = http("POST", f"/conversations/{rooms[0]}/messages", user,
                   body={"content": "again", "clientMessageId": "q2"})  # fmt: skip
    assert refused.status == 429
    assert refused.headers.get("retry-after")


def test_one_reply_in_flight_per_user_and_conversation(
    endpoint: ConnectionsEndpoint, user: TestUser, scripted_model: ScriptedModel
) -> None:
    room = make_room(user, kind="assistant")
    client = online(endpoint, user, room)
    scripted_model.enqueue(Reply(text="la", endless=True, token_delay=0.01))
    client.send("sendMessage", conversationId=room, clientMessageId="q1", content="first")
    client.send("sendMessage", conversationId=room, clientMessageId="q2", content="second")

    assert len(endpoint.invokes()) == 1
    assert client.last("error")["code"] == "conflict"
    contents = [m.content for m in store().messages.page(room, limit=10, cursor=None)[0]]
    assert contents == ["first"]  # the refused question is not half-sent


@pytest.mark.parametrize("ending", ["stop", "failure"])
def test_the_reservation_is_released_when_a_reply_ends_early(
    ending: str,
    endpoint: ConnectionsEndpoint,
    user: TestUser,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAILY_TOKEN_QUOTA", "100000")
    clear_parley_caches()
    room = make_room(user, kind="assistant")
    client = online(endpoint, user, room)
    if ending == "stop":
        scripted_model.enqueue(Reply(text="la", endless=True, token_delay=0.01))
    else:
        scripted_model.enqueue(Reply(text=WORDS, token_delay=0.01, break_after=5))
    client.send("sendMessage", conversationId=room, clientMessageId="q1", content="first")
    [invoke] = endpoint.invokes()
    reply_id = invoke.json()["replyId"]
    held = http("GET", "/me", user).json["usage"]
    assert held["remaining"] < 100000 - 100  # the question holds a reservation while it runs
    worker, _ = in_background(lambda: run_worker(endpoint, invoke))
    if ending == "stop":
        assert endpoint.wait_for(lambda: len(client.events("message.delta")) >= 2, timeout=20)
        client.send("stop", conversationId=room, messageId=reply_id)
    worker.join(timeout=20)

    usage = http("GET", "/me", user).json["usage"]
    spent = usage["inputTokens"] + usage["outputTokens"]
    assert usage["remaining"] == 100000 - spent  # nothing is held any more
    assert spent < 1000  # what was really used, not the reservation
    scripted_model.enqueue(Reply(text="again"))
    client.send("sendMessage", conversationId=room, clientMessageId="q2", content="second")
    assert len(endpoint.invokes()) == 2  # the conversation takes a new question at once


def test_reply_job_contract_lives_in_a_neutral_module() -> None:
    from parley.jobs import ReplyJob

    job = ReplyJob(conversation_id="c", reply_id="r", reply_to="m", requested_by="u")
    assert json.loads(job.model_dump_json(by_alias=True))["replyId"] == "r"


def test_a_worker_that_dies_before_settling_is_settled_by_its_retry(
    endpoint: ConnectionsEndpoint,
    user: TestUser,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parley.quota import Quota

    monkeypatch.setenv("DAILY_TOKEN_QUOTA", "100000")
    clear_parley_caches()
    room = make_room(user, kind="assistant")
    client = online(endpoint, user, room)
    scripted_model.enqueue(Reply(text="the answer"))
    client.send("sendMessage", conversationId=room, clientMessageId="q1", content="question")
    [invoke] = endpoint.invokes()
    real = Quota.settle

    def dies(self: Quota, *args: Any, **kwargs: Any) -> bool:  # the reply is stored; it dies here
        raise RuntimeError("container lost")

    monkeypatch.setattr(Quota, "settle", dies)
    with pytest.raises(RuntimeError):
        run_worker(endpoint, invoke)
    monkeypatch.setattr(Quota, "settle", real)

    assert run_worker(endpoint, invoke) == {"outcome": "reannounced"}  # Lambda's retry
    assert run_worker(endpoint, invoke) == {"outcome": "duplicate"}  # and a late duplicate

    usage = http("GET", "/me", user).json["usage"]
    spent = usage["inputTokens"] + usage["outputTokens"]
    assert 0 < spent < 1000  # counted once, the real usage
    assert usage["remaining"] == 100000 - spent
    assert len(scripted_model.completions()) == 1
    scripted_model.enqueue(Reply(text="again"))
    client.send("sendMessage", conversationId=room, clientMessageId="q2", content="next")
    assert len(endpoint.invokes()) == 2  # the slot was freed
