"""The admin console on the whole local stack: the gateway's JWT authorizer and admin_api, the
stack's admin user, and what disabling does to a signed-in user — their open socket closes,
their next HTTP call and WebSocket connect fail, a reply streaming to them stops reaching them
while the rest of the room gets it whole — and enabling gives their access back.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tasks.local.bootstrap import FAKE_CREDENTIALS
from tasks.local.scripted_model import Reply
from tasks.local.stack import ADMIN_EMAIL, ADMIN_GROUP, ADMIN_PASSWORD, LocalStack, StackConfig
from tests.integration.test_stack_e2e import Socket, _of, _wait_for
from tests.support.cognito import TestUser, create_user

pytestmark = pytest.mark.slow
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = StackConfig(
        model="scripted", log_dir=tmp_path_factory.mktemp("logs"), scripted_token_delay=0.01
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.info["httpApiUrl"], timeout=TIMEOUT) as client:
        yield client


def _cognito(stack: LocalStack) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=stack.info["cognitoEndpoint"],
        region_name=stack.info["region"],
        **FAKE_CREDENTIALS,
    )


@pytest.fixture(scope="module")
def admin_headers(stack: LocalStack) -> dict[str, str]:
    """The stack's admin user's own ID token: the pre-token-generation trigger gave it the
    `parley:role` claim from the `admins` group."""
    cognito = _cognito(stack)
    pool = stack.info["userPoolId"]
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool, Username=ADMIN_EMAIL)["Groups"]
    assert [g["GroupName"] for g in groups] == [ADMIN_GROUP]
    answer = cognito.initiate_auth(
        ClientId=stack.resources.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": ADMIN_EMAIL, "PASSWORD": ADMIN_PASSWORD},
    )
    return {"Authorization": f"Bearer {answer['AuthenticationResult']['IdToken']}"}


@pytest.fixture
def make_user(stack: LocalStack, api: httpx.Client) -> Callable[..., TestUser]:
    def make(name: str | None = None) -> TestUser:
        user = create_user(stack.resources, f"{uuid.uuid4().hex[:10]}@example.com", name=name)
        _wait_for(
            lambda: api.get("/conversations", headers=user.bearer()).status_code == 200, "user"
        )
        return user

    return make


def _closed(socket: Socket, timeout: float = 10.0) -> None:
    """Read until the server closes the socket; fails if it stays open."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            socket.until(lambda f: False, timeout=max(0.1, deadline - time.monotonic()))
    except ConnectionClosed:
        return
    except TimeoutError:
        pass
    raise AssertionError("the socket stayed open")


def _subscribe_once(stack: LocalStack, user: TestUser, cid: str) -> None:
    socket = Socket(stack, user.id_token)
    try:
        socket.send(action="subscribe", conversationId=cid)
        socket.until(lambda f: False, timeout=5)
    finally:
        socket.close()


def test_the_admin_user_is_in_the_summary(stack: LocalStack) -> None:
    assert stack.info["adminUser"] == {
        "email": ADMIN_EMAIL,
        "password": ADMIN_PASSWORD,
        "group": ADMIN_GROUP,
    }


def test_members_are_refused_and_the_gateway_refuses_bad_tokens(
    api: httpx.Client, make_user: Callable[..., TestUser], admin_headers: dict[str, str]
) -> None:
    member = make_user()
    assert api.get("/admin/users", headers=member.bearer()).status_code == 403
    assert api.get("/admin/users").status_code == 401
    listed = api.get("/admin/users", params={"q": member.email[:6]}, headers=admin_headers)
    assert listed.status_code == 200, listed.text
    assert [u["email"] for u in listed.json()["items"]] == [member.email]


def test_disabling_closes_the_socket_refuses_the_next_calls_and_enabling_restores(
    stack: LocalStack,
    api: httpx.Client,
    make_user: Callable[..., TestUser],
    admin_headers: dict[str, str],
) -> None:
    user = make_user()
    cid = api.post("/conversations", json={}, headers=user.bearer()).json()["id"]
    socket = Socket(stack, user.id_token)
    socket.send(action="subscribe", conversationId=cid)
    socket.until(_of("subscribed", conversationId=cid))

    disabled = api.post(f"/admin/users/{user.sub}/disable", headers=admin_headers)
    assert disabled.status_code == 200, disabled.text
    _closed(socket)
    refused = _wait_for(
        lambda: (r := api.get("/conversations", headers=user.bearer())).status_code == 401 and r,
        "the API to refuse",
        timeout=5,
    )
    assert refused.json()["error"]["message"] == "This account is disabled"
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        _subscribe_once(stack, user, cid)
    with pytest.raises(_cognito(stack).exceptions.NotAuthorizedException):
        _cognito(stack).initiate_auth(
            ClientId=stack.info["clientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user.email, "PASSWORD": user.password},
        )

    enabled = api.post(f"/admin/users/{user.sub}/enable", headers=admin_headers)
    assert enabled.status_code == 200, enabled.text
    _wait_for(
        lambda: api.get("/conversations", headers=user.bearer()).status_code == 200,
        "access again",
        timeout=5,
    )
    again = Socket(stack, user.id_token)
    try:
        again.send(action="subscribe", conversationId=cid)
        again.until(_of("subscribed", conversationId=cid))
    finally:
        again.close()
    audit = api.get("/admin/audit", params={"limit": 2}, headers=admin_headers).json()["items"]
    assert [(e["action"], e["targetId"]) for e in audit] == [
        ("user.enabled", user.sub),
        ("user.disabled", user.sub),
    ]


def test_a_reply_streaming_to_a_user_being_disabled_stops_reaching_them(
    stack: LocalStack,
    api: httpx.Client,
    make_user: Callable[..., TestUser],
    admin_headers: dict[str, str],
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    cid = api.post(
        "/conversations", json={"title": "Room", "kind": "group"}, headers=ada.bearer()
    ).json()["id"]
    api.post(f"/conversations/{cid}/members", json={"email": bob.email}, headers=ada.bearer())
    resume = threading.Event()
    text = " ".join(f"word{n}" for n in range(40))
    stack.scripted_model.reset(Reply(text=text, token_delay=0.01, pause_after=5, resume=resume))
    a, b = Socket(stack, ada.id_token), Socket(stack, bob.id_token)
    try:
        for socket in (a, b):
            socket.send(action="subscribe", conversationId=cid)
            socket.until(_of("subscribed", conversationId=cid))
        a.send(
            action="sendMessage", conversationId=cid, clientMessageId="q", content="@assistant go"
        )
        first = b.until(_of("message.delta", conversationId=cid))
        # Bob is disabled while the reply is surely mid-way (the model holds it).
        assert api.post(f"/admin/users/{bob.sub}/disable", headers=admin_headers).status_code == 200
        resume.set()
        _closed(b)
        done = a.until(_of("message.completed", conversationId=cid))
        assert done["message"]["id"] == first["messageId"]
        assert done["message"]["content"] == text
        seen_by_bob = [f for f in b.frames if f.get("messageId") == first["messageId"]]
        assert not any(f.get("type") == "message.completed" for f in b.frames)
        ada_deltas = [f for f in a.frames if f.get("type") == "message.delta"]
        assert len(seen_by_bob) < len(ada_deltas)
        assert "".join(f["delta"] for f in seen_by_bob) != text
    finally:
        resume.set()
        a.close()
        b.close()
