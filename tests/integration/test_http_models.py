"""The model catalog through chat_api, in process against moto and the scripted model server:
`GET /models`, a conversation's model chosen at creation and changed later, refusals of a model
outside the catalog or one the caller may not use, the model id the provider receives, and each
reply's recorded model and cost (tasks/local/models.yaml's scripted models, `parley.catalog`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from parley.budget import Budget
from tasks.local.bootstrap import LocalResources, clients
from tasks.local.scripted_model import Reply, ScriptedModel
from tasks.local.streams import StreamPoller
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser
from tests.support.connections_endpoint import ConnectionsEndpoint, WsClient, run_worker

# tasks/local/models.yaml: the scripted models the tests' catalog offers (USD per 1M tokens)
PRICES = {
    "scripted": (Decimal("0.15"), Decimal("0.6")),
    "scripted-mini": (Decimal("0.05"), Decimal("0.2")),
    "scripted-staff": (Decimal("3"), Decimal("15")),
}
SENT_AS = {
    "scripted": "scripted-model",
    "scripted-mini": "scripted-mini",
    "scripted-staff": "scripted-staff",
}


@pytest.fixture
def api(parley_env: dict[str, str]) -> Callable[..., ApiResponse]:
    from chat_api.app import handler

    def request(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
        return call(handler, method, path, headers=user.bearer(), **kwargs)

    return request


@pytest.fixture
def staff_user(make_user: Callable[..., TestUser], aws: LocalResources) -> TestUser:
    """A user in the Cognito group `staff`, signed in again so the token names the group."""
    person = make_user()
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


def cost_of(model: str, usage: dict[str, int]) -> Decimal:
    price_in, price_out = PRICES[model]
    spent = usage["inputTokens"] * price_in + usage["outputTokens"] * price_out
    return spent / Decimal(1_000_000)


def ask(api: Callable[..., ApiResponse], user: TestUser, cid: str, text: str) -> dict[str, Any]:
    sent = api("POST", f"/conversations/{cid}/messages", user, body={"content": text})
    assert sent.status == 201, sent.text
    reply: dict[str, Any] = sent.json["reply"]
    return reply


def test_get_models_lists_what_the_caller_may_use(
    api: Callable[..., ApiResponse], user: TestUser, staff_user: TestUser
) -> None:
    listed = api("GET", "/models", user)
    assert listed.status == 200, listed.text
    assert listed.json["default"] == "scripted"
    assert [m["id"] for m in listed.json["items"]] == ["scripted", "scripted-mini"]
    first = listed.json["items"][0]
    assert first == {
        "id": "scripted",
        "label": "Scripted assistant",
        "provider": "local",
        "contextWindow": 8192,
        "maxOutputTokens": 1024,
        "messageChars": 16000,  # the frame limit, below what 8,192 tokens would take
        "vision": True,
        "price": {"input": 0.15, "output": 0.6},
        "default": True,
    }
    assert listed.json["items"][1]["default"] is False
    # A smaller window takes a shorter message: the app's composer counts against it.
    mini = Budget(window=4096, max_output=512).message_chars
    assert listed.json["items"][1]["messageChars"] == mini < 16000
    staff = api("GET", "/models", staff_user).json
    assert [m["id"] for m in staff["items"]] == ["scripted", "scripted-mini", "scripted-staff"]


def test_a_conversation_gets_the_model_asked_for_or_the_default(
    api: Callable[..., ApiResponse], user: TestUser
) -> None:
    plain = api("POST", "/conversations", user, body={})
    assert plain.status == 201
    assert plain.json["model"] == "scripted"
    chosen = api("POST", "/conversations", user, body={"model": "scripted-mini"})
    assert chosen.status == 201, chosen.text
    assert chosen.json["model"] == "scripted-mini"
    assert api("GET", f"/conversations/{chosen.json['id']}", user).json["model"] == "scripted-mini"
    listed = api("GET", "/conversations", user).json["items"]
    assert {c["id"]: c["model"] for c in listed} == {
        plain.json["id"]: "scripted",
        chosen.json["id"]: "scripted-mini",
    }


@pytest.mark.parametrize(
    ("model", "status", "message"),
    [
        ("gpt-9", 400, "Unknown model 'gpt-9': GET /models lists the models you may use"),
        ("scripted-staff", 403, "You may not use the model 'scripted-staff'"),
    ],
)
def test_a_model_outside_the_catalog_or_not_allowed_is_refused(
    api: Callable[..., ApiResponse],
    user: TestUser,
    model: str,
    status: int,
    message: str,
) -> None:
    created = api("POST", "/conversations", user, body={"model": model})
    assert created.status == status, created.text
    assert created.json["error"]["message"] == message
    assert api("GET", "/conversations", user).json["items"] == []  # nothing half-made
    cid = api("POST", "/conversations", user, body={}).json["id"]
    changed = api("PATCH", f"/conversations/{cid}", user, body={"model": model})
    assert changed.status == status, changed.text
    assert changed.json["error"]["message"] == message
    assert api("GET", f"/conversations/{cid}", user).json["model"] == "scripted"


def test_a_patch_names_a_title_or_a_model(api: Callable[..., ApiResponse], user: TestUser) -> None:
    cid = api("POST", "/conversations", user, body={}).json["id"]
    assert api("PATCH", f"/conversations/{cid}", user, body={}).status == 422
    assert api("PATCH", f"/conversations/{cid}", user, body={"model": "Bad Id"}).status == 422
    both = api(
        "PATCH", f"/conversations/{cid}", user, body={"title": "Trip", "model": "scripted-mini"}
    )
    assert both.status == 200, both.text
    assert (both.json["title"], both.json["model"]) == ("Trip", "scripted-mini")


def test_the_provider_gets_the_chosen_model_and_the_reply_records_it_and_its_cost(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    change_feed: StreamPoller,
) -> None:
    scripted_model.enqueue(
        Reply(text="one two three", prompt_tokens=1200),
        Reply(text="four five six seven", prompt_tokens=3400),
    )
    cid = api("POST", "/conversations", user, body={"model": "scripted-mini"}).json["id"]
    first = ask(api, user, cid, "hello")
    [request] = scripted_model.completions()
    assert request.body is not None
    assert request.body["model"] == "scripted-mini"
    assert request.body["max_tokens"] == 512  # the model's output limit
    assert first["model"] == "scripted-mini"
    assert first["usage"] == {"inputTokens": 1200, "outputTokens": 3}
    assert Decimal(str(first["costUsd"])) == cost_of("scripted-mini", first["usage"])

    # Changed later: the next reply is the new model's, the earlier one keeps its own.
    changed = api("PATCH", f"/conversations/{cid}", user, body={"model": "scripted"})
    assert changed.status == 200
    assert changed.json["model"] == "scripted"
    second = ask(api, user, cid, "again")
    assert scripted_model.completions()[-1].body["model"] == "scripted-model"  # type: ignore[index]
    assert second["model"] == "scripted"
    assert Decimal(str(second["costUsd"])) == cost_of("scripted", second["usage"])
    listed = api("GET", f"/conversations/{cid}/messages", user).json["items"]
    by_id = {m["id"]: m for m in listed}
    assert by_id[first["id"]]["model"] == "scripted-mini"
    assert by_id[second["id"]]["model"] == "scripted"
    assert by_id[first["id"]]["costUsd"] == first["costUsd"]

    # The day's usage adds the replies up in tokens and in USD, and so do the rollups.
    total = cost_of("scripted-mini", first["usage"]) + cost_of("scripted", second["usage"])
    me = api("GET", "/me", user).json
    assert me["usage"]["inputTokens"] == 1200 + 3400
    assert me["usage"]["outputTokens"] == 3 + 4
    assert Decimal(str(me["usage"]["costUsd"])) == total
    change_feed.drain()
    today = api("GET", "/me", user).json["activity"]["today"]
    assert Decimal(str(today["costUsd"])) == total
    series = api("GET", "/me/usage", user).json
    assert Decimal(str(series["days"][-1]["costUsd"])) == total


def test_a_room_member_may_not_use_a_model_they_are_not_allowed(
    api: Callable[..., ApiResponse],
    user: TestUser,
    staff_user: TestUser,
    scripted_model: ScriptedModel,
) -> None:
    api("GET", "/me", user)  # first sight creates the profile
    room = api(
        "POST", "/conversations", staff_user, body={"kind": "group", "model": "scripted-staff"}
    ).json
    assert room["model"] == "scripted-staff"
    added = api(
        "POST", f"/conversations/{room['id']}/members", staff_user, body={"email": user.email}
    )
    assert added.status == 201
    # A member who is not the owner does not choose a room's model.
    refused = api("PATCH", f"/conversations/{room['id']}", user, body={"model": "scripted"})
    assert refused.status == 403
    assert (
        refused.json["error"]["message"] == "Only the owner can choose a group conversation's model"
    )
    # Nor call in the assistant through a model they may not use: nothing is stored or asked.
    asked = api(
        "POST", f"/conversations/{room['id']}/messages", user, body={"content": "@assistant hi"}
    )
    assert asked.status == 403, asked.text
    assert "You may not use the model 'scripted-staff'" in asked.json["error"]["message"]
    assert scripted_model.completions() == []
    assert api("GET", f"/conversations/{room['id']}/messages", user).json["items"] == []
    # A message that does not call the assistant is fine; the owner is answered by it.
    assert (
        api(
            "POST", f"/conversations/{room['id']}/messages", user, body={"content": "hello all"}
        ).status
        == 201
    )
    reply = ask(api, staff_user, room["id"], "@assistant hi")
    assert reply["model"] == "scripted-staff"
    assert scripted_model.completions()[-1].body["model"] == "scripted-staff"  # type: ignore[index]


def test_over_the_websocket_the_groups_come_from_the_connections_token(
    api: Callable[..., ApiResponse],
    user: TestUser,
    staff_user: TestUser,
    scripted_model: ScriptedModel,
    endpoint: ConnectionsEndpoint,
) -> None:
    api("GET", "/me", user)
    room = api(
        "POST", "/conversations", staff_user, body={"kind": "group", "model": "scripted-staff"}
    ).json["id"]
    assert (
        api("POST", f"/conversations/{room}/members", staff_user, body={"email": user.email}).status
        == 201
    )
    member = WsClient(endpoint, user.id_token)
    member.connect()
    member.send("sendMessage", conversationId=room, clientMessageId="m1", content="@assistant hi")
    refusal = member.last("error")
    assert refusal["code"] == "forbidden"
    assert "You may not use the model 'scripted-staff'" in refusal["message"]
    assert endpoint.invokes() == []  # no reply asked, nothing claimed

    owner = WsClient(endpoint, staff_user.id_token)
    owner.connect()
    owner.send("subscribe", conversationId=room)
    owner.send("sendMessage", conversationId=room, clientMessageId="o1", content="@assistant hi")
    [invoke] = endpoint.invokes()
    assert invoke.json()["model"] == "scripted-staff"  # the job carries the model checked
    run_worker(endpoint, invoke)
    assert scripted_model.completions()[-1].body["model"] == "scripted-staff"  # type: ignore[index]
    done = owner.last("message.completed")["message"]
    assert done["model"] == "scripted-staff"
    assert Decimal(str(done["costUsd"])) == cost_of("scripted-staff", done["usage"])

    # Nor have the assistant answer one of their messages through it (`retry`).
    mine = api("POST", f"/conversations/{room}/messages", user, body={"content": "plain"}).json
    member.send("retry", conversationId=room, messageId=mine["message"]["id"])
    refused = member.last("error")
    assert refused["code"] == "forbidden"
    assert "You may not use the model 'scripted-staff'" in refused["message"]
    assert len(endpoint.invokes()) == 1


def test_a_change_while_a_reply_is_asked_for_applies_to_the_next_reply(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    endpoint: ConnectionsEndpoint,
) -> None:
    chat = api("POST", "/conversations", user, body={"model": "scripted-mini"}).json["id"]
    phone = WsClient(endpoint, user.id_token)
    phone.connect()
    phone.send("subscribe", conversationId=chat)
    phone.send("sendMessage", conversationId=chat, clientMessageId="q1", content="first")
    [asked] = endpoint.invokes()
    # Changed before the worker runs: the reply asked for is still the model it was asked of.
    assert api("PATCH", f"/conversations/{chat}", user, body={"model": "scripted"}).status == 200
    run_worker(endpoint, asked)
    assert phone.last("message.completed")["message"]["model"] == "scripted-mini"
    assert scripted_model.completions()[-1].body["model"] == "scripted-mini"  # type: ignore[index]
    phone.send("sendMessage", conversationId=chat, clientMessageId="q2", content="second")
    run_worker(endpoint, endpoint.invokes()[-1])
    assert phone.last("message.completed")["message"]["model"] == "scripted"
    assert scripted_model.completions()[-1].body["model"] == "scripted-model"  # type: ignore[index]
