"""Bad input on every route: a 4xx with a clear message, and nothing written anywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tasks.local.scripted_model import ScriptedModel
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser

UNKNOWN = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


@pytest.fixture
def api(parley_env: dict[str, str]) -> Callable[..., ApiResponse]:
    from chat_api.app import handler

    def request(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
        return call(handler, method, path, headers=user.bearer(), **kwargs)

    return request


def snapshot(table_name: str) -> list[dict[str, Any]]:
    items = boto3.resource("dynamodb").Table(table_name).scan()["Items"]
    return sorted(items, key=lambda item: (item["pk"], item["sk"]))


def test_bad_input_everywhere_writes_nothing(
    api: Callable[..., ApiResponse],
    user: TestUser,
    other_user: TestUser,
    scripted_model: ScriptedModel,
    parley_env: dict[str, str],
) -> None:
    mine = api("POST", "/conversations", user, body={"title": "mine", "kind": "group"}).json["id"]
    theirs = api("POST", "/conversations", other_user, body={"title": "theirs"}).json["id"]
    _, conversations_cursor = (None, None)
    for _ in range(2):
        api("POST", "/conversations", user, body={})
    conversations_cursor = api("GET", "/conversations", user, query={"limit": "1"}).json[
        "nextCursor"
    ]
    assert conversations_cursor
    big = "x" * (300 * 1024)
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("POST", "/conversations", {"raw_body": "{not json"}, 400, "valid JSON"),
        ("POST", "/conversations", {"body": {"title": 5}}, 422, "title"),
        ("POST", "/conversations", {"body": {"kind": "robot"}}, 422, "kind"),
        ("POST", "/conversations", {"body": {"title": "t" * 201}}, 422, "at most 200"),
        ("POST", "/conversations", {"body": {"title": "ok", "extra": 1}}, 422, "extra"),
        ("POST", "/conversations", {"body": [1, 2]}, 422, "body"),
        ("POST", "/conversations", {"raw_body": '{"title": "' + big + '"}'}, 413, "at most"),
        ("GET", "/conversations", {"query": {"limit": "0"}}, 422, "limit"),
        ("GET", "/conversations", {"query": {"limit": "abc"}}, 422, "limit"),
        ("GET", "/conversations", {"query": {"limit": "1000"}}, 422, "limit"),
        ("GET", "/conversations", {"query": {"cursor": "garbage!"}}, 400, "Invalid cursor"),
        ("GET", f"/conversations/{UNKNOWN}", {}, 404, "Conversation not found"),
        ("GET", f"/conversations/{theirs}", {}, 404, "Conversation not found"),
        ("GET", "/conversations/" + "a" * 100, {}, 422, "id"),
        ("PATCH", f"/conversations/{mine}", {"body": {}}, 422, "title"),
        ("PATCH", f"/conversations/{mine}", {"body": {"title": "   "}}, 422, "title"),
        ("PATCH", f"/conversations/{mine}", {"raw_body": "[}"}, 400, "valid JSON"),
        ("PATCH", f"/conversations/{theirs}", {"body": {"title": "x"}}, 404, "not found"),
        ("DELETE", f"/conversations/{UNKNOWN}", {}, 404, "not found"),
        ("DELETE", f"/conversations/{theirs}", {}, 404, "not found"),
        ("GET", f"/conversations/{mine}/messages", {"query": {"limit": "-1"}}, 422, "limit"),
        (
            "GET",
            f"/conversations/{mine}/messages",
            {"query": {"cursor": conversations_cursor}},
            400,
            "Invalid cursor",
        ),
        ("GET", f"/conversations/{theirs}/messages", {}, 404, "not found"),
        ("POST", f"/conversations/{mine}/messages", {"body": {}}, 422, "content"),
        ("POST", f"/conversations/{mine}/messages", {"body": {"content": " "}}, 422, "content"),
        ("POST", f"/conversations/{mine}/messages", {"body": {"content": 5}}, 422, "content"),
        (
            "POST",
            f"/conversations/{mine}/messages",
            {"body": {"content": "x" * 32_001}},
            422,
            "at most 32000",
        ),
        (
            "POST",
            f"/conversations/{mine}/messages",
            {"body": {"content": "hi", "clientMessageId": "no spaces allowed"}},
            422,
            "clientMessageId",
        ),
        (
            "POST",
            f"/conversations/{mine}/messages",
            {"raw_body": '{"content": "hi"'},
            400,
            "valid JSON",
        ),
        (
            "POST",
            f"/conversations/{UNKNOWN}/messages",
            {"body": {"content": "hi"}},
            404,
            "not found",
        ),
        (
            "POST",
            f"/conversations/{theirs}/messages",
            {"body": {"content": "hi"}},
            404,
            "not found",
        ),
        ("GET", f"/conversations/{theirs}/members", {}, 404, "not found"),
        (
            "POST",
            f"/conversations/{mine}/members",
            {"body": {"email": "not-an-email"}},
            422,
            "email",
        ),
        ("POST", f"/conversations/{mine}/members", {"body": {}}, 422, "email"),
        (
            "POST",
            f"/conversations/{mine}/members",
            {"body": {"email": "nobody@example.com"}},
            404,
            "No user",
        ),
        (
            "POST",
            f"/conversations/{theirs}/members",
            {"body": {"email": user.email}},
            404,
            "not found",
        ),
        ("DELETE", f"/conversations/{mine}/members/nobody", {}, 404, "Member not found"),
        ("DELETE", f"/conversations/{theirs}/members/{other_user.sub}", {}, 404, "not found"),
        ("GET", "/no-such-route", {}, 404, "No such route"),
    ]
    before = snapshot(parley_env["CHAT_TABLE_NAME"])
    for method, path, kwargs, status, fragment in cases:
        answer = api(method, path, user, **kwargs)
        where = f"{method} {path[:60]} {str(kwargs)[:80]}"
        assert answer.status == status, (where, answer.text[:300])
        error = answer.json["error"]
        assert set(error) == {"code", "message", "requestId"}, where
        assert fragment.lower() in error["message"].lower(), (where, error)
        assert "Traceback" not in answer.text
        assert "botocore" not in answer.text
    # Nothing written, but for the one refusal that is not bad input: an address without an
    # account is answered 404, and its invitation is kept for sign-up (parley.store.invites).
    after = snapshot(parley_env["CHAT_TABLE_NAME"])
    kept = [item for item in after if item not in before]
    assert [(item["pk"], item["sk"]) for item in kept] == [("INVITE#nobody@example.com", "INVITE")]
    assert [item for item in after if item not in kept] == before
    assert scripted_model.completions() == []


NOT_UTF8 = b'{"title": "caf\xe9", "content": "\xff\xfe", "email": "a@b.co"}'


def test_a_body_that_is_not_utf8_is_refused_on_every_route_with_a_body(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    parley_env: dict[str, str],
) -> None:
    # GIVEN a group of the caller's; WHEN a body arrives as the gateway sends bytes that are not
    # UTF-8 (base64-encoded); THEN 400 with a clear message, and nothing stored.
    from chat_api.app import handler

    mine = api("POST", "/conversations", user, body={"title": "mine", "kind": "group"}).json["id"]
    before = snapshot(parley_env["CHAT_TABLE_NAME"])
    for method, path in [
        ("POST", "/conversations"),
        ("PATCH", f"/conversations/{mine}"),
        ("POST", f"/conversations/{mine}/messages"),
        ("POST", f"/conversations/{mine}/members"),
        ("POST", "/chat"),
    ]:
        headers = {"content-type": "application/json", **user.bearer()}
        answer = call(handler, method, path, headers=headers, raw_body=NOT_UTF8, base64_body=True)
        assert answer.status == 400, (method, path, answer.text[:300])
        if path == "/chat":  # the compatible shape
            assert answer.json == {"error": "Request body must be valid JSON encoded in UTF-8"}
        else:
            error = answer.json["error"]
            assert error["code"] == "bad_request", (method, path)
            assert error["message"] == "Request body must be valid JSON encoded in UTF-8"
    assert snapshot(parley_env["CHAT_TABLE_NAME"]) == before
    assert scripted_model.completions() == []


def test_a_body_that_is_not_json_by_its_content_type_is_refused(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    parley_env: dict[str, str],
) -> None:
    # The API reads JSON only: any other declared type is a client error with a clear message
    # (Powertools would parse forms, and answer 500 for other types or a multipart without a
    # boundary).
    from chat_api.app import handler

    mine = api("POST", "/conversations", user, body={"title": "mine", "kind": "group"}).json["id"]
    before = snapshot(parley_env["CHAT_TABLE_NAME"])
    for method, path, body in [
        ("POST", "/conversations", '{"title": "x"}'),
        ("PATCH", f"/conversations/{mine}", '{"title": "x"}'),
        ("POST", f"/conversations/{mine}/messages", '{"content": "hi"}'),
        ("POST", f"/conversations/{mine}/members", '{"email": "a@b.co"}'),
    ]:
        for content_type in (
            "text/plain",
            "application/xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
        ):
            headers = {"content-type": content_type, **user.bearer()}
            answer = call(handler, method, path, headers=headers, raw_body=body)
            where = (method, path, content_type)
            assert answer.status == 400, (where, answer.text[:300])
            error = answer.json["error"]
            assert error["code"] == "bad_request", where
            assert "Content-Type: application/json" in error["message"], where
    assert snapshot(parley_env["CHAT_TABLE_NAME"]) == before
    assert scripted_model.completions() == []


def test_the_token_then_the_size_are_checked_before_the_body_is_read(
    user: TestUser, parley_env: dict[str, str]
) -> None:
    # Powertools validates only after the guard: no token → 401 whatever the body; a huge body
    # → 413 before it is decoded or parsed.
    from chat_api.app import handler

    huge = b"\xff{not json" * 30_000
    for headers, status, fragment in [
        ({"content-type": "text/plain"}, 401, "token"),
        ({"content-type": "text/plain", **user.bearer()}, 413, "at most 262144 bytes"),
    ]:
        answer = call(
            handler, "POST", "/conversations", headers=headers, raw_body=huge, base64_body=True
        )
        assert answer.status == status, answer.text[:300]
        assert fragment in answer.json["error"]["message"].lower()
