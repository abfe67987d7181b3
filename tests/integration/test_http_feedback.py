"""Ratings of the assistant's replies through chat_api, in process against moto: `PUT` and
`DELETE /conversations/{id}/messages/{messageId}/feedback`, and each listed message carrying
the caller's own rating (`parley.feedback`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from tasks.local.bootstrap import LocalResources
from tasks.local.scripted_model import Reply, ScriptedModel
from tasks.local.streams import StreamPoller
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser

ABSENT = "01JDX40C3D4E5F6G7H8J9K0M1N"


@pytest.fixture
def api(parley_env: dict[str, str]) -> Callable[..., ApiResponse]:
    from chat_api.app import handler

    def request(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
        return call(handler, method, path, headers=user.bearer(), **kwargs)

    return request


def feedback_path(conversation_id: str, message_id: str) -> str:
    return f"/conversations/{conversation_id}/messages/{message_id}/feedback"


def ratings(api: Callable[..., ApiResponse], user: TestUser, cid: str) -> dict[str, Any]:
    """The ratings `user` reads on the conversation's messages, by message id."""
    listed = api("GET", f"/conversations/{cid}/messages", user)
    assert listed.status == 200, listed.text
    return {m["id"]: m["feedback"] for m in listed.json["items"] if m["feedback"] is not None}


def room_with_reply(
    api: Callable[..., ApiResponse],
    owner: TestUser,
    member: TestUser,
    scripted_model: ScriptedModel,
) -> tuple[str, str, str]:
    """A group of two where the owner asked and the assistant answered: (room, question, reply)."""
    api("GET", "/me", member)  # first sight creates the profile
    room = api("POST", "/conversations", owner, body={"kind": "group", "title": "Room"}).json["id"]
    assert api("POST", f"/conversations/{room}/members", owner,
               body={"email": member.email}).status == 201  # fmt: skip
    scripted_model.enqueue(Reply(text="Four."))
    sent = api(
        "POST", f"/conversations/{room}/messages", owner, body={"content": "@assistant 2+2?"}
    )
    assert sent.status == 201, sent.text
    return room, sent.json["message"]["id"], sent.json["reply"]["id"]


def test_rate_read_change_and_remove_through_the_api(
    api: Callable[..., ApiResponse],
    make_user: Callable[..., TestUser],
    scripted_model: ScriptedModel,
) -> None:
    owner, member = make_user(), make_user()
    room, question, reply = room_with_reply(api, owner, member, scripted_model)
    path = feedback_path(room, reply)

    rated = api("PUT", path, member, body={"rating": "down", "comment": "  Show the working.  "})
    assert rated.status == 200, rated.text
    assert rated.json["rating"] == "down"
    assert rated.json["comment"] == "Show the working."
    assert rated.json["updatedAt"].endswith("Z")

    assert ratings(api, member, room) == {reply: rated.json}
    assert ratings(api, owner, room) == {}  # someone else's rating is never shown
    listed = api("GET", f"/conversations/{room}/messages", owner).json["items"]
    assert {m["id"] for m in listed} == {question, reply}

    changed = api("PUT", path, member, body={"rating": "up"})
    assert (changed.status, changed.json["rating"], changed.json["comment"]) == (200, "up", None)
    assert api("PUT", path, owner, body={"rating": "down"}).status == 200
    assert ratings(api, member, room)[reply]["rating"] == "up"
    assert ratings(api, owner, room)[reply]["rating"] == "down"

    removed = api("DELETE", path, member)
    assert (removed.status, removed.text) == (204, "")
    assert ratings(api, member, room) == {}
    assert api("DELETE", path, member).status == 204  # idempotent
    assert ratings(api, owner, room)[reply]["rating"] == "down"


def test_what_cannot_be_rated(
    api: Callable[..., ApiResponse],
    make_user: Callable[..., TestUser],
    scripted_model: ScriptedModel,
) -> None:
    owner, member = make_user(), make_user()
    room, question, reply = room_with_reply(api, owner, member, scripted_model)

    for who in (owner, member):  # one's own message, or another person's
        answer = api("PUT", feedback_path(room, question), who, body={"rating": "up"})
        assert answer.status == 409, answer.text
        assert answer.json["error"] == {
            "code": "conflict",
            "message": "Only the assistant's replies can be rated",
            "requestId": answer.request_id,
        }

    from parley.store import get_store

    streaming = "01JDX40C3D4E5F6G7H8J9K0ZZZ"
    get_store().messages.begin_reply(room, streaming, reply_to=question, requested_by=owner.sub)
    busy = api("PUT", feedback_path(room, streaming), member, body={"rating": "up"})
    assert busy.status == 409
    assert busy.json["error"]["message"] == (
        "This reply is still being written; rate it once it has finished"
    )

    missing = api("PUT", feedback_path(room, ABSENT), member, body={"rating": "up"})
    assert (missing.status, missing.json["error"]["message"]) == (404, "Message not found")

    too_long = api("PUT", feedback_path(room, reply), member,
                   body={"rating": "down", "comment": "x" * 1001})  # fmt: skip
    assert too_long.status == 422
    assert "comment" in too_long.json["error"]["message"]
    for body in ({"rating": "sideways"}, {}, {"rating": "up", "stars": 5}):
        assert api("PUT", feedback_path(room, reply), member, body=body).status == 422, body
    assert ratings(api, member, room) == {}


def test_a_non_member_gets_the_same_404_whether_the_reply_exists_or_not(
    api: Callable[..., ApiResponse],
    make_user: Callable[..., TestUser],
    scripted_model: ScriptedModel,
) -> None:
    owner, member, outsider = make_user(), make_user(), make_user()
    room, _, reply = room_with_reply(api, owner, member, scripted_model)
    answers = []
    for cid, mid in ((room, reply), (room, ABSENT), (ABSENT, reply)):
        for method, body in (("PUT", {"rating": "up"}), ("DELETE", None)):
            answer = api(method, feedback_path(cid, mid), outsider, body=body)
            assert answer.status == 404, (method, cid, mid, answer.text)
            error = dict(answer.json["error"])
            error.pop("requestId")
            answers.append((answer.status, json.dumps(error), answer.headers.get("content-type")))
    assert len(set(answers)) == 1
    assert answers[0][1] == json.dumps({"code": "not_found", "message": "Conversation not found"})
    assert ratings(api, owner, room) == {}


def test_ratings_are_counted_per_model(
    api: Callable[..., ApiResponse],
    make_user: Callable[..., TestUser],
    scripted_model: ScriptedModel,
    parley_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    owner, member = make_user(), make_user()
    room, _, reply = room_with_reply(api, owner, member, scripted_model)
    capsys.readouterr()
    api("PUT", feedback_path(room, reply), member, body={"rating": "up"})
    api("PUT", feedback_path(room, reply), owner, body={"rating": "down", "comment": "meh"})
    api("DELETE", feedback_path(room, reply), owner)

    counted = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            [directive] = document["_aws"]["CloudWatchMetrics"]
            for metric in directive["Metrics"]:
                if metric["Name"].startswith("Feedback"):
                    assert directive["Namespace"] == "Parley"
                    assert any("model" in d for d in directive["Dimensions"])
                    counted.append((metric["Name"], document["model"]))
    model = "scripted"  # the model that wrote the reply: the catalog's default here
    assert counted == [("FeedbackUp", model), ("FeedbackDown", model), ("FeedbackRemoved", model)]


def test_the_change_feed_passes_ratings_by_and_a_deleted_conversation_takes_them_along(
    api: Callable[..., ApiResponse],
    make_user: Callable[..., TestUser],
    scripted_model: ScriptedModel,
    change_feed: StreamPoller,
    aws: LocalResources,
) -> None:
    owner, member = make_user(), make_user()
    room, _, reply = room_with_reply(api, owner, member, scripted_model)
    change_feed.drain()
    activity = api("GET", "/me", owner).json["activity"]["today"]
    assert api("PUT", feedback_path(room, reply), member, body={"rating": "up"}).status == 200
    assert api("PUT", feedback_path(room, reply), owner, body={"rating": "down"}).status == 200
    change_feed.drain()  # no projection acts on a rating, and none fails on one
    assert api("GET", "/me", owner).json["activity"]["today"] == activity

    table = boto3.resource("dynamodb").Table(aws.chat_table)

    def left() -> list[dict[str, Any]]:
        return table.query(
            KeyConditionExpression=Key("pk").eq(f"CONV#{room}")
            & Key("sk").begins_with("FEEDBACK#"),
            ConsistentRead=True,
        )["Items"]

    assert len(left()) == 2
    assert api("DELETE", f"/conversations/{room}", owner).status == 204
    gone = api("PUT", feedback_path(room, reply), member, body={"rating": "down"})
    assert (gone.status, gone.json["error"]["message"]) == (404, "Conversation not found")
    change_feed.drain()
    assert left() == []
