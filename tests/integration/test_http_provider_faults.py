"""Provider faults: the user's message is kept, the answer is a clear 502/503, a retry works
and duplicates nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser
from tests.support.environment import clear_parley_caches


@pytest.fixture
def api(parley_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., ApiResponse]:
    monkeypatch.setenv("MODEL_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("MODEL_MAX_RETRIES", "0")
    clear_parley_caches()
    from chat_api.app import handler

    def request(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
        return call(handler, method, path, headers=user.bearer(), **kwargs)

    return request


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (Reply(hang=4), 503),
        (Reply(status=429, retry_after=1), 503),
        (Reply(status=500), 502),
        (Reply(status=503), 502),
        (Reply(break_after=1), 502),  # the reply streamed, then broke: cut off
    ],
    ids=["timeout", "rate_limited", "server_error", "unavailable", "broken_response"],
)
def test_fault_keeps_the_message_and_a_retry_does_not_duplicate(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    fault: Reply,
    status: int,
) -> None:
    cid = api("POST", "/conversations", user, body={}).json["id"]
    send = {"content": "Will you answer?", "clientMessageId": "attempt-1"}
    scripted_model.enqueue(fault)
    failed = api("POST", f"/conversations/{cid}/messages", user, body=send)
    assert failed.status == status, failed.text
    error = failed.json["error"]
    assert error["code"] == "assistant_unavailable"
    assert "Your message was saved" in error["message"]
    assert "openai" not in failed.text.lower()
    kept = api("GET", f"/conversations/{cid}/messages", user).json["items"]
    # the question is kept; the reply that failed is recorded as failed, as over the WebSocket
    assert [(m["role"], m["status"]) for m in kept] == [
        ("assistant", "failed"),
        ("user", "complete"),
    ]
    assert kept[1]["content"] == "Will you answer?"

    scripted_model.enqueue(Reply(text="Yes, now I can."))
    retried = api("POST", f"/conversations/{cid}/messages", user, body=send)
    assert retried.status == 201, retried.text
    assert retried.json["message"]["id"] == kept[1]["id"]
    assert retried.json["reply"]["content"] == "Yes, now I can."

    again = api("POST", f"/conversations/{cid}/messages", user, body=send)
    assert again.status == 201
    assert again.json["reply"]["id"] == retried.json["reply"]["id"]  # replayed, not re-asked
    history = api("GET", f"/conversations/{cid}/messages", user).json["items"]
    assert [(m["role"], m["content"], m["status"]) for m in history][:1] + [
        (m["role"], m["content"]) for m in history[1:]
    ] == [("assistant", "Yes, now I can.", "complete"), ("assistant", kept[0]["content"]),
          ("user", "Will you answer?")]  # fmt: skip
    assert len(scripted_model.completions()) == 2
    usage = api("GET", "/me", user).json["usage"]
    if fault.break_after is None:
        assert usage["outputTokens"] == 4  # a call refused outright costs nothing
    else:
        assert usage["outputTokens"] > 4  # what the broken reply did say counts too
