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
from tasks.local.cognito_mail import latest_code
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
        "passwordPolicy": {
            "minLength": 12,
            "requireLowercase": True,
            "requireUppercase": True,
            "requireNumbers": True,
            "requireSymbols": True,
        },
        "mfa": "OPTIONAL",
        "oauth": {
            "domain": info["federation"]["hostedUrl"],
            "providers": [{"name": "LocalOIDC", "label": "Local OIDC"}],
        },
        "local": {"mailboxUrl": "/_local/mailbox", "demoModel": None},
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
        ClientId=stack.info["clientId"],
        Username=email,
        ConfirmationCode=latest_code(stack.info["motoUrl"], email),
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
    code = latest_code(stack.info["motoUrl"], email)
    cognito.confirm_sign_up(ClientId=stack.info["clientId"], Username=email, ConfirmationCode=code)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.confirm_sign_up(
            ClientId=stack.info["clientId"], Username=email, ConfirmationCode=code
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
    """Every route that takes a token (the public shared page takes none: test_stack_shares)."""
    manifest = load_manifest()
    return [
        (r.method, r.path, r.auth == "jwt")
        for r, f in manifest.http_routes()
        if f.name != "share_api"
    ]


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


def test_the_change_feed_runs_in_the_stack(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser], model: Any
) -> None:
    """Lists, rollups and clean-up follow from DynamoDB Streams through the stack's event source
    mapping and `stream_processor` (its own process), within the stream's delay."""
    ada, bob = make_user("Ada"), make_user("Bob")
    rooms = []
    for title in ("first", "second"):
        cid = api.post(
            "/conversations", json={"title": title, "kind": "group"}, headers=ada.bearer()
        ).json()["id"]
        invited = api.post(
            f"/conversations/{cid}/members", json={"email": bob.email}, headers=ada.bearer()
        )
        assert invited.status_code == 201
        rooms.append(cid)

    def listed(user: TestUser) -> list[str]:
        return [c["id"] for c in api.get("/conversations", headers=user.bearer()).json()["items"]]

    assert listed(bob) == rooms[::-1]
    sent = api.post(
        f"/conversations/{rooms[0]}/messages", json={"content": "hi"}, headers=bob.bearer()
    )
    assert sent.status_code == 201
    for who in (ada, bob):
        _wait_for(lambda who=who: listed(who) == rooms, "the room with the message to move up")
    _wait_for(
        lambda: api.get("/me", headers=bob.bearer()).json()["activity"]["today"]["messages"] == 1,
        "bob's message to be counted",
    )
    assert api.get("/me", headers=ada.bearer()).json()["activity"]["today"]["messages"] == 0

    assert api.delete(f"/conversations/{rooms[0]}", headers=ada.bearer()).status_code == 204
    assert listed(bob) == [rooms[1]]  # at once, before the purge
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.info["motoUrl"],
        region_name=stack.info["region"],
        **FAKE_CREDENTIALS,
    )

    def left() -> list[Any]:
        return dynamodb.query(
            TableName=stack.resources.chat_table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"CONV#{rooms[0]}"}},
        )["Items"]

    _wait_for(lambda: not left(), "the deleted room's items to be purged")
    assert stack.streams["stream_processor"].dead_lettered == 0


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


# -- exports (Step Functions on moto's executor, its tasks in the local Lambda runtime) ------------
EXPORT_MESSAGES = 2000


def _fill_history(stack: LocalStack, conversation_id: str, author: TestUser) -> list[Any]:
    """2,000 stored messages of every kind (user and assistant, failed and stopped replies,
    usage, Markdown and non-ASCII text), written straight to the table; oldest first."""
    from parley.ids import new_ulid
    from parley.models import Message, Usage
    from parley.store.messages import _message_item

    table = boto3.resource(
        "dynamodb",
        endpoint_url=stack.info["motoUrl"],
        region_name=stack.info["region"],
        **FAKE_CREDENTIALS,
    ).Table(stack.resources.chat_table)
    messages = []
    for n in range(EXPORT_MESSAGES):
        assistant = n % 2 == 1
        stamp = f"2026-11-{1 + n // 1000:02d}T{(n // 60) % 24:02d}:{n % 60:02d}:00.000Z"
        messages.append(
            Message(
                id=new_ulid(),
                conversation_id=conversation_id,
                author_id="assistant" if assistant else author.sub,
                author_name="Assistant" if assistant else "Ada",
                role="assistant" if assistant else "user",
                content=f"Line {n}: **bold** `code` — naïve café ✓\n\n- item {n}",
                status=("failed" if n % 97 == 1 else "stopped" if n % 89 == 1 else "complete")
                if assistant
                else "complete",
                usage=Usage(input_tokens=n, output_tokens=2 * n) if assistant else None,
                reply_to=messages[-1].id if assistant else None,
                created_at=stamp,
                updated_at=stamp,
            )
        )
    with table.batch_writer() as batch:
        for message in messages:
            batch.put_item(Item=_message_item(message))
    return messages


def _await_export(api: httpx.Client, user: TestUser, export_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = api.get(f"/exports/{export_id}", headers=user.bearer()).json()
        if status["status"] != "running":
            return dict(status)
        time.sleep(0.5)
    raise AssertionError(f"export {export_id} still running after 180 s")


def test_a_2000_message_conversation_exports_exactly_as_stored(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser]
) -> None:
    ada, eve = make_user("Ada"), make_user("Eve")
    cid = api.post(
        "/conversations", json={"title": "Trip: Lisbon & Porto"}, headers=ada.bearer()
    ).json()["id"]
    stored = _fill_history(stack, cid, ada)
    as_api = api.get(f"/conversations/{cid}/messages?limit=3", headers=ada.bearer()).json()

    # JSON, announced over the WebSocket with a download link.
    socket = Socket(stack, ada.id_token)
    try:
        started = api.post(
            f"/conversations/{cid}/exports", json={"format": "json"}, headers=ada.bearer()
        )
        assert started.status_code == 202, started.text
        export = started.json()
        assert (export["status"], export["format"], export["conversationId"]) == (
            "running",
            "json",
            cid,
        )
        ready = socket.until(_of("export.ready", exportId=export["id"]), timeout=180)
    finally:
        socket.close()
    assert ready["messageCount"] == EXPORT_MESSAGES
    assert ready["fileName"] == "trip-lisbon-porto.json"
    document = httpx.get(ready["downloadUrl"], timeout=TIMEOUT)
    assert document.status_code == 200
    assert "attachment" in document.headers.get("content-disposition", "")
    exported = document.json()
    assert exported["conversation"] == {
        "id": cid,
        "kind": "assistant",
        "title": "Trip: Lisbon & Porto",
    }
    assert exported["messageCount"] == EXPORT_MESSAGES
    assert exported["messages"] == [m.model_dump(mode="json", by_alias=True) for m in stored]
    # The same shape as the HTTP API shows a message (newest first there), but for the
    # caller's own rating, which the listing adds and an export of the conversation never has.
    listed = [{k: v for k, v in m.items() if k != "feedback"} for m in as_api["items"]]
    assert exported["messages"][-3:] == list(reversed(listed))

    # Markdown, followed with GET /exports/{id}.
    md = api.post(f"/conversations/{cid}/exports", json={"format": "md"}, headers=ada.bearer())
    assert md.status_code == 202
    status = _await_export(api, ada, md.json()["id"])
    assert status["status"] == "ready", status
    assert status["messageCount"] == EXPORT_MESSAGES
    text = httpx.get(status["downloadUrl"], timeout=TIMEOUT).text
    header, *blocks = text.split("\n### ")
    assert header.startswith("# Trip: Lisbon & Porto\n")
    assert f"{EXPORT_MESSAGES} messages" in header
    assert len(blocks) == EXPORT_MESSAGES
    for block, message in zip(blocks, stored, strict=True):
        title, _, body = block.partition("\n\n")
        note = "" if message.status == "complete" else f" _({message.status})_"
        assert title == f"{message.author_name} · {message.created_at}{note}"
        assert body.rstrip("\n") == message.content

    # Only its owner reads an export; a non-member cannot export.
    assert api.get(f"/exports/{md.json()['id']}", headers=eve.bearer()).status_code == 404
    refused = api.post(f"/conversations/{cid}/exports", json={"format": "md"}, headers=eve.bearer())
    assert refused.status_code == 404
    bad = api.post(f"/conversations/{cid}/exports", json={"format": "pdf"}, headers=ada.bearer())
    assert bad.status_code == 422


def test_an_export_the_user_may_no_longer_make_fails_with_a_reason(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser]
) -> None:
    """Deleted between the request and the workflow's first step: `export.failed`, no retries.
    The export worker is held until the conversation is gone, so its first step surely comes
    after the delete, whatever the machine's speed."""
    ada = make_user("Ada")
    cid = api.post("/conversations", json={"title": "Gone soon"}, headers=ada.bearer()).json()["id"]
    assert stack.gateway is not None
    assert stack.gateway.runtime is not None
    worker = stack.gateway.runtime.pools["export_worker"]
    socket = Socket(stack, ada.id_token)
    stack.loop.run(worker.pause())
    try:
        started = api.post(
            f"/conversations/{cid}/exports", json={"format": "md"}, headers=ada.bearer()
        )
        assert started.status_code == 202
        assert api.delete(f"/conversations/{cid}", headers=ada.bearer()).status_code == 204
        stack.loop.run(worker.resume())
        failed = socket.until(
            lambda f: (
                f.get("type") in ("export.failed", "export.ready")
                and f.get("exportId") == started.json()["id"]
            ),
            timeout=180,
        )
    finally:
        stack.loop.run(worker.resume())
        socket.close()
    assert failed["type"] == "export.failed"
    assert "deleted" in failed["reason"]
    status = api.get(f"/exports/{started.json()['id']}", headers=ada.bearer()).json()
    assert (status["status"], status["error"], status["downloadUrl"]) == (
        "failed", failed["reason"], None
    )  # fmt: skip


# -- attachments: the browser's presigned POST, the processor, the model, downloads -------------
def _grant(api: httpx.Client, user: TestUser, cid: str, name: str, kind: str, size: int) -> Any:
    return api.post(
        f"/conversations/{cid}/uploads",
        json={"name": name, "contentType": kind, "size": size},
        headers=user.bearer(),
    )


def _post_file(grant: dict[str, Any], data: bytes, **override: str) -> httpx.Response:
    """What the app does: the grant's fields, then the file, posted from the app's origin."""
    fields = {**grant["fields"], **override}
    return httpx.post(
        grant["url"],
        data=fields,
        files={"file": ("upload", data, fields.get("Content-Type", "application/octet-stream"))},
        timeout=TIMEOUT,
    )


def _settled(api: httpx.Client, user: TestUser, cid: str, attachment_id: str) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        found = api.get(f"/conversations/{cid}/attachments/{attachment_id}", headers=user.bearer())
        body = found.json()
        return body if body["status"] != "pending" else None

    return _wait_for(read, "the upload processor")


def _attach(
    api: httpx.Client, user: TestUser, cid: str, name: str, kind: str, data: bytes
) -> dict[str, Any]:
    grant = _grant(api, user, cid, name, kind, len(data))
    assert grant.status_code == 201, grant.text
    assert _post_file(grant.json(), data).status_code == 204
    return _settled(api, user, cid, grant.json()["attachment"]["id"])


def test_a_pdf_and_an_image_reach_the_model(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser], model: Any
) -> None:
    from tests.support import documents

    ada = make_user("Ada")
    cid = api.post("/conversations", json={}, headers=ada.bearer()).json()["id"]
    pdf = documents.text_pdf([["Quarterly report"], ["The codeword is HELIOTROPE-7."]])
    doc = _attach(api, ada, cid, "report.pdf", "application/pdf", pdf)
    assert (doc["status"], doc["pages"]) == ("ready", 2)
    image = documents.png()
    picture = _attach(api, ada, cid, "red.png", "image/png", image)
    assert picture["status"] == "ready"
    sent = api.post(
        f"/conversations/{cid}/messages",
        json={"content": "What is the codeword?", "attachmentIds": [doc["id"], picture["id"]]},
        headers=ada.bearer(),
    )
    assert sent.status_code == 201, sent.text
    assert [a["name"] for a in sent.json()["message"]["attachments"]] == ["report.pdf", "red.png"]
    request = model.completions()[-1].body
    question = request["messages"][-1]["content"]
    text = question[0]["text"]
    assert "HELIOTROPE-7" in text
    assert '"report.pdf"' in text
    assert "untrusted" in text
    assert question[1]["type"] == "image_url"
    assert question[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_a_model_without_vision_gets_a_note_instead_of_the_image(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser], model: Any
) -> None:
    from tests.support import documents

    eve = make_user("Eve")
    # tasks/local/models.yaml: "scripted-mini" has vision: false.
    cid = api.post("/conversations", json={"model": "scripted-mini"}, headers=eve.bearer()).json()[
        "id"
    ]
    grant = _grant(api, eve, cid, "red.png", "image/png", len(documents.png()))
    assert grant.json()["assistantSeesImages"] is False  # the app says so before sending
    assert _post_file(grant.json(), documents.png()).status_code == 204
    picture = _settled(api, eve, cid, grant.json()["attachment"]["id"])
    sent = api.post(
        f"/conversations/{cid}/messages",
        json={"content": "What colour is it?", "attachmentIds": [picture["id"]]},
        headers=eve.bearer(),
    )
    assert sent.status_code == 201, sent.text
    request = model.completions()[-1].body
    assert request["model"] == "scripted-mini"
    question = request["messages"][-1]["content"]
    assert isinstance(question, str)  # text only: no image part
    assert "cannot see images" in question
    assert sent.json()["reply"]["model"] == "scripted-mini"


def test_uploads_s3_and_the_processor_refuse(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser], model: Any
) -> None:
    from tests.support import documents

    ada, eve = make_user("Ada"), make_user("Eve")
    cid = api.post("/conversations", json={}, headers=ada.bearer()).json()["id"]
    assert _grant(api, ada, cid, "x.html", "text/html", 10).status_code == 422  # wrong type
    assert _grant(api, ada, cid, "x.pdf", "application/pdf", 50 * 1024 * 1024).status_code == 413
    assert _grant(api, eve, cid, "x.txt", "text/plain", 10).status_code == 404  # not a member
    grant = _grant(api, ada, cid, "notes.txt", "text/plain", 5).json()
    assert _post_file(grant, b"far more than five bytes").status_code == 400  # oversize
    other_key = grant["fields"]["key"].replace(ada.sub, eve.sub)
    assert _post_file(grant, b"hello", key=other_key).status_code == 403  # another user's key
    assert _post_file(grant, b"hello", **{"Content-Type": "text/html"}).status_code == 403
    gate = stack._uploads
    gate.clock = lambda: time.time() + 3600  # an hour later: the policy has expired
    try:
        assert _post_file(grant, b"hello").status_code == 403
    finally:
        gate.clock = time.time
    fake = _attach(api, ada, cid, "a.pdf", "application/pdf", documents.png())
    assert (fake["status"], fake["reason"]) == ("rejected", "wrong_type")  # not what it claims
    broken = _attach(api, ada, cid, "b.pdf", "application/pdf", documents.malformed_pdf())
    assert (broken["status"], broken["reason"]) == ("rejected", "malformed")
    bomb = _attach(api, ada, cid, "c.pdf", "application/pdf", documents.zip_bomb())
    assert (bomb["status"], bomb["reason"]) == ("rejected", "decompression_bomb")
    pending = _grant(api, ada, cid, "p.txt", "text/plain", 3).json()["attachment"]["id"]
    for ids, status in (([pending], 409), ([fake["id"]], 409)):
        refused = api.post(
            f"/conversations/{cid}/messages",
            json={"content": "see", "attachmentIds": ids},
            headers=ada.bearer(),
        )
        assert refused.status_code == status, refused.text


def test_a_room_member_downloads_a_teammates_attachment(
    stack: LocalStack, api: httpx.Client, make_user: Callable[..., TestUser], model: Any
) -> None:
    ada, bob, eve = make_user("Ada"), make_user("Bob"), make_user("Eve")
    cid = api.post("/conversations", json={"kind": "group"}, headers=ada.bearer()).json()["id"]
    api.post(f"/conversations/{cid}/members", json={"email": bob.email}, headers=ada.bearer())
    data = b"minutes of the meeting\n"
    notes = _attach(api, bob, cid, "minutes.txt", "text/plain", data)
    path = f"/conversations/{cid}/attachments/{notes['id']}/download"
    assert api.get(path, headers=ada.bearer()).status_code == 404  # not sent yet: bob's alone
    sent = api.post(
        f"/conversations/{cid}/messages",
        json={"content": "the minutes", "attachmentIds": [notes["id"]]},
        headers=bob.bearer(),
    )
    assert sent.status_code == 201
    refused = api.post(  # someone else's attachment
        f"/conversations/{cid}/messages",
        json={"content": "mine now", "attachmentIds": [notes["id"]]},
        headers=ada.bearer(),
    )
    assert refused.status_code == 404
    link = api.get(path, headers=ada.bearer())
    assert link.status_code == 200
    got = httpx.get(link.json()["url"], timeout=TIMEOUT)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-disposition"].startswith("attachment;")
    tampered = link.json()["url"].replace("minutes.txt", "minutes.html")
    assert httpx.get(tampered, timeout=TIMEOUT).status_code == 403
    assert api.get(path, headers=eve.bearer()).status_code == 404  # not a member
