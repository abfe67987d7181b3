"""The gateway emulator against small handlers written by the test: events, isolation, JWT
authorizer, CORS, throttling, WebSocket routing and `@connections`, Lambda invokes, TTL sweep.

The handlers live in tmp_path (never product code), so these tests pin the emulator's own
behaviour whatever the product's handlers do.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tasks.core.manifest import parse_manifest
from tasks.local.gateway import GatewaySettings, JwtConfig, LocalGateway
from tasks.local.gateway.settings import Cors, Throttle
from tasks.local.gateway.sweeper import sweep_once
from tasks.local.servers import LoopThread, PortInUse, bind
from tests.support.token_attacks import attacks_for
from tests.support.tokens import JwksServer, SigningKey, TokenFactory

pytestmark = pytest.mark.slow

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TESTPOOL"
CLIENT_ID = "test-client"
APP_ORIGIN = "http://127.0.0.1:5173"

HANDLERS = {
    "echo": """
        import json, os
        def handler(event, context):
            if event.get("rawPath") == "/boom":
                raise RuntimeError("secret internals")
            if event.get("rawPath") == "/slow":
                import time; time.sleep(10)
            if event.get("rawPath") == "/raw":
                return {"hello": "world"}
            if event.get("rawPath") == "/binary":
                import base64
                return {"statusCode": 201, "isBase64Encoded": True,
                        "body": base64.b64encode(bytes(range(256))).decode(),
                        "headers": {"Content-Type": "application/octet-stream"},
                        "cookies": ["a=1; Path=/", "b=2"]}
            return {"statusCode": 200, "headers": {"content-type": "application/json"},
                    "body": json.dumps({"event": event, "function": context.function_name,
                                        "remaining": context.get_remaining_time_in_millis(),
                                        "mark": os.environ.get("MARK"),
                                        "other": os.environ.get("OTHER_MARK"),
                                        "table": os.environ.get("CHAT_TABLE_NAME"),
                                        "leak": os.environ.get("PARENT_SECRET")})}
    """,
    "other": """
        import json, os, sys
        def handler(event, context):
            print("other handler log line")
            return {"statusCode": 200, "body": json.dumps({
                "mark": os.environ.get("OTHER_MARK"), "echo_mark": os.environ.get("MARK"),
                "echo_loaded": "echo.app" in sys.modules})}
    """,
    "wsauth": """
        import os, pathlib
        def handler(event, context):
            header = event["headers"].get("Sec-WebSocket-Protocol", "")
            parts = [p.strip() for p in header.split(",")]
            token = parts[1] if len(parts) == 2 and parts[0] == "parley" else ""
            if (pathlib.Path(os.environ["MARKER_DIR"]) / ("revoked-" + token)).exists():
                raise Exception("Unauthorized")
            if token.startswith("good-"):
                effect = "Allow"
            elif token.startswith("deny-"):
                effect = "Deny"
            else:
                raise Exception("Unauthorized")
            return {"principalId": token[5:], "context": {"userId": token[5:]},
                    "policyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Action": "execute-api:Invoke", "Effect": effect,
                         "Resource": event["methodArn"]}]}}
    """,
    "wsconnect": """
        def handler(event, context):
            if event["requestContext"]["authorizer"]["userId"] == "refused":
                return {"statusCode": 403}
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "parley"}}
    """,
    "wsmessage": """
        import json, os, boto3
        def handler(event, context):
            ctx = event["requestContext"]
            client = boto3.client("apigatewaymanagementapi",
                                  endpoint_url=os.environ["WS_MANAGEMENT_ENDPOINT"])
            try:
                body = json.loads(event["body"])
            except ValueError:
                body = {"raw": event["body"]}
            if ctx["routeKey"] == "fail":
                raise RuntimeError("boom")
            if ctx["routeKey"] == "invoke":
                boto3.client("lambda").invoke(FunctionName=os.environ["WORKER"],
                    InvocationType="Event", Payload=json.dumps(body).encode())
            targets = body.get("to") or [ctx["connectionId"]]
            for target in targets:
                client.post_to_connection(ConnectionId=target, Data=json.dumps({
                    "route": ctx["routeKey"], "user": ctx["authorizer"]["userId"],
                    "principal": ctx["authorizer"]["principalId"], "body": body,
                    "connectionId": ctx["connectionId"]}).encode())
            return {"statusCode": 200}
    """,
    "wsdisconnect": """
        import json, os, pathlib
        def handler(event, context):
            ctx = event["requestContext"]
            path = pathlib.Path(os.environ["MARKER_DIR"]) / ("gone-" + ctx["connectionId"])
            # whole or not at all: the test reads the marker as soon as it exists
            partial = path.with_suffix(".partial")
            partial.write_text(json.dumps({"code": ctx["disconnectStatusCode"]}))
            os.replace(partial, path)
    """,
    "worker": """
        import json, os, pathlib
        def handler(event, context):
            path = pathlib.Path(os.environ["MARKER_DIR"]) / ("worker-" + event["key"])
            attempts = (int(path.read_text()) if path.exists() else 0) + 1
            path.write_text(str(attempts))
            if attempts <= event.get("fail", 0):
                raise RuntimeError("transient")
            return {"attempts": attempts}
    """,
}


def _manifest(marker_dir: Path) -> dict[str, Any]:
    def fn(handler: str, **extra: Any) -> dict[str, Any]:
        return {"description": handler, "handler": f"{handler}.app.handler", **extra}

    return {
        "version": 1,
        "functions": {
            "echo": fn(
                "echo",
                timeout=20,
                environment={"MARK": "echo", "CHAT_TABLE_NAME": {"ref": "chat_table_name"}},
                triggers={
                    "http": [
                        {"route": "GET /items/{id}"},
                        {"route": "GET /items/special"},
                        {"route": "POST /items"},
                        {"route": "ANY /files/{path+}"},
                        {"route": "GET /public", "auth": "none"},
                        {"route": "GET /boom", "auth": "none"},
                        {"route": "GET /slow", "auth": "none"},
                        {"route": "GET /raw", "auth": "none"},
                        {"route": "GET /binary", "auth": "none"},
                    ]
                },
            ),
            "other": fn(
                "other",
                environment={"OTHER_MARK": "other"},
                triggers={"http": [{"route": "GET /other", "auth": "none"}]},
            ),
            "wsauth": fn(
                "wsauth",
                environment={"MARKER_DIR": str(marker_dir)},
                triggers={"authorizer": "websocket"},
            ),
            "wsconnect": fn("wsconnect", triggers={"websocket": ["$connect"]}),
            "wsmessage": fn(
                "wsmessage",
                environment={
                    "WS_MANAGEMENT_ENDPOINT": {"ref": "ws_management_endpoint"},
                    "WORKER": {"ref": "bot_worker_function_name"},
                },
                triggers={"websocket": ["echo", "fail", "invoke", "$default"]},
            ),
            "wsdisconnect": fn(
                "wsdisconnect",
                environment={"MARKER_DIR": str(marker_dir)},
                triggers={"websocket": ["$disconnect"]},
            ),
            "worker": fn(
                "worker",
                environment={"MARKER_DIR": str(marker_dir)},
                triggers={"async": {"max_retries": 1}},
            ),
        },
    }


class Running:
    """A started emulator and what the tests need to talk to it."""

    def __init__(self, loop: LoopThread, gateway: LocalGateway, factory: TokenFactory) -> None:
        self.loop = loop
        self.gateway = gateway
        self.factory = factory
        assert gateway.endpoints is not None
        self.endpoints = gateway.endpoints

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.endpoints.http_url, timeout=30)

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.factory.mint()}"}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("functions")
    markers = tmp_path_factory.mktemp("markers")
    for name, source in HANDLERS.items():
        (root / name).mkdir()
        (root / name / "__init__.py").write_text("")
        (root / name / "app.py").write_text(textwrap.dedent(source))
    key = SigningKey.generate()
    jwks = JwksServer([key]).start()
    factory = TokenFactory(issuer=ISSUER, client_id=CLIENT_ID, key=key)
    settings = GatewaySettings(
        code_root=root,
        cors=Cors(allow_origins=(APP_ORIGIN,)),
        http_throttle=Throttle(rate=1000, burst=1000),
        integration_timeout=3.0,
        async_retry_delays=(0.2,),
    )
    gateway = LocalGateway(
        parse_manifest(_manifest(markers)),
        {"chat_table_name": "local-chat", "bot_worker_function_name": "worker"},
        {
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "MARKER_DIR_UNUSED": "x",
        },
        settings,
        jwt=JwtConfig(ISSUER, (CLIENT_ID,), jwks.url),
    )
    loop = LoopThread()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARENT_SECRET", "must-not-leak")
        loop.run(gateway.start())
    running = Running(loop, gateway, factory)
    running.markers = markers  # type: ignore[attr-defined]
    yield running
    loop.run(gateway.stop())
    loop.close()
    jwks.stop()


# -- HTTP API ---------------------------------------------------------------------------------
def test_payload_format_2_event(emulator: Running) -> None:
    with emulator.http() as http:
        answer = http.get(
            "/items/a%20b?x=1&x=2&y=",
            headers={**emulator.bearer(), "X-Custom": "Yes", "Cookie": "c1=v1; c2=v2"},
        )
    assert answer.status_code == 200
    assert answer.headers["apigw-requestid"]
    data = answer.json()
    event = data["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/a%20b" or event["rawPath"] == "/items/a b"
    assert event["rawQueryString"] == "x=1&x=2&y="
    assert event["pathParameters"] == {"id": "a b"}
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-custom"] == "Yes"
    assert "cookie" not in event["headers"]
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["requestId"] == answer.headers["apigw-requestid"]
    assert context["http"]["method"] == "GET"
    claims = context["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == emulator.factory.sub
    assert claims["email_verified"] == "true"  # every claim value is a string
    assert isinstance(claims["exp"], str)
    assert data["function"] == "echo"
    assert 0 < data["remaining"] <= 20_000


def test_literal_route_beats_variable_and_greedy_paths(emulator: Running) -> None:
    with emulator.http() as http:
        special = http.get("/items/special", headers=emulator.bearer()).json()["event"]
        greedy = http.delete("/files/a/b/c.txt", headers=emulator.bearer()).json()["event"]
        missing = http.get("/nowhere")
        wrong_method = http.delete("/items/1", headers=emulator.bearer())
    assert special["routeKey"] == "GET /items/special"
    assert "pathParameters" not in special
    assert greedy["routeKey"] == "ANY /files/{path+}"
    assert greedy["pathParameters"] == {"path": "a/b/c.txt"}
    assert missing.status_code == 404
    assert missing.json() == {"message": "Not Found"}
    assert wrong_method.status_code == 404


def test_body_text_and_binary(emulator: Running) -> None:
    with emulator.http() as http:
        text = http.post("/items", json={"a": 1}, headers=emulator.bearer()).json()["event"]
        binary = http.post(
            "/items",
            content=bytes(range(256)),
            headers={**emulator.bearer(), "content-type": "application/octet-stream"},
        ).json()["event"]
    assert text["body"] == '{"a":1}' or json.loads(text["body"]) == {"a": 1}
    assert text["isBase64Encoded"] is False
    assert binary["isBase64Encoded"] is True
    import base64

    assert base64.b64decode(binary["body"]) == bytes(range(256))


def test_response_shapes(emulator: Running) -> None:
    with emulator.http() as http:
        raw = http.get("/raw")
        binary = http.get("/binary")
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/json"
    assert raw.json() == {"hello": "world"}
    assert binary.status_code == 201
    assert binary.content == bytes(range(256))
    assert binary.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]


def test_each_function_has_only_its_own_environment(emulator: Running) -> None:
    with emulator.http() as http:
        echo = http.get("/items/1", headers=emulator.bearer()).json()
        other = http.get("/other").json()
    assert (echo["mark"], echo["other"], echo["table"]) == ("echo", None, "local-chat")
    assert echo["leak"] is None  # the parent's environment does not reach functions
    assert other == {"mark": "other", "echo_mark": None, "echo_loaded": False}


def test_function_error_is_500_without_internals(emulator: Running) -> None:
    with emulator.http() as http:
        answer = http.get("/boom")
    assert answer.status_code == 500
    assert answer.json() == {"message": "Internal Server Error"}
    assert "secret" not in answer.text


def test_integration_timeout(emulator: Running) -> None:
    with emulator.http() as http:
        started = time.monotonic()
        answer = http.get("/slow")
        elapsed = time.monotonic() - started
        after = http.get("/public")
    assert answer.status_code == 503
    assert answer.json() == {"message": "Service Unavailable"}
    assert elapsed < 6
    assert after.status_code == 200


@pytest.mark.parametrize("attack", attacks_for("bearer"), ids=lambda a: a.name)
def test_jwt_authorizer_rejects_every_token_fault(emulator: Running, attack: Any) -> None:
    pool = emulator.gateway.runtime.pools["echo"]  # type: ignore[union-attr]
    before = pool.invocations
    with emulator.http() as http:
        headers = {k: v.strip() for k, v in attack.headers(emulator.factory, "bearer").items()}
        answer = http.get("/items/1", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}
    assert pool.invocations == before, "the function must not run for a rejected token"


def test_jwt_authorizer_accepts_access_tokens_and_no_bearer_prefix(emulator: Running) -> None:
    with emulator.http() as http:
        access = http.get(
            "/items/1", headers={"Authorization": f"Bearer {emulator.factory.mint('access')}"}
        )
        bare = http.get("/items/1", headers={"Authorization": emulator.factory.mint()})
        missing = http.get("/items/1")
    assert access.status_code == 200
    assert access.json()["event"]["requestContext"]["authorizer"]["jwt"]["scopes"] == [
        "aws.cognito.signin.user.admin"
    ]
    assert bare.status_code == 200
    assert missing.status_code == 401


def test_cors_for_the_app_origin_only(emulator: Running) -> None:
    preflight_headers = {
        "Origin": APP_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    with emulator.http() as http:
        preflight = http.options("/items", headers=preflight_headers)
        foreign = http.options(
            "/items", headers={**preflight_headers, "Origin": "https://evil.example"}
        )
        actual = http.get("/public", headers={"Origin": APP_ORIGIN})
        other = http.get("/public", headers={"Origin": "https://evil.example"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-origin" not in foreign.headers
    assert actual.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "access-control-allow-origin" not in other.headers


def test_stage_throttling_answers_429(emulator: Running) -> None:
    api = emulator.gateway.http
    assert api is not None
    saved = api.bucket
    from tasks.local.gateway.throttle import TokenBucket

    api.bucket = TokenBucket(rate=0.001, burst=3)
    try:
        with emulator.http() as http:
            statuses = [http.get("/nowhere").status_code for _ in range(6)]
    finally:
        api.bucket = saved
    assert statuses[:3] == [404, 404, 404]
    assert statuses[3:] == [429, 429, 429]


def test_access_log_line_per_request(emulator: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="parley.local.access")
    with emulator.http() as http:
        answer = http.get("/items/7", headers=emulator.bearer())
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "parley.local.access"]
    mine = [line for line in lines if line["requestId"] == answer.headers["apigw-requestid"]]
    assert len(mine) == 1
    assert mine[0]["routeKey"] == "GET /items/{id}"
    assert mine[0]["status"] == 200


# -- WebSocket API ----------------------------------------------------------------------------
def _ws(emulator: Running, token: str) -> Any:
    return connect(emulator.endpoints.ws_url, subprotocols=["parley", token], open_timeout=20)  # type: ignore[list-item]


def test_websocket_connect_route_and_post_back(emulator: Running) -> None:
    with _ws(emulator, "good-alice") as ws:
        assert ws.subprotocol == "parley"
        ws.send(json.dumps({"action": "echo", "n": 1}))
        frame = json.loads(ws.recv(timeout=20))
        assert frame["route"] == "echo"
        assert frame["user"] == "alice"
        assert frame["principal"] == "alice"
        assert frame["body"] == {"action": "echo", "n": 1}
        ws.send(json.dumps({"action": "nothing-like-this"}))
        assert json.loads(ws.recv(timeout=20))["route"] == "$default"
        ws.send("not json")
        default = ws.recv(timeout=20)
        assert json.loads(default)["route"] == "$default"


def test_websocket_fan_out_between_connections(emulator: Running) -> None:
    with _ws(emulator, "good-a") as a, _ws(emulator, "good-b") as b:
        a.send(json.dumps({"action": "echo", "to": []}))  # learn a's id through $default echo
        a_id = json.loads(a.recv(timeout=20))["connectionId"]
        b.send(json.dumps({"action": "echo", "to": [a_id]}))
        frame = json.loads(a.recv(timeout=20))
    assert frame["user"] == "b"


@pytest.mark.parametrize(
    ("protocols", "status"),
    [
        (["parley", "bad-token"], 401),
        (["parley", "deny-x"], 403),
        (["parley", "good-refused"], 403),
        (None, 401),
    ],
)
def test_websocket_connect_rejections(emulator: Running, protocols: Any, status: int) -> None:
    with pytest.raises(InvalidStatus) as rejected:
        connect(emulator.endpoints.ws_url, subprotocols=protocols, open_timeout=20)
    assert rejected.value.response.status_code == status


def test_websocket_authorizer_runs_on_every_connect(emulator: Running) -> None:
    """API Gateway caches no WebSocket authorizer result: a token revoked after one $connect is
    refused at the next."""
    markers: Path = emulator.markers  # type: ignore[attr-defined]
    pool = emulator.gateway.runtime.pools["wsauth"]  # type: ignore[union-attr]
    before = pool.invocations
    with _ws(emulator, "good-revoked-later") as ws:
        ws.send(json.dumps({"action": "echo"}))
        assert json.loads(ws.recv(timeout=20))["user"] == "revoked-later"
    (markers / "revoked-good-revoked-later").write_text("")
    with pytest.raises(InvalidStatus) as rejected:
        _ws(emulator, "good-revoked-later")
    assert rejected.value.response.status_code == 401
    assert pool.invocations == before + 2


def test_websocket_binary_frame_closes_the_connection_with_1003(emulator: Running) -> None:
    pool = emulator.gateway.runtime.pools["wsmessage"]  # type: ignore[union-attr]
    with _ws(emulator, "good-binary") as ws:
        ws.send(json.dumps({"action": "echo"}))
        connection_id = json.loads(ws.recv(timeout=20))["connectionId"]
        before = pool.invocations
        ws.send(json.dumps({"action": "echo"}).encode())  # bytes: a binary frame
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1003
    assert pool.invocations == before, "a binary frame reaches no route"
    assert _disconnect_code(emulator, connection_id) == 1003


def test_websocket_function_error_frame_and_frame_limit(emulator: Running) -> None:
    with _ws(emulator, "good-carol") as ws:
        ws.send(json.dumps({"action": "fail"}))
        frame = json.loads(ws.recv(timeout=20))
        assert frame["message"] == "Internal server error"
        assert frame["connectionId"]
        ws.send(json.dumps({"action": "echo", "pad": "x" * 33_000}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


def test_connections_management_api(emulator: Running) -> None:
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=emulator.endpoints.management_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="nobody=", Data=b"x")
    with _ws(emulator, "good-dave") as ws:
        ws.send(json.dumps({"action": "echo"}))
        connection_id = json.loads(ws.recv(timeout=20))["connectionId"]
        described = client.get_connection(ConnectionId=connection_id)
        assert described["Identity"]["SourceIp"] == "127.0.0.1"
        client.post_to_connection(ConnectionId=connection_id, Data=b'{"direct": true}')
        assert json.loads(ws.recv(timeout=20)) == {"direct": True}
        with pytest.raises(client.exceptions.PayloadTooLargeException):
            client.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))
        client.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=20)
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=connection_id, Data=b"x")
    assert _disconnect_code(emulator, connection_id) is not None, "$disconnect ran"


def _disconnect_code(emulator: Running, connection_id: str) -> int | None:
    marker = emulator.markers / f"gone-{connection_id}"  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return json.loads(marker.read_text())["code"] if marker.exists() else None


def test_websocket_idle_timeout_and_connection_lifetime(
    emulator: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = emulator.gateway.websocket
    assert api is not None
    assert (api.settings.ws_idle_timeout, api.settings.ws_max_duration) == (600.0, 7200.0)
    monkeypatch.setattr(
        api, "settings", replace(api.settings, ws_idle_timeout=1.0, ws_max_duration=3.0)
    )
    with _ws(emulator, "good-quiet") as quiet:
        started = time.monotonic()
        quiet.send(json.dumps({"action": "echo"}))
        quiet_id = json.loads(quiet.recv(timeout=20))["connectionId"]
        with pytest.raises(ConnectionClosed) as idle:
            quiet.recv(timeout=10)
        idle_after = time.monotonic() - started
    with _ws(emulator, "good-chatty") as chatty:
        started = time.monotonic()
        chatty_id, closed = "", None
        while closed is None and time.monotonic() - started < 10:
            try:
                chatty.send(json.dumps({"action": "echo"}))
                chatty_id = json.loads(chatty.recv(timeout=20))["connectionId"]
            except ConnectionClosed as exc:
                closed = exc
            time.sleep(0.3)
        lifetime_after = time.monotonic() - started
    assert idle.value.rcvd is not None
    assert (idle.value.rcvd.code, idle.value.rcvd.reason) == (1001, "Going away")
    assert 0.9 < idle_after < 2.5
    assert closed is not None
    assert closed.rcvd is not None
    assert closed.rcvd.code == 1001
    assert 2.9 < lifetime_after < 4.5  # busy past the idle limit, closed at the lifetime
    assert _disconnect_code(emulator, quiet_id) == 1001
    assert _disconnect_code(emulator, chatty_id) == 1001


# -- Lambda API -------------------------------------------------------------------------------
def _lambda(emulator: Running) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=emulator.endpoints.lambda_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def test_lambda_request_response_and_errors(emulator: Running) -> None:
    client = _lambda(emulator)
    ok = client.invoke(FunctionName="worker", Payload=json.dumps({"key": "sync"}).encode())
    assert ok["StatusCode"] == 200
    assert json.loads(ok["Payload"].read()) == {"attempts": 1}
    failed = client.invoke(
        FunctionName="arn:aws:lambda:us-east-1:000000000000:function:worker",
        Payload=json.dumps({"key": "sync-fail", "fail": 1}).encode(),
    )
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorMessage"] == "transient"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="nope", Payload=b"{}")


def test_async_invoke_from_a_handler_retries_per_manifest(emulator: Running) -> None:
    markers: Path = emulator.markers  # type: ignore[attr-defined]
    with _ws(emulator, "good-erin") as ws:
        ws.send(json.dumps({"action": "invoke", "key": "retry", "fail": 1}))
        json.loads(ws.recv(timeout=20))
    client = _lambda(emulator)
    accepted = client.invoke(
        FunctionName="worker",
        InvocationType="Event",
        Payload=json.dumps({"key": "never", "fail": 5}).encode(),
    )
    assert accepted["StatusCode"] == 202
    runtime = emulator.gateway.runtime
    assert runtime is not None
    emulator.loop.run(runtime.drain(timeout=20))
    assert (markers / "worker-retry").read_text() == "2"  # failed once, retried once
    assert (markers / "worker-never").read_text() == "2"  # max_retries: 1 → two attempts
    never = [o for o in runtime.outcomes if o.attempts == 2 and o.succeeded is False]
    assert never, "the exhausted event is recorded as failed"


def test_a_paused_function_holds_its_invocations_until_resumed(emulator: Running) -> None:
    """What the stack's tests use to act between a trigger and the function's run."""
    pool = emulator.gateway.runtime.pools["echo"]  # type: ignore[union-attr]
    before = pool.invocations
    emulator.loop.run(pool.pause())
    try:
        with emulator.http() as http, ThreadPoolExecutor(1) as pending:
            answer = pending.submit(http.get, "/public")
            time.sleep(1)
            assert not answer.done()
            assert pool.invocations == before
            emulator.loop.run(pool.resume())
            assert answer.result(timeout=20).status_code == 200
    finally:
        emulator.loop.run(pool.resume())
    assert pool.invocations == before + 1


# -- helpers ----------------------------------------------------------------------------------
def test_port_in_use_has_a_clear_message() -> None:
    taken = bind("127.0.0.1", 0, "first")
    try:
        with pytest.raises(PortInUse, match="already in use"):
            bind("127.0.0.1", taken.getsockname()[1], "HTTP API")
    finally:
        taken.close()


def test_sweeper_deletes_only_expired_connection_items(aws: Any) -> None:
    client = boto3.client("dynamodb", endpoint_url=aws.endpoint_url, region_name=aws.region)
    now = int(time.time())
    items = {"old": now - 10, "fresh": now + 600}
    for name, expires in items.items():
        client.put_item(
            TableName=aws.connections_table,
            Item={
                "pk": {"S": f"CONN#{name}"},
                "sk": {"S": "META"},
                "expires_at": {"N": str(expires)},
            },
        )
    client.put_item(
        TableName=aws.connections_table, Item={"pk": {"S": "CONV#x"}, "sk": {"S": "CONN#y"}}
    )
    assert sweep_once(client, aws.connections_table) == 1
    left = {i["pk"]["S"] for i in client.scan(TableName=aws.connections_table)["Items"]}
    assert left == {"CONN#fresh", "CONV#x"}


def test_loop_thread_runs_coroutines() -> None:
    loop = LoopThread()
    try:
        assert loop.run(asyncio.sleep(0, result=42)) == 42
    finally:
        loop.close()
