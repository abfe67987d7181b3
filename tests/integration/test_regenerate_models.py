"""Regenerate with another model, through the real handlers (`ws_message`, `bot_worker`,
`chat_api`) over moto, the loopback @connections endpoint and the scripted model server:

* `retry` with a `model` asks that model for a new version of the reply: the provider receives
  it, both versions are kept, each with its model and cost, and the conversation's model stays;
* a model the catalog does not list, or one the caller may not use, is refused before anything
  is claimed, asked or written;
* two regenerates of one reply at once: one person's second is refused (one reply slot), so
  nothing is billed twice; two people's (a room's owner and the author) make two versions,
  each billed to who asked for it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from tasks.local.bootstrap import LocalResources, clients
from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser
from tests.support.connections_endpoint import ConnectionsEndpoint, WsClient, run_worker

# tasks/local/models.yaml: the scripted models' prices (USD per 1M tokens) and provider ids
PRICES = {
    "scripted": (Decimal("0.15"), Decimal("0.6")),
    "scripted-mini": (Decimal("0.05"), Decimal("0.2")),
    "scripted-staff": (Decimal("3"), Decimal("15")),
}
SENT_AS = {"scripted": "scripted-model", "scripted-mini": "scripted-mini"}


def store():  # type: ignore[no-untyped-def]
    from parley.store import get_store

    return get_store()


def http(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
    from chat_api.app import handler

    return call(handler, method, path, headers=user.bearer(), **kwargs)


def device(endpoint: ConnectionsEndpoint, user: TestUser, conversation_id: str) -> WsClient:
    client = WsClient(endpoint, user.id_token)
    client.connect()
    client.send("subscribe", conversationId=conversation_id)
    return client


def cost_of(model: str, usage: dict[str, int]) -> Decimal:
    price_in, price_out = PRICES[model]
    spent = usage["inputTokens"] * price_in + usage["outputTokens"] * price_out
    return spent / Decimal(1_000_000)


def versions(conversation_id: str, question_id: str) -> list[Any]:
    """The stored replies to one question, oldest first."""
    stored = store().messages.page(conversation_id, limit=50, cursor=None)[0]
    return sorted((m for m in stored if m.reply_to == question_id), key=lambda m: m.id)


def costs(replies: Iterable[Any]) -> Decimal:
    """What the replies cost together (USD), as stored."""
    return sum((Decimal(str(m.cost_usd)) for m in replies), Decimal(0))


def spent(user: TestUser) -> tuple[Decimal, int]:
    """What the user's day cost (USD) and the tokens replies in flight still hold."""
    from parley.ids import today

    _, reserved, cost = store().usage.read_day(user.sub, today())
    return cost, reserved


@pytest.fixture
def staff_user(make_user: Callable[..., TestUser], aws: LocalResources) -> TestUser:
    """A user in the Cognito group `staff`, signed in again so the token names the group."""
    person = make_user(name="Sam")
    _, cognito, _ = clients(aws.endpoint_url, aws.region)
    with contextlib.suppress(cognito.exceptions.GroupExistsException):
        cognito.create_group(GroupName="staff", UserPoolId=aws.user_pool_id)
    cognito.admin_add_user_to_group(
        UserPoolId=aws.user_pool_id, Username=person.email, GroupName="staff"
    )
    auth = cognito.initiate_auth(
        ClientId=aws.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": person.email, "PASSWORD": person.password},
    )["AuthenticationResult"]
    return replace(person, id_token=auth["IdToken"], access_token=auth["AccessToken"])


def first_exchange(
    endpoint: ConnectionsEndpoint, phone: WsClient, chat: str, text: str = "hello"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask once and run the reply; the question and the finished reply."""
    phone.send("sendMessage", conversationId=chat, clientMessageId="q1", content=text)
    question = phone.last("message.created")["message"]
    run_worker(endpoint, endpoint.invokes()[-1])
    return question, phone.last("message.completed")["message"]


def test_regenerate_with_another_model_keeps_both_versions_with_their_models_and_costs(
    endpoint: ConnectionsEndpoint, user: TestUser, scripted_model: ScriptedModel
) -> None:
    chat = http("POST", "/conversations", user, body={"model": "scripted"}).json["id"]
    phone = device(endpoint, user, chat)
    scripted_model.enqueue(
        Reply(text="Paris.", prompt_tokens=900),
        Reply(text="It is Paris, France.", prompt_tokens=700),
    )
    question, first = first_exchange(endpoint, phone, chat, "What is the capital of France?")
    assert first["model"] == "scripted"

    phone.send("retry", conversationId=chat, messageId=question["id"], model="scripted-mini")
    [_, asked] = endpoint.invokes()
    assert asked.json()["model"] == "scripted-mini"  # the job carries the model checked
    run_worker(endpoint, asked)
    request = scripted_model.completions()[-1].body
    assert request is not None
    assert request["model"] == SENT_AS["scripted-mini"]
    assert request["max_tokens"] == 512  # the chosen model's output limit, not the first's
    assert [m["content"] for m in request["messages"] if m["role"] == "user"] == [
        "What is the capital of France?"
    ]
    second = phone.last("message.completed")["message"]
    assert (second["replyTo"], second["model"], second["content"]) == (
        question["id"],
        "scripted-mini",
        "It is Paris, France.",
    )
    assert Decimal(str(second["costUsd"])) == cost_of("scripted-mini", second["usage"])

    # Both versions are kept, each with the model that wrote it and what it cost.
    listed = http("GET", f"/conversations/{chat}/messages", user).json["items"]
    replies = {m["id"]: m for m in listed if m.get("replyTo") == question["id"]}
    assert {(m["model"], m["content"]) for m in replies.values()} == {
        ("scripted", "Paris."),
        ("scripted-mini", "It is Paris, France."),
    }
    assert Decimal(str(replies[first["id"]]["costUsd"])) == cost_of("scripted", first["usage"])
    assert Decimal(str(replies[second["id"]]["costUsd"])) == cost_of(
        "scripted-mini", second["usage"]
    )
    # The conversation's own model is unchanged: the next reply is its model's again.
    assert http("GET", f"/conversations/{chat}", user).json["model"] == "scripted"
    assert phone.events("conversation.updated") == []
    phone.send("retry", conversationId=chat, messageId=question["id"])
    run_worker(endpoint, endpoint.invokes()[-1])
    assert phone.last("message.completed")["message"]["model"] == "scripted"
    assert scripted_model.completions()[-1].body["model"] == SENT_AS["scripted"]  # type: ignore[index]
    assert len(versions(chat, question["id"])) == 3
    # The day's cost is the three replies' together; nothing is held any more.
    assert spent(user) == (costs(versions(chat, question["id"])), 0)


@pytest.mark.parametrize(
    ("model", "code", "message"),
    [
        ("gpt-9", "bad_request", "Unknown model 'gpt-9': GET /models lists the models you may use"),
        ("scripted-staff", "forbidden", "You may not use the model 'scripted-staff'"),
    ],
)
def test_a_model_outside_the_catalog_or_not_allowed_is_refused_and_nothing_is_written(
    endpoint: ConnectionsEndpoint,
    user: TestUser,
    scripted_model: ScriptedModel,
    model: str,
    code: str,
    message: str,
) -> None:
    chat = http("POST", "/conversations", user, body={}).json["id"]
    phone = device(endpoint, user, chat)
    question, _ = first_exchange(endpoint, phone, chat)
    before = (len(scripted_model.completions()), spent(user))

    phone.send("retry", conversationId=chat, messageId=question["id"], model=model)
    refusal = phone.last("error")
    assert (refusal["code"], refusal["message"], refusal["action"]) == (code, message, "retry")
    assert len(endpoint.invokes()) == 1  # no reply asked
    assert (len(scripted_model.completions()), spent(user)) == before  # nothing asked or held
    assert len(versions(chat, question["id"])) == 1
    assert http("GET", f"/conversations/{chat}", user).json["model"] == "scripted"
    # A malformed id never reaches the catalog.
    phone.send("retry", conversationId=chat, messageId=question["id"], model="Not An Id")
    assert phone.last("error")["code"] == "validation_error"
    assert len(endpoint.invokes()) == 1


def test_a_model_the_caller_may_use_answers_even_where_the_room_uses_another(
    endpoint: ConnectionsEndpoint, user: TestUser, staff_user: TestUser
) -> None:
    """The check is of the model named: a staff member regenerates with the staff model in a
    chat on the default, and the default user is refused it in the same way in their own."""
    chat = http("POST", "/conversations", staff_user, body={}).json["id"]
    phone = device(endpoint, staff_user, chat)
    question, _ = first_exchange(endpoint, phone, chat)
    phone.send("retry", conversationId=chat, messageId=question["id"], model="scripted-staff")
    run_worker(endpoint, endpoint.invokes()[-1])
    done = phone.last("message.completed")["message"]
    assert done["model"] == "scripted-staff"
    assert Decimal(str(done["costUsd"])) == cost_of("scripted-staff", done["usage"])
    assert http("GET", f"/conversations/{chat}", staff_user).json["model"] == "scripted"


def test_two_regenerates_at_once_by_one_person_make_one_version_billed_once(
    endpoint: ConnectionsEndpoint, user: TestUser, scripted_model: ScriptedModel
) -> None:
    chat = http("POST", "/conversations", user, body={}).json["id"]
    phone, laptop = device(endpoint, user, chat), device(endpoint, user, chat)
    question, first = first_exchange(endpoint, phone, chat)
    start = threading.Barrier(2)

    def regenerate(screen: WsClient, model: str) -> None:
        start.wait()
        screen.send("retry", conversationId=chat, messageId=question["id"], model=model)

    threads = [
        threading.Thread(target=regenerate, args=(phone, "scripted-mini")),
        threading.Thread(target=regenerate, args=(laptop, "scripted")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    refusals = phone.events("error") + laptop.events("error")
    assert [r["code"] for r in refusals] == ["conflict"]  # one person, one reply slot
    assert len(endpoint.invokes()) == 2  # the first question's and one regenerate
    run_worker(endpoint, endpoint.invokes()[-1])
    run_worker(endpoint, endpoint.invokes()[-1])  # a redelivered invoke writes nothing new
    stored = versions(chat, question["id"])
    assert len(stored) == 2
    assert stored[0].id == first["id"]
    assert len(scripted_model.completions()) == 2
    assert spent(user) == (costs(stored), 0)


def test_two_regenerates_at_once_in_a_room_keep_both_versions_each_billed_to_its_asker(
    endpoint: ConnectionsEndpoint, user: TestUser, other_user: TestUser
) -> None:
    http("GET", "/me", other_user)  # first sight makes the profile
    room = http("POST", "/conversations", user, body={"kind": "group", "title": "R"}).json["id"]
    assert (
        http("POST", f"/conversations/{room}/members", user, body={"email": other_user.email})
    ).status == 201
    owner, author = device(endpoint, user, room), device(endpoint, other_user, room)
    author.send("sendMessage", conversationId=room, clientMessageId="m1", content="@assistant hi")
    question = author.last("message.created")["message"]
    run_worker(endpoint, endpoint.invokes()[-1])
    start = threading.Barrier(2)

    def regenerate(screen: WsClient, model: str) -> None:
        start.wait()
        screen.send("retry", conversationId=room, messageId=question["id"], model=model)

    threads = [
        threading.Thread(target=regenerate, args=(owner, "scripted-mini")),
        threading.Thread(target=regenerate, args=(author, "scripted")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert owner.events("error") == author.events("error") == []
    asked = endpoint.invokes()[1:]
    assert sorted(i.json()["model"] for i in asked) == ["scripted", "scripted-mini"]
    for invoke in asked:
        run_worker(endpoint, invoke)
    stored = versions(room, question["id"])
    assert sorted(m.model for m in stored) == ["scripted", "scripted", "scripted-mini"]
    # The owner asked for the mini model's version; the author for the other two.
    assert spent(user) == (costs(m for m in stored if m.model == "scripted-mini"), 0)
    assert spent(other_user) == (costs(m for m in stored if m.model == "scripted"), 0)
    # A member may not regenerate someone else's question, whichever model they name.
    owner.send("sendMessage", conversationId=room, clientMessageId="o1", content="@assistant yo")
    mine = owner.last("message.created")["message"]
    run_worker(endpoint, endpoint.invokes()[-1])
    author.send("retry", conversationId=room, messageId=mine["id"], model="scripted-mini")
    assert author.last("error")["code"] == "forbidden"


def test_a_model_whose_window_cannot_take_the_question_is_refused_before_any_claim(
    endpoint: ConnectionsEndpoint, user: TestUser, scripted_model: ScriptedModel
) -> None:
    from parley.budget import Budget

    mini = Budget(window=4096, max_output=512).message_chars  # tasks/local/models.yaml
    chat = http("POST", "/conversations", user, body={"model": "scripted"}).json["id"]
    phone = device(endpoint, user, chat)
    question, _ = first_exchange(endpoint, phone, chat, "x" * (mini + 1))
    before = (len(scripted_model.completions()), spent(user))
    phone.send("retry", conversationId=chat, messageId=question["id"], model="scripted-mini")
    refusal = phone.last("error")
    assert refusal["code"] == "validation_error"
    assert refusal["message"] == (
        f"Message is too long: {mini + 1:,} characters; the limit is {mini:,}."
    )
    assert len(endpoint.invokes()) == 1
    assert (len(scripted_model.completions()), spent(user)) == before
    assert len(versions(chat, question["id"])) == 1
