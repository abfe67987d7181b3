"""Long input, branches and personal events through the real handlers (`ws_message`,
`bot_worker`, `chat_api`) over moto, the loopback @connections endpoint and the scripted model.

* a message over the limit is refused by both transports with the same sentence, before any
  claim or model call; a provider's context-length refusal ends the reply with a clear reason
  that is not offered for retry;
* an edit branches the chat: the model's request holds the current branch only; asking again
  makes a second version of the reply; an edit while the reply streams is refused;
* a member added, removed, or a conversation renamed or deleted reaches every open connection
  of each person it concerns, subscribed or not (two devices at once).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from tasks.local.bootstrap import LocalResources
from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser
from tests.support.connections_endpoint import ConnectionsEndpoint, WsClient, run_worker


def store():  # type: ignore[no-untyped-def]
    from parley.store import get_store

    return get_store()


def http(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
    from chat_api.app import handler

    return call(handler, method, path, headers=user.bearer(), **kwargs)


def device(endpoint: ConnectionsEndpoint, user: TestUser) -> WsClient:
    client = WsClient(endpoint, user.id_token)
    client.connect()
    return client


def conversation(owner: TestUser, kind: str = "assistant", title: str | None = None) -> str:
    created = http("POST", "/conversations", owner, body={"kind": kind, "title": title or "T"})
    assert created.status == 201, created.text
    return str(created.json["id"])


def work(endpoint: ConnectionsEndpoint, done: int) -> int:
    """Run the replies asked since `done` invokes; the new count."""
    invokes = endpoint.invokes()
    for invoke in invokes[done:]:
        run_worker(endpoint, invoke)
    return len(invokes)


@pytest.fixture
def alice(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user(name="Alice")


@pytest.fixture
def bob(make_user: Callable[..., TestUser]) -> TestUser:
    user = make_user(name="Bob")
    store().profiles.ensure(user.sub, user.email, user.name)
    return user


# -- long input ---------------------------------------------------------------------------------
def test_a_message_over_the_limit_is_refused_alike_before_any_claim_or_model_call(
    endpoint: ConnectionsEndpoint,
    alice: TestUser,
    scripted_model: ScriptedModel,
    aws: LocalResources,
) -> None:
    from parley.ids import today
    from tests.support.environment import clear_parley_caches, store_scripted_catalog

    # every model of the catalog reads 2,048 tokens (as the local SmolLM2 does)
    store_scripted_catalog(
        aws, scripted_model.base_url, context_window=2048, max_output_tokens=1024
    )
    clear_parley_caches()
    me = http("GET", "/me", alice)
    limit = me.json["limits"]["messageChars"]
    assert 1000 < limit < 4000  # a 2,048-token window leaves about 3,200 characters
    chat = conversation(alice)
    text = "x" * (limit + 1)
    expected = f"Message is too long: {limit + 1:,} characters; the limit is {limit:,}."

    over_http = http("POST", f"/conversations/{chat}/messages", alice, body={"content": text})
    assert over_http.status == 422, over_http.text
    assert over_http.json["error"] == {**over_http.json["error"], "code": "validation_error",
                                       "message": expected}  # fmt: skip

    phone = device(endpoint, alice)
    phone.send("sendMessage", conversationId=chat, clientMessageId="long", content=text)
    refusal = phone.last("error")
    assert (refusal["code"], refusal["message"]) == ("validation_error", expected)

    assert endpoint.invokes() == []
    assert scripted_model.completions() == []
    assert store().usage.get(alice.sub, today())[1] == 0  # nothing reserved
    assert store().messages.page(chat, limit=5, cursor=None)[0] == []
    accepted = http("POST", f"/conversations/{chat}/messages", alice, body={"content": text[1:]})
    assert accepted.status == 201, accepted.text


def test_a_provider_context_length_refusal_is_a_clear_reason_not_offered_for_retry(
    endpoint: ConnectionsEndpoint, alice: TestUser, scripted_model: ScriptedModel
) -> None:
    from parley.bots import CONTEXT_TOO_LONG

    chat = conversation(alice)
    phone = device(endpoint, alice)
    phone.send("subscribe", conversationId=chat)
    refusal = Reply(
        status=400,
        error_code="context_length_exceeded",
        error_message="This model's maximum context length is 2048 tokens.",
    )
    llama = Reply(status=400, error_message="Requested tokens (3589) exceed context window of 2048")
    for n, reply in enumerate((refusal, llama)):
        scripted_model.enqueue(reply)
        phone.send("sendMessage", conversationId=chat, clientMessageId=f"c{n}", content="hello")
        work(endpoint, n)
        failed = phone.events("message.failed")[-1]
        assert (failed["reason"], failed["retryable"]) == (CONTEXT_TOO_LONG, False)
    assert len(scripted_model.completions()) == 2  # asked once each: never retried

    scripted_model.enqueue(refusal)
    over_http = http("POST", f"/conversations/{chat}/messages", alice, body={"content": "hi"})
    assert over_http.status == 502
    assert CONTEXT_TOO_LONG in over_http.json["error"]["message"]


# -- branches -----------------------------------------------------------------------------------
def test_an_edit_branches_and_the_model_is_sent_the_current_branch_only(
    endpoint: ConnectionsEndpoint, alice: TestUser, scripted_model: ScriptedModel
) -> None:
    chat = conversation(alice)
    phone = device(endpoint, alice)
    phone.send("subscribe", conversationId=chat)
    scripted_model.enqueue(Reply(text="uno"), Reply(text="dos?"), Reply(text="dos"),
                           Reply(text="dos, otra vez"))  # fmt: skip
    done = 0

    def say(cid: str, content: str, **where: str) -> dict[str, Any]:
        nonlocal done
        phone.send("sendMessage", conversationId=chat, clientMessageId=cid, content=content,
                   **where)  # fmt: skip
        done = work(endpoint, done)
        [created] = [e for e in phone.events("message.created")
                     if e["message"].get("clientMessageId") == cid]  # fmt: skip
        return created["message"]  # type: ignore[no-any-return]

    q1 = say("c1", "one")
    a1 = phone.events("message.completed")[-1]["message"]
    q2 = say("c2", "two, badly put", after=a1["id"])
    edited = say("c3", "two", editOf=q2["id"])
    assert edited["parentId"] == a1["id"] == q2["parentId"]
    sent = [(m["role"], m["content"]) for m in scripted_model.completions()[-1].body["messages"]]
    assert sent[1:] == [("user", "one"), ("assistant", "uno"), ("user", "two")]

    # regenerate: a second version of the same reply, the first kept
    phone.send("retry", conversationId=chat, messageId=edited["id"])
    work(endpoint, done)
    sent = [(m["role"], m["content"]) for m in scripted_model.completions()[-1].body["messages"]]
    assert sent[1:] == [("user", "one"), ("assistant", "uno"), ("user", "two")]
    versions = [m for m in store().messages.page(chat, limit=20, cursor=None)[0]
                if m.reply_to == edited["id"]]  # fmt: skip
    assert sorted(m.content for m in versions) == ["dos", "dos, otra vez"]
    assert {m["id"] for m in (q1, q2, edited)} <= {
        m.id for m in store().messages.page(chat, limit=20, cursor=None)[0]
    }


def test_an_edit_while_the_reply_streams_is_refused_and_the_reply_goes_on(
    endpoint: ConnectionsEndpoint, alice: TestUser, scripted_model: ScriptedModel
) -> None:
    chat = conversation(alice)
    phone, laptop = device(endpoint, alice), device(endpoint, alice)
    phone.send("subscribe", conversationId=chat)
    scripted_model.enqueue(Reply(text="a long answer " * 20, token_delay=0.02))
    phone.send("sendMessage", conversationId=chat, clientMessageId="q", content="question")
    question = phone.last("message.created")["message"]
    [invoke] = endpoint.invokes()
    worker = threading.Thread(target=run_worker, args=(endpoint, invoke), daemon=True)
    worker.start()
    assert endpoint.wait_for(lambda: bool(phone.events("message.delta")))
    laptop.send("sendMessage", conversationId=chat, clientMessageId="e", content="better question",
                editOf=question["id"])  # fmt: skip
    assert laptop.last("error")["code"] == "conflict"
    worker.join(timeout=20)
    assert phone.last("message.completed")["message"]["status"] == "complete"
    stored = store().messages.page(chat, limit=10, cursor=None)[0]
    assert [m.role for m in stored] == ["assistant", "user"]
    assert len(scripted_model.completions()) == 1


# -- the personal event stream -------------------------------------------------------------------
def test_people_are_told_on_every_device_when_added_renamed_removed_or_deleted(
    endpoint: ConnectionsEndpoint,
    alice: TestUser,
    bob: TestUser,
    make_user: Callable[..., TestUser],
) -> None:
    room = conversation(alice, kind="group", title="Lunch")
    phone, laptop = device(endpoint, bob), device(endpoint, bob)  # subscribed to nothing
    owner = device(endpoint, alice)

    added = http("POST", f"/conversations/{room}/members", alice, body={"email": bob.email})
    assert added.status == 201, added.text
    for screen in (phone, laptop):
        event = screen.last("conversation.added")
        assert event["conversation"]["id"] == room
        assert (event["conversation"]["title"], event["conversation"]["role"]) == (
            "Lunch",
            "member",
        )

    laptop.send("subscribe", conversationId=room)
    renamed = http("PATCH", f"/conversations/{room}", alice, body={"title": "Friday lunch"})
    assert renamed.status == 200, renamed.text
    for screen, role in ((phone, "member"), (laptop, "member"), (owner, "owner")):
        event = screen.last("conversation.updated")["conversation"]
        assert (event["id"], event["title"], event["role"]) == (room, "Friday lunch", role)

    removed = http("DELETE", f"/conversations/{room}/members/{bob.sub}", alice)
    assert removed.status == 204, removed.text
    for screen in (phone, laptop):
        event = screen.last("conversation.removed")
        assert (event["conversationId"], event["reason"]) == (room, "removed")
    assert not [s for s in store_connections().subscribers(room) if s.user_id == bob.sub]
    before = len(laptop.events())
    owner.send("subscribe", conversationId=room)
    owner.send("typing", conversationId=room, isTyping=True)
    assert [e["type"] for e in laptop.events()[before:]] == []  # hears the room no more
    assert not list(owner.events("conversation.removed"))  # told only who it concerns

    carol = make_user(name="Carol")
    store().profiles.ensure(carol.sub, carol.email, carol.name)
    http("POST", f"/conversations/{room}/members", alice, body={"email": carol.email})
    carols = device(endpoint, carol)
    deleted = http("DELETE", f"/conversations/{room}", alice)
    assert deleted.status == 204, deleted.text
    for screen in (carols, owner):
        event = screen.last("conversation.removed")
        assert (event["conversationId"], event["reason"]) == (room, "deleted")
    assert len(phone.events("conversation.removed")) == 1  # bob was no longer a member


def test_someone_who_leaves_is_told_on_their_other_devices(
    endpoint: ConnectionsEndpoint, alice: TestUser, bob: TestUser
) -> None:
    room = conversation(alice, kind="group")
    http("POST", f"/conversations/{room}/members", alice, body={"email": bob.email})
    phone, laptop = device(endpoint, bob), device(endpoint, bob)
    endpoint.mark_gone(laptop.connection_id)  # closed without a $disconnect
    left = http("DELETE", f"/conversations/{room}/members/{bob.sub}", bob)
    assert left.status == 204, left.text
    assert phone.last("conversation.removed")["reason"] == "left"
    assert laptop.connection_id not in store_connections().user_connections([bob.sub]).get(
        bob.sub, []
    )


def store_connections():  # type: ignore[no-untyped-def]
    from parley.services import connections_repository

    return connections_repository()
