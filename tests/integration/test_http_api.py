"""chat_api in-process with payload-2.0 events, against moto and the scripted model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tasks.local.scripted_model import Reply, ScriptedModel
from tasks.local.streams import StreamPoller
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser
from tests.support.events import LambdaContext, load_event


@pytest.fixture
def api(parley_env: dict[str, str]) -> Callable[..., ApiResponse]:
    from chat_api.app import handler

    def request(method: str, path: str, user: TestUser | None = None, **kwargs: Any) -> ApiResponse:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers.update(user.bearer())
        return call(handler, method, path, headers=headers, **kwargs)

    return request


def test_conversation_lifecycle(api: Callable[..., ApiResponse], user: TestUser) -> None:
    created = api("POST", "/conversations", user, body={})
    assert created.status == 201
    conversation = created.json
    assert conversation["kind"] == "assistant"
    assert conversation["role"] == "owner"
    assert conversation["ownerId"] == user.sub
    assert len(conversation["id"]) == 26
    cid = conversation["id"]

    assert api("GET", f"/conversations/{cid}", user).json == conversation
    renamed = api("PATCH", f"/conversations/{cid}", user, body={"title": "  Trip plans  "})
    assert renamed.status == 200
    assert renamed.json["title"] == "Trip plans"
    assert renamed.json["updatedAt"] >= conversation["updatedAt"]

    deleted = api("DELETE", f"/conversations/{cid}", user)
    assert (deleted.status, deleted.text) == (204, "")
    gone = api("GET", f"/conversations/{cid}", user)
    assert gone.status == 404
    assert gone.json["error"]["code"] == "not_found"


def test_messages_reply_title_usage_and_pages(
    api: Callable[..., ApiResponse], user: TestUser, scripted_model: ScriptedModel
) -> None:
    cid = api("POST", "/conversations", user, body={}).json["id"]
    scripted_model.enqueue(Reply(text="Paris is lovely in spring", prompt_tokens=12))
    sent = api(
        "POST",
        f"/conversations/{cid}/messages",
        user,
        body={"content": "  Plan a **weekend** in Paris\nplease  ", "clientMessageId": "c-1"},
    )
    assert sent.status == 201, sent.text
    message, reply = sent.json["message"], sent.json["reply"]
    assert message["content"] == "Plan a **weekend** in Paris\nplease"
    assert (message["role"], message["authorId"], message["clientMessageId"]) == (
        "user",
        user.sub,
        "c-1",
    )
    assert reply["content"] == "Paris is lovely in spring"
    assert reply["replyTo"] == message["id"]
    assert reply["usage"] == {"inputTokens": 12, "outputTokens": 5}
    assert reply["status"] == "complete"

    assert api("GET", f"/conversations/{cid}", user).json["title"] == (
        "Plan a weekend in Paris please"
    )
    me = api("GET", "/me", user).json
    assert me["usage"]["inputTokens"] == 12
    assert me["usage"]["outputTokens"] == 5
    assert me["usage"]["remaining"] is None
    assert me["email"] == user.email

    for n in range(2):
        api("POST", f"/conversations/{cid}/messages", user, body={"content": f"more {n}"})
    first = api("GET", f"/conversations/{cid}/messages", user, query={"limit": "4"}).json
    assert len(first["items"]) == 4
    assert first["items"][0]["role"] == "assistant"
    rest = api(
        "GET",
        f"/conversations/{cid}/messages",
        user,
        query={"limit": "4", "cursor": first["nextCursor"]},
    ).json
    ids = [m["id"] for m in first["items"] + rest["items"]]
    assert len(ids) == 6
    assert ids == sorted(ids, reverse=True)
    assert rest["nextCursor"] is None
    # The model saw the history, oldest first, after the system prompt.
    last = scripted_model.completions()[-1].body
    assert last is not None
    assert [m["role"] for m in last["messages"]][:3] == ["system", "user", "assistant"]


def test_my_conversations_most_recent_activity_first(
    api: Callable[..., ApiResponse],
    user: TestUser,
    other_user: TestUser,
    change_feed: StreamPoller,
) -> None:
    ids = [
        api("POST", "/conversations", user, body={"title": f"t{i}"}).json["id"] for i in range(3)
    ]
    api("POST", f"/conversations/{ids[0]}/messages", user, body={"content": "bump"})
    change_feed.drain()  # member activity moves through the change feed
    listed = api("GET", "/conversations", user, query={"limit": "2"}).json
    assert [c["id"] for c in listed["items"]] == [ids[0], ids[2]]
    more = api("GET", "/conversations", user, query={"cursor": listed["nextCursor"]}).json
    assert [c["id"] for c in more["items"]] == [ids[1]]
    assert api("GET", "/conversations", other_user).json == {"items": [], "nextCursor": None}


def test_other_users_conversations_answer_404_everywhere(
    api: Callable[..., ApiResponse],
    user: TestUser,
    other_user: TestUser,
    scripted_model: ScriptedModel,
) -> None:
    cid = api("POST", "/conversations", user, body={"title": "private"}).json["id"]
    api("POST", f"/conversations/{cid}/messages", user, body={"content": "secret"})
    calls = [
        ("GET", f"/conversations/{cid}", None),
        ("PATCH", f"/conversations/{cid}", {"title": "mine now"}),
        ("DELETE", f"/conversations/{cid}", None),
        ("GET", f"/conversations/{cid}/messages", None),
        ("POST", f"/conversations/{cid}/messages", {"content": "hi"}),
        ("GET", f"/conversations/{cid}/members", None),
        ("POST", f"/conversations/{cid}/members", {"email": other_user.email}),
        ("DELETE", f"/conversations/{cid}/members/{user.sub}", None),
    ]
    requests_before = len(scripted_model.completions())
    for method, path, body in calls:
        answer = api(method, path, other_user, body=body)
        assert answer.status == 404, (method, path, answer.text)
        assert answer.json["error"]["message"] == "Conversation not found"
        assert "secret" not in answer.text
    assert len(scripted_model.completions()) == requests_before
    assert api("GET", f"/conversations/{cid}", user).json["title"] == "private"


def test_group_members(api: Callable[..., ApiResponse], make_user: Callable[..., TestUser]) -> None:
    owner, friend, third = make_user(), make_user(), make_user()
    api("GET", "/me", friend)  # first sight creates the profile
    api("GET", "/me", third)
    gid = api("POST", "/conversations", owner, body={"title": "Room", "kind": "group"}).json["id"]
    added = api(
        "POST", f"/conversations/{gid}/members", owner, body={"email": friend.email.upper()}
    )
    assert added.status == 201, added.text
    assert added.json["userId"] == friend.sub
    assert added.json["role"] == "member"
    assert (
        api("POST", f"/conversations/{gid}/members", owner, body={"email": friend.email}).status
        == 409
    )
    assert (
        api(
            "POST", f"/conversations/{gid}/members", owner, body={"email": "nobody@example.com"}
        ).status
        == 404
    )
    assert (
        api("POST", f"/conversations/{gid}/members", friend, body={"email": third.email}).status
        == 403
    )
    assert api("DELETE", f"/conversations/{gid}", friend).status == 403
    listed = api("GET", f"/conversations/{gid}/members", friend).json["items"]
    assert {m["userId"] for m in listed} == {owner.sub, friend.sub}
    assert api("GET", "/conversations", friend).json["items"][0]["role"] == "member"
    assert api("DELETE", f"/conversations/{gid}/members/{owner.sub}", friend).status == 403
    assert api("DELETE", f"/conversations/{gid}/members/{friend.sub}", friend).status == 204
    assert api("GET", f"/conversations/{gid}", friend).status == 404


def test_daily_quota_answers_429_with_retry_after(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support.environment import clear_parley_caches

    monkeypatch.setenv("DAILY_TOKEN_QUOTA", "20")
    clear_parley_caches()
    cid = api("POST", "/conversations", user, body={}).json["id"]
    scripted_model.enqueue(Reply(text="one two three", prompt_tokens=18))
    assert api("POST", f"/conversations/{cid}/messages", user, body={"content": "a"}).status == 201
    assert api("GET", "/me", user).json["usage"]["remaining"] == 0
    before = len(api("GET", f"/conversations/{cid}/messages", user).json["items"])
    limited = api("POST", f"/conversations/{cid}/messages", user, body={"content": "b"})
    assert limited.status == 429
    assert limited.json["error"]["code"] == "quota_exceeded"
    assert "resets at 00:00 UTC" in limited.json["error"]["message"]
    assert 0 < int(limited.headers["retry-after"]) <= 86_400
    assert len(api("GET", f"/conversations/{cid}/messages", user).json["items"]) == before


def test_post_confirmation_creates_the_profile_once(
    parley_env: dict[str, str], api: Callable[..., ApiResponse], user: TestUser
) -> None:
    from post_confirmation.app import handler

    event = load_event("cognito_post_confirmation")
    event["request"]["userAttributes"].update(
        {"sub": user.sub, "email": user.email, "name": "Ada Lovelace"}
    )
    assert handler(event, LambdaContext("post_confirmation")) == event
    assert handler(event, LambdaContext("post_confirmation")) == event  # Cognito retries
    me = api("GET", "/me", user).json
    assert (me["id"], me["name"], me["email"]) == (user.sub, "Ada Lovelace", user.email)


def test_openapi_document_describes_every_manifest_route(
    api: Callable[..., ApiResponse], user: TestUser
) -> None:
    import yaml

    from tasks.local.bootstrap import ROOT

    document = api("GET", "/openapi.json", user).json
    manifest = yaml.safe_load((ROOT / "functions" / "manifest.yaml").read_text())
    for trigger in manifest["functions"]["chat_api"]["triggers"]["http"]:
        method, path = trigger["route"].split(" ")
        operation = document["paths"][path][method.lower()]
        assert "500" in operation["responses"], trigger
        assert "401" in operation["responses"], trigger
    assert document["paths"]["/chat"]["post"]["requestBody"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
