"""The whole local stack, end to end through the gateway emulator: Cognito sign-up and sign-in,
the HTTP routes, `POST /chat`, the token attack suite on every route, streaming over WebSocket
with stop, and two people in a room. The scripted model answers; nothing leaves loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tasks.core.manifest import load_manifest
from tasks.local.bootstrap import FAKE_CREDENTIALS
from tasks.local.scripted_model import Reply
from tasks.local.servers import bind, port_of
from tasks.local.stack import DEMO_EMAIL, DEMO_PASSWORD, LocalStack, StackConfig
from tests.support.cognito import TestUser, create_user
from tests.support.token_attacks import attacks_for
from tests.support.tokens import TokenFactory, moto_signing_key

pytestmark = pytest.mark.slow
TIMEOUT = 60.0
FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
CONTRACT_KEYS = {
    "appUrl",
    "httpApiUrl",
    "wsUrl",
    "cognitoEndpoint",
    "region",
    "userPoolId",
    "clientId",
    "motoUrl",
    "modelUrl",
    "demoUser",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = StackConfig(
        model="scripted",
        log_dir=tmp_path_factory.mktemp("logs"),
        warm=True,
        scripted_token_delay=0.01,
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture
def model(stack: LocalStack) -> Any:
    stack.scripted_model.reset(Reply(text="Hello from the scripted model.", token_delay=0.01))
    return stack.scripted_model


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


def _wait_for(check: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def make_user(stack: LocalStack, api: httpx.Client) -> Callable[..., TestUser]:
    def make(name: str | None = None) -> TestUser:
        user = create_user(stack.resources, f"{uuid.uuid4().hex[:10]}@example.com", name=name)
        # The post-confirmation trigger (bridged from moto) writes the profile.
        _wait_for(lambda: api.get("/me", headers=user.bearer()).status_code == 200, "profile")
        return user

    return make


class Socket:
    """A WebSocket client that keeps every frame it received, for assertions on order."""

    def __init__(self, stack: LocalStack, token: str) -> None:
        self._connect = connect(
            stack.info["wsUrl"],
            subprotocols=["parley", token],  # type: ignore[list-item]
            open_timeout=TIMEOUT,
        )
        self.ws: ClientConnection = self._connect.__enter__()
        self.frames: list[dict[str, Any]] = []

    def send(self, **body: Any) -> None:
        self.ws.send(json.dumps(body))

    def until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.frames.append(frame)
            if predicate(frame):
                return frame

    def close(self) -> None:
        self._connect.__exit__(None, None, None)


def _of(kind: str, **match: Any) -> Callable[[dict[str, Any]], bool]:
    def check(frame: dict[str, Any]) -> bool:
        return frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items())

    return check


# -- start-up ---------------------------------------------------------------------------------
def test_ready_info_and_the_app_config(stack: LocalStack) -> None:
    info = stack.info
    assert set(info) >= CONTRACT_KEYS
    assert info["demoUser"] == {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    config = httpx.get(f"{info['appUrl']}/config.json", timeout=TIMEOUT).json()
    assert config == {
        "region": info["region"],
        "cognito": {
            "userPoolId": info["userPoolId"],
            "clientId": info["clientId"],
            "endpoint": info["cognitoEndpoint"],
            "authFlow": "USER_PASSWORD_AUTH",
        },
        "httpApiUrl": info["httpApiUrl"],
        "wsUrl": info["wsUrl"],
    }
    preflight = httpx.options(
        f"{info['httpApiUrl']}/conversations",
        headers={
            "Origin": info["appUrl"],
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=TIMEOUT,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == info["appUrl"]


@pytest.mark.skipif(
    not (FRONTEND / "node_modules").exists() and not os.environ.get("CI"),
    reason="frontend/node_modules is missing (npm ci --prefix frontend)",
)
def test_the_vite_dev_server_takes_config_json_from_the_stack(stack: LocalStack) -> None:
    sock = bind("127.0.0.1", 0, "vite")
    port = port_of(sock)
    sock.close()
    binary = FRONTEND / "node_modules" / ".bin" / "vite"  # not npx: terminate() must reach vite
    vite = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--strictPort"],
        cwd=FRONTEND,
        env={**os.environ, "PARLEY_STACK_URL": stack.info["appUrl"]},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, answer = time.monotonic() + TIMEOUT, None
        while time.monotonic() < deadline and vite.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/config.json", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert answer is not None, "vite did not start"
        assert answer.status_code == 200
        expected = httpx.get(f"{stack.info['appUrl']}/config.json", timeout=TIMEOUT).json()
        assert answer.json() == expected
    finally:
        vite.terminate()
        vite.wait(10)


def test_demo_user_signs_in_with_password_auth(stack: LocalStack, api: httpx.Client) -> None:
    auth = _cognito(stack).initiate_auth(
        ClientId=stack.info["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": DEMO_EMAIL, "PASSWORD": DEMO_PASSWORD},
    )["AuthenticationResult"]
    me = api.get("/me", headers={"Authorization": f"Bearer {auth['IdToken']}"})
    assert me.status_code == 200
    assert me.json()["email"] == DEMO_EMAIL
    with pytest.raises(_cognito(stack).exceptions.NotAuthorizedException):
        _cognito(stack).initiate_auth(
            ClientId=stack.info["clientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": DEMO_EMAIL, "PASSWORD": "Wrong-password-1!"},
        )


def test_sign_up_confirm_and_sign_in(stack: LocalStack, api: httpx.Client) -> None:
    cognito = _cognito(stack)
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    password = "Sign-up-Pass-42!"
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.sign_up(
            ClientId=stack.info["clientId"],
            Username=email,
            Password="short",
            UserAttributes=[{"Name": "email", "Value": email}],
        )
    cognito.sign_up(
        ClientId=stack.info["clientId"],
        Username=email,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": "New Person"}],
    )
    cognito.confirm_sign_up(
        ClientId=stack.info["clientId"], Username=email, ConfirmationCode="123456"
    )
    auth = cognito.initiate_auth(
        ClientId=stack.info["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]
    headers = {"Authorization": f"Bearer {auth['IdToken']}"}
    me = _wait_for(lambda: (r := api.get("/me", headers=headers)).status_code == 200 and r, "/me")
    assert me.json()["email"] == email
    assert me.json()["name"] == "New Person"


def test_a_sign_up_runs_post_confirmation_exactly_once(stack: LocalStack) -> None:
    """Cognito runs the trigger inside ConfirmSignUp, once; a second confirmation does not run
    it again, and nothing in the background runs it later."""
    assert stack.gateway is not None
    assert stack.gateway.runtime is not None
    trigger = stack.gateway.runtime.pools["post_confirmation"]
    cognito = _cognito(stack)
    email = f"once-{uuid.uuid4().hex[:8]}@example.com"
    cognito.sign_up(
        ClientId=stack.info["clientId"],
        Username=email,
        Password="Sign-up-Pass-42!",
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    before = trigger.invocations
    for _ in range(2):
        cognito.confirm_sign_up(
            ClientId=stack.info["clientId"], Username=email, ConfirmationCode="123456"
        )
    assert trigger.invocations == before + 1  # ran before ConfirmSignUp answered
    time.sleep(3.0)
    assert trigger.invocations == before + 1


# -- HTTP API ---------------------------------------------------------------------------------
def test_conversation_routes(
    api: httpx.Client, make_user: Callable[..., TestUser], model: Any
) -> None:
    owner, stranger = make_user(), make_user()
    created = api.post("/conversations", json={"title": "Plans"}, headers=owner.bearer())
    assert created.status_code == 201
    conversation = created.json()
    cid = conversation["id"]
    assert conversation["title"] == "Plans"
    listed = api.get("/conversations", headers=owner.bearer()).json()
    assert [c["id"] for c in listed["items"]] == [cid]
    assert api.get(f"/conversations/{cid}", headers=stranger.bearer()).status_code == 404
    renamed = api.patch(
        f"/conversations/{cid}", json={"title": "Better plans"}, headers=owner.bearer()
    )
    assert renamed.json()["title"] == "Better plans"
    posted = api.post(
        f"/conversations/{cid}/messages", json={"content": "hi there"}, headers=owner.bearer()
    )
    assert posted.status_code == 201
    assert posted.json()["reply"]["content"] == "Hello from the scripted model."
    page = api.get(f"/conversations/{cid}/messages", headers=owner.bearer()).json()
    assert [m["role"] for m in page["items"]] == ["assistant", "user"]
    assert api.delete(f"/conversations/{cid}", headers=stranger.bearer()).status_code == 404
    assert api.delete(f"/conversations/{cid}", headers=owner.bearer()).status_code == 204
    assert api.get(f"/conversations/{cid}", headers=owner.bearer()).status_code == 404


def test_post_chat_compatible_contract(
    api: httpx.Client, make_user: Callable[..., TestUser], model: Any
) -> None:
    user = make_user()
    answer = api.post("/chat", json={"prompt": "Hello there"}, headers={"id_token": user.id_token})
    assert answer.status_code == 200
    body = answer.json()
    assert body["response"] == "Hello from the scripted model."
    assert body["chat"]["user_id"] == user.sub
    assert body["chat"]["messages"] == [
        {"role": "user", "content": "Hello there"},
        {"role": "assistant", "content": "Hello from the scripted model."},
    ]
    again = api.post(
        "/chat", json={"prompt": "More", "chat_id": body["chat"]["id"]}, headers=user.bearer()
    )
    assert again.status_code == 200
    assert len(again.json()["chat"]["messages"]) == 4
    missing = api.post("/chat", json={}, headers={"id_token": user.id_token})
    assert (missing.status_code, missing.json()) == (400, {"error": "Field 'prompt' is required"})


def _routes() -> list[tuple[str, str, bool]]:
    manifest = load_manifest()
    return [(r.method, r.path, r.auth == "jwt") for r, _ in manifest.http_routes()]


@pytest.mark.parametrize(("method", "path", "gated"), _routes(), ids=lambda v: str(v))
def test_token_attacks_on_every_route(
    stack: LocalStack, api: httpx.Client, method: str, path: str, gated: bool
) -> None:
    """Every token fault gets 401 on every route: from the gateway's JWT authorizer (the function
    never runs) or, on `POST /chat`, from the function with the precise reason."""
    factory = TokenFactory(
        issuer=stack.resources.issuer, client_id=stack.resources.client_id, key=moto_signing_key()
    )
    url = path.replace("{id}", "01JDX3Z8N4Q7RM2V5K6B9C1T0E").replace("{userId}", "someone")
    pool = stack.gateway.runtime.pools["chat_api"]
    style = "bearer" if gated else "id_token"
    for attack in attacks_for(style):
        headers = {k: v.strip() for k, v in attack.headers(factory, style).items()}
        before = pool.invocations
        answer = api.request(method, url, headers=headers, json={"prompt": "x"})
        assert answer.status_code == 401, attack.name
        if gated:
            assert answer.json() == {"message": "Unauthorized"}, attack.name
            assert pool.invocations == before, f"{attack.name}: the function ran"
        else:
            assert answer.json() == {"error": attack.message(style)}, attack.name


# -- WebSocket --------------------------------------------------------------------------------
def test_stream_a_reply_then_stop_one(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser], model: Any
) -> None:
    user = make_user()
    cid = api.post("/conversations", json={"title": "Stream"}, headers=user.bearer()).json()["id"]
    socket = Socket(stack, user.id_token)
    try:
        assert socket.ws.subprotocol == "parley"
        socket.send(action="subscribe", conversationId=cid)
        socket.until(_of("subscribed", conversationId=cid))
        socket.send(action="sendMessage", conversationId=cid, clientMessageId="m-1", content="Hi!")
        created = socket.until(
            lambda f: f.get("type") == "message.created" and f["message"]["role"] == "user"
        )
        assert created["message"]["content"] == "Hi!"
        done = socket.until(_of("message.completed", conversationId=cid))
        reply_id = done["message"]["id"]
        deltas = [
            f
            for f in socket.frames
            if f.get("type") == "message.delta" and f["messageId"] == reply_id
        ]
        assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
        assert "".join(d["delta"] for d in deltas) == "Hello from the scripted model."
        assert done["message"]["status"] == "complete"

        model.enqueue(Reply(text="and on and on", endless=True, token_delay=0.05))
        socket.send(
            action="sendMessage", conversationId=cid, clientMessageId="m-2", content="Go on"
        )
        first = socket.until(_of("message.delta", conversationId=cid))
        socket.send(action="stop", conversationId=cid, messageId=first["messageId"])
        stopped = socket.until(_of("message.completed", conversationId=cid))
        assert stopped["message"]["id"] == first["messageId"]
        assert stopped["message"]["status"] == "stopped"
    finally:
        socket.close()
    history = api.get(f"/conversations/{cid}/messages", headers=user.bearer()).json()["items"]
    assert [m["status"] for m in history if m["role"] == "assistant"] == ["stopped", "complete"]


def test_two_people_in_a_room(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser], model: Any
) -> None:
    ada, bob = make_user("Ada"), make_user("Bob")
    cid = api.post(
        "/conversations", json={"title": "Room", "kind": "group"}, headers=ada.bearer()
    ).json()["id"]
    invited = api.post(
        f"/conversations/{cid}/members", json={"email": bob.email}, headers=ada.bearer()
    )
    assert invited.status_code == 201
    a, b = Socket(stack, ada.id_token), Socket(stack, bob.id_token)
    try:
        for socket in (a, b):
            socket.send(action="subscribe", conversationId=cid)
            socket.until(_of("subscribed", conversationId=cid))
        a.send(action="sendMessage", conversationId=cid, clientMessageId="r-1", content="Hi Bob")
        seen = b.until(_of("message.created", conversationId=cid))
        assert seen["message"]["content"] == "Hi Bob"
        assert seen["message"]["authorId"] == ada.sub
        b.send(
            action="sendMessage",
            conversationId=cid,
            clientMessageId="r-2",
            content="@assistant say hello",
        )
        for socket in (a, b):
            done = socket.until(
                lambda f: (
                    f.get("type") == "message.completed" and f["message"]["role"] == "assistant"
                )
            )
            assert done["message"]["content"] == "Hello from the scripted model."
    finally:
        a.close()
        b.close()
    assert len(model.completions()) == 1, "one reply for one mention, not one per member"


def test_a_stranger_cannot_join_a_room(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser]
) -> None:
    owner, stranger = make_user(), make_user()
    cid = api.post("/conversations", json={"kind": "group"}, headers=owner.bearer()).json()["id"]
    socket = Socket(stack, stranger.id_token)
    try:
        socket.send(action="subscribe", conversationId=cid)
        error = socket.until(lambda f: f.get("type") == "error")
        assert error["action"] == "subscribe"
    finally:
        socket.close()


def test_websocket_rejects_a_bad_token(stack: LocalStack) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as rejected:
        connect(stack.info["wsUrl"], subprotocols=["parley", "not-a-token"], open_timeout=TIMEOUT)  # type: ignore[list-item]
    assert rejected.value.response.status_code in (401, 403)
