"""`POST /chat`: the compatible contract of DESIGN.md, status codes and bodies byte for byte."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser
from tests.support.environment import clear_parley_caches
from tests.support.tokens import TokenFactory

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def chat(parley_env: dict[str, str]) -> Callable[..., ApiResponse]:
    from chat_api.app import handler

    def post(headers: dict[str, str], body: Any = None, **kwargs: Any) -> ApiResponse:
        return call(handler, "POST", "/chat", headers=headers, body=body, **kwargs)

    return post


def test_new_chat_then_follow_up(
    chat: Callable[..., ApiResponse], user: TestUser, scripted_model: ScriptedModel
) -> None:
    scripted_model.enqueue(Reply(text="Hello Ada!"), Reply(text="Still here."))
    first = chat(
        {"Content-Type": "application/json", "id_token": user.id_token}, {"prompt": "Hi, I am Ada"}
    )
    assert first.status == 200
    assert first.headers["content-type"] == "application/json"
    body = first.json
    assert set(body) == {"response", "chat"}
    assert body["response"] == "Hello Ada!"
    record = body["chat"]
    assert set(record) == {"id", "user_id", "title", "created_at", "updated_at", "messages"}
    assert record["user_id"] == user.sub
    assert record["title"] == "Hi, I am Ada"
    assert ISO_UTC.match(record["created_at"])
    assert ISO_UTC.match(record["updated_at"])
    assert record["messages"] == [
        {"role": "user", "content": "Hi, I am Ada"},
        {"role": "assistant", "content": "Hello Ada!"},
    ]

    second = chat(
        {"Authorization": f"Bearer {user.id_token}"},
        {"prompt": "Are you there?", "chat_id": record["id"]},
    )
    assert second.status == 200
    again = second.json["chat"]
    assert again["id"] == record["id"]
    assert again["title"] == "Hi, I am Ada"
    assert [m["content"] for m in again["messages"]] == [
        "Hi, I am Ada",
        "Hello Ada!",
        "Are you there?",
        "Still here.",
    ]
    assert again["updated_at"] >= record["updated_at"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "Field 'prompt' is required"),
        ({"prompt": None}, "Field 'prompt' is required"),
        (None, "Field 'prompt' is required"),
        ({"prompt": 42}, "Field 'prompt' must be a string"),
        ({"prompt": "   "}, "Field 'prompt' must not be empty"),
        ({"prompt": "x" * 32_001}, "Field 'prompt' must be at most 32000 characters"),
        ({"prompt": "hi", "chat_id": 7}, "Field 'chat_id' must be a string"),
        (["prompt"], "Request body must be a JSON object"),
    ],
)
def test_bad_bodies_answer_400(
    chat: Callable[..., ApiResponse],
    user: TestUser,
    body: Any,
    expected: str,
    scripted_model: ScriptedModel,
) -> None:
    answer = chat({"id_token": user.id_token}, body)
    assert answer.status == 400
    assert answer.text == json.dumps({"error": expected}, separators=(",", ":"))
    assert scripted_model.completions() == []


def test_required_prompt_is_byte_exact(chat: Callable[..., ApiResponse], user: TestUser) -> None:
    answer = chat({"Content-Type": "application/json", "id_token": user.id_token}, {})
    assert (answer.status, answer.text) == (400, '{"error":"Field \'prompt\' is required"}')


def test_unreadable_json(chat: Callable[..., ApiResponse], user: TestUser) -> None:
    answer = chat({"id_token": user.id_token}, raw_body='{"prompt": ')
    assert (answer.status, answer.text) == (400, '{"error":"Request body must be valid JSON"}')


def test_expired_token_is_byte_exact(
    chat: Callable[..., ApiResponse], moto_tokens: TokenFactory
) -> None:
    expired = moto_tokens.mint(exp=int(time.time()) - 3600)
    answer = chat({"id_token": expired}, {"prompt": "hi"})
    assert (answer.status, answer.text) == (401, '{"error":"Invalid id_token: token has expired"}')


def test_missing_and_access_tokens(chat: Callable[..., ApiResponse], user: TestUser) -> None:
    assert chat({}, {"prompt": "hi"}).text == '{"error":"Invalid id_token: token is missing"}'
    access = chat({"id_token": user.access_token}, {"prompt": "hi"})
    assert (access.status, access.json) == (
        401,
        {"error": "Invalid id_token: an id token is required"},
    )


def test_unknown_and_foreign_chats_answer_404(
    chat: Callable[..., ApiResponse], user: TestUser, other_user: TestUser
) -> None:
    mine = chat({"id_token": user.id_token}, {"prompt": "mine"}).json["chat"]["id"]
    for chat_id in (mine, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "../../etc", "x" * 500):
        answer = chat({"id_token": other_user.id_token}, {"prompt": "hi", "chat_id": chat_id})
        assert (answer.status, answer.text) == (404, '{"error":"Chat not found"}')


def test_internal_errors_show_only_the_request_id(
    chat: Callable[..., ApiResponse],
    user: TestUser,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CHAT_TABLE_NAME", "no-such-table")
    clear_parley_caches()
    answer = chat({"id_token": user.id_token}, {"prompt": "hi"})
    assert answer.status == 500
    assert answer.json == {"error": "Internal server error", "message": answer.request_id}
    assert answer.text == json.dumps(
        {"error": "Internal server error", "message": answer.request_id}, separators=(",", ":")
    )


def test_quota_and_provider_failures_keep_the_shape(
    chat: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODEL_MAX_RETRIES", "0")
    clear_parley_caches()
    scripted_model.enqueue(Reply(status=500))
    failed = chat({"id_token": user.id_token}, {"prompt": "hi"})
    assert failed.status == 502
    assert set(failed.json) == {"error"}
    assert "saved" in failed.json["error"]


def test_a_prompt_longer_than_the_model_reads_is_400_and_starts_no_chat(
    chat: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    parley_env: dict[str, str],
) -> None:
    from chat_api.app import handler

    limit = call(handler, "GET", "/me", headers={"Authorization": f"Bearer {user.id_token}"})
    chars = int(limit.json["limits"]["messageChars"])
    answer = chat({"id_token": user.id_token}, {"prompt": "x" * (chars + 1)})
    assert answer.status == 400
    assert (
        answer.json["error"]
        == f"Message is too long: {chars + 1:,} characters; the limit is {chars:,}."
    )
    assert scripted_model.completions() == []
    listed = call(
        handler, "GET", "/conversations", headers={"Authorization": f"Bearer {user.id_token}"}
    )
    assert listed.json["items"] == []
