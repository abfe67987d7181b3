"""GET /search through chat_api in process: what a member finds, what a stranger never sees, and
a clear 400 for a query the index cannot answer.

The messages are posted through the API; their changes are handed to the search projection the
way the stream processor would (one INSERT per stored message item), so this test does not wait
for a stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from parley.changes import Change
from parley.search import SearchIndex
from parley.store import get_store
from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser


@pytest.fixture
def api(parley_env: dict[str, str]) -> Callable[..., ApiResponse]:
    from chat_api.app import handler

    def request(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
        return call(handler, method, path, headers=user.bearer(), **kwargs)

    return request


def index_conversation(parley_env: dict[str, str], conversation_id: str) -> None:
    table = boto3.resource("dynamodb").Table(parley_env["CHAT_TABLE_NAME"])
    items = table.query(
        KeyConditionExpression=Key("pk").eq(f"CONV#{conversation_id}")
        & Key("sk").begins_with("MSG#")
    )["Items"]
    projection = SearchIndex(get_store())
    for item in items:
        keys = {"pk": str(item["pk"]), "sk": str(item["sk"])}
        projection.apply(Change("INSERT", "e", keys, None, dict(item)))


def test_search_finds_a_members_messages_and_nothing_of_others(
    api: Callable[..., ApiResponse],
    user: TestUser,
    other_user: TestUser,
    scripted_model: ScriptedModel,
    parley_env: dict[str, str],
) -> None:
    api("GET", "/me", other_user)  # first sight creates the profile
    room = api("POST", "/conversations", user, body={"title": "Trip", "kind": "group"}).json["id"]
    invited = api("POST", f"/conversations/{room}/members", user, body={"email": other_user.email})
    assert invited.status == 201, invited.text
    api("POST", f"/conversations/{room}/messages", user, body={"content": "Book the Gondola ride"})
    private = api("POST", "/conversations", other_user, body={"title": "Diary"}).json["id"]
    scripted_model.enqueue(Reply(text="Noted."))
    api(
        "POST", f"/conversations/{private}/messages", other_user, body={"content": "gondola secret"}
    )
    index_conversation(parley_env, room)
    index_conversation(parley_env, private)

    found = api("GET", "/search", user, query={"q": "gondolas"})
    assert found.status == 200, found.text
    assert found.json["nextCursor"] is None
    [hit] = found.json["items"]
    assert hit["conversationId"] == room
    assert hit["conversationTitle"] == "Trip"
    assert hit["conversationKind"] == "group"
    assert hit["role"] == "user"
    assert hit["authorId"] == user.sub
    assert hit["snippet"] == [
        {"text": "Book the ", "match": False},
        {"text": "Gondola", "match": True},
        {"text": " ride", "match": False},
    ]
    theirs = api("GET", "/search", other_user, query={"q": "gondola"}).json["items"]
    assert {h["conversationId"] for h in theirs} == {room, private}

    assert (
        api("DELETE", f"/conversations/{room}/members/{other_user.sub}", other_user).status == 204
    )
    theirs = api("GET", "/search", other_user, query={"q": "gondola"}).json["items"]
    assert [h["conversationId"] for h in theirs] == [private]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({}, 400, "Type a word to search for"),
        ({"q": ""}, 400, "Type a word to search for"),
        ({"q": "   "}, 400, "Type a word to search for"),
        ({"q": "x" * 201}, 400, "A search is at most 200 characters"),
        ({"q": "the"}, 400, "common words"),
        ({"q": "otter", "cursor": "bogus!"}, 400, "Invalid cursor"),
        ({"q": "otter", "limit": "0"}, 422, "limit"),
        ({"q": "otter", "limit": "51"}, 422, "limit"),
    ],
)
def test_a_bad_search_is_a_clear_error(
    api: Callable[..., ApiResponse],
    user: TestUser,
    query: dict[str, str],
    status: int,
    message: str,
) -> None:
    answer = api("GET", "/search", user, query=query)
    assert answer.status == status, answer.text
    assert message in answer.json["error"]["message"]
