"""Share links on the whole local stack, through the gateway emulator: the public route answers
with no token at all (its manifest route has no authorizer) and only the snapshot, the app's
page is the hash route `/#/s/<id>`, deleting the conversation ends the link
and the change feed deletes the snapshot, and the route's own throttle answers 429."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest

from tasks.local.bootstrap import FAKE_CREDENTIALS
from tasks.local.gateway.settings import ROUTE_THROTTLES, SHARED_ROUTE
from tasks.local.scripted_model import Reply
from tasks.local.stack import LocalStack, StackConfig
from tasks.local.workflows import EXPORTS_BUCKET
from tests.support.cognito import TestUser, create_user

pytestmark = pytest.mark.slow
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = StackConfig(
        model="scripted",
        log_dir=tmp_path_factory.mktemp("logs"),
        scripted_token_delay=0.0,
        stream_window=0,
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.info["httpApiUrl"], timeout=TIMEOUT) as client:
        yield client


def _wait_for(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _user(stack: LocalStack, api: httpx.Client) -> TestUser:
    user = create_user(stack.resources, f"{uuid.uuid4().hex[:10]}@example.com")
    _wait_for(lambda: api.get("/me", headers=user.bearer()).status_code == 200, "profile")
    return user


def _shared_conversation(stack: LocalStack, api: httpx.Client, user: TestUser) -> tuple[str, str]:
    stack.scripted_model.reset(Reply(text="Lisbon in May.", token_delay=0.0))
    cid = api.post("/conversations", json={"title": "Trip"}, headers=user.bearer()).json()["id"]
    sent = api.post(f"/conversations/{cid}/messages", json={"content": "Where?"},
                    headers=user.bearer())  # fmt: skip
    assert sent.status_code == 201, sent.text
    made = api.post(f"/conversations/{cid}/shares", json={}, headers=user.bearer())
    assert made.status_code == 201, made.text
    return cid, made.json()["id"]


def _snapshots(stack: LocalStack) -> list[str]:
    s3 = boto3.client(
        "s3", endpoint_url=stack.info["motoUrl"], region_name=stack.info["region"],
        **FAKE_CREDENTIALS,
    )  # fmt: skip
    listed = s3.list_objects_v2(Bucket=EXPORTS_BUCKET, Prefix="shares/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_the_public_route_needs_no_token_and_shows_only_the_snapshot(
    stack: LocalStack, api: httpx.Client
) -> None:
    user = _user(stack, api)
    cid, share_id = _shared_conversation(stack, api, user)
    page = httpx.get(f"{stack.info['httpApiUrl']}/shared/{share_id}", timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "private, no-cache"
    assert page.headers["referrer-policy"] == "no-referrer"
    body: dict[str, Any] = page.json()
    assert [m["content"] for m in body["messages"]] == ["Where?", "Lisbon in May."]
    for secret in (user.email, user.sub, cid):
        assert secret not in page.text
    # A garbage token changes nothing: the route never looks at it.
    again = api.get(f"/shared/{share_id}", headers={"Authorization": "Bearer nonsense"})
    assert again.status_code == 200
    assert api.get("/shared/" + "A" * 24).status_code == 404
    # The owner's routes still need a token.
    assert api.get(f"/conversations/{cid}/shares").status_code == 401
    # The app's page is a hash route of the app's origin: any static host serves it.
    listed = api.get(f"/conversations/{cid}/shares", headers=user.bearer()).json()["items"]
    assert [s["path"] for s in listed] == [f"/#/s/{share_id}"]


def test_deleting_the_conversation_ends_the_link_and_the_feed_removes_the_snapshot(
    stack: LocalStack, api: httpx.Client
) -> None:
    user = _user(stack, api)
    cid, share_id = _shared_conversation(stack, api, user)
    assert f"shares/{share_id}.json" in _snapshots(stack)
    assert api.delete(f"/conversations/{cid}", headers=user.bearer()).status_code == 204
    gone = api.get(f"/shared/{share_id}")
    assert gone.status_code == 410
    assert gone.json()["error"]["reason"] == "deleted"
    _wait_for(lambda: f"shares/{share_id}.json" not in _snapshots(stack), "snapshot deleted")


def test_the_public_route_has_its_own_throttle(stack: LocalStack, api: httpx.Client) -> None:
    limit = ROUTE_THROTTLES[SHARED_ROUTE]
    started = time.monotonic()
    statuses = [api.get("/shared/" + "B" * 24).status_code for _ in range(limit.burst * 3)]
    elapsed = time.monotonic() - started
    assert 429 in statuses
    assert statuses[0] == 404
    # The burst, and what refilled at the route's rate meanwhile; the stage's 100/s never bit.
    assert statuses.count(404) <= limit.burst + limit.rate * elapsed + 1
    # Other routes are not held back by it.
    assert api.get("/models").status_code == 401
