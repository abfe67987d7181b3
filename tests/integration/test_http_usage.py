"""GET /me's activity and GET /me/usage: the change feed's rollups through chat_api, in process
against moto (the feed delivered by the local event source mapping)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tasks.local.scripted_model import Reply, ScriptedModel
from tasks.local.streams import StreamPoller
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser


@pytest.fixture
def api(parley_env: dict[str, str]) -> Callable[..., ApiResponse]:
    from chat_api.app import handler

    def request(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
        return call(handler, method, path, headers=user.bearer(), **kwargs)

    return request


def test_me_and_the_daily_series_read_the_rollups(
    api: Callable[..., ApiResponse],
    user: TestUser,
    other_user: TestUser,
    scripted_model: ScriptedModel,
    change_feed: StreamPoller,
) -> None:
    scripted_model.enqueue(
        Reply(text="one two three four five", prompt_tokens=12),
        Reply(text="a b c d e f g", prompt_tokens=20),
    )
    cid = api("POST", "/conversations", user, body={}).json["id"]
    for text in ("plan a trip", "and the hotel"):
        assert (
            api("POST", f"/conversations/{cid}/messages", user, body={"content": text}).status
            == 201
        )
    before = api("GET", "/me", user).json["activity"]["today"]
    assert before["messages"] == 0  # not counted on the request path
    change_feed.drain()

    me = api("GET", "/me", user).json
    today = me["usage"]["date"]
    counts = {
        "messages": 2,
        "inputTokens": 32,
        "outputTokens": 12,
        "repliesStopped": 0,
        "repliesFailed": 0,
        # the scripted model's prices (tasks/local/models.yaml): $0.15 and $0.60 per 1M tokens
        "costUsd": (32 * 0.15 + 12 * 0.6) / 1_000_000,
    }
    assert me["activity"]["today"] == {"date": today, **counts}
    assert me["activity"]["month"] == {"month": today[:7], **counts}
    assert api("GET", "/me", other_user).json["activity"]["today"]["messages"] == 0

    series = api("GET", "/me/usage", user).json
    assert series["to"] == today
    assert len(series["days"]) == 30
    assert series["days"][-1] == {"date": today, **counts}
    assert all(d["messages"] == 0 for d in series["days"][:-1])
    day = datetime.fromisoformat(today).replace(tzinfo=UTC)
    start = (day - timedelta(days=2)).date().isoformat()
    short = api("GET", "/me/usage", user, query={"from": start, "to": today}).json
    assert [d["date"] for d in short["days"]] == [
        (day - timedelta(days=n)).date().isoformat() for n in (2, 1, 0)
    ]
    assert short["from"] == start


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13-01"}, "'from' must be a day as YYYY-MM-DD"),
        ({"to": "yesterday"}, "'to' must be a day as YYYY-MM-DD"),
        ({"from": "2026-01-02", "to": "2026-01-01"}, "'from' must not be after 'to'"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 366 days"),
        ({"from": "2026-1-1", "to": "2026-01-03"}, "YYYY-MM-DD"),
    ],
)
def test_a_bad_usage_range_is_a_clear_400(
    api: Callable[..., ApiResponse], user: TestUser, query: dict[str, str], message: str
) -> None:
    answer = api("GET", "/me/usage", user, query=query)
    assert answer.status == 400
    assert message in answer.json["error"]["message"]
