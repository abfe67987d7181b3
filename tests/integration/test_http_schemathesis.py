"""chat_api against its own OpenAPI document: what the document declares, and schemathesis.

The document must tell the truth about what reaches a client: the gateway's own 401, and the
real constraints of the values the server refuses (`cursor`, the invite `email`). Then
schemathesis 4 (`st run`) fuzzes the document served by `GET /openapi.json` through the local
gateway (moto, the JWT authorizer, the Lambda runtime, the scripted model) with its coverage,
fuzzing and stateful phases and every check, as two users who must not see each other's
conversations. Deliberate exclusions are in `SCHEMATHESIS_TOML`, each with its reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs  # schemathesis' own validator: JSON Schema's regex dialect, as it checks
import pytest

from tasks.core.manifest import load_manifest
from tasks.local.stack import LocalStack, StackConfig
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser, create_user

GATEWAY_401 = {"message": "Unauthorized"}
"""What API Gateway's JWT authorizer answers, without calling the function."""


@pytest.fixture
def api(parley_env: dict[str, str]) -> Callable[..., ApiResponse]:
    from chat_api.app import handler

    def request(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
        return call(handler, method, path, headers=user.bearer(), **kwargs)

    return request


@pytest.fixture
def document(api: Callable[..., ApiResponse], user: TestUser) -> dict[str, Any]:
    answer = api("GET", "/openapi.json", user)
    assert answer.status == 200
    return dict(answer.json)


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A JSON Schema validator for a fragment of the document (its `$ref`s resolve)."""
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def response_schema(document: dict[str, Any], route: str, status: int) -> dict[str, Any]:
    method, path = route.split(" ")
    response = document["paths"][path][method.lower()]["responses"][str(status)]
    return dict(response["content"]["application/json"]["schema"])


def parameter_schema(document: dict[str, Any], route: str, name: str) -> dict[str, Any]:
    method, path = route.split(" ")
    parameters = document["paths"][path][method.lower()]["parameters"]
    return next(dict(p["schema"]) for p in parameters if p["name"] == name)


# -- what the document declares ---------------------------------------------------------------
def test_every_route_behind_the_authorizer_declares_the_gateways_401(
    document: dict[str, Any],
) -> None:
    own_401 = {"error": {"code": "unauthorized", "message": "Token expired", "requestId": "r"}}
    routes = [(f"{r.method} {r.path}", r.auth, f.name) for r, f in load_manifest().http_routes()]
    assert len([route for route, auth, _ in routes if auth == "jwt"]) >= 12
    from admin_api.app import openapi_json as admin_openapi

    documents = {"chat_api": document, "admin_api": json.loads(admin_openapi())}
    for route, auth, function in routes:
        if function not in documents:
            continue  # another function's document: its own tests
        own = documents[function]
        check = validator(own, response_schema(own, route, 401))
        if auth == "jwt":
            assert check.is_valid(GATEWAY_401), route
            assert check.is_valid(own_401), route  # the function still checks the token itself
        else:  # no authorizer: the route answers its own 401, in its own shape
            assert not check.is_valid(GATEWAY_401), route


def test_the_document_allows_the_cursors_the_server_issues_and_no_malformed_one(
    api: Callable[..., ApiResponse], user: TestUser, document: dict[str, Any]
) -> None:
    group = api("POST", "/conversations", user, body={"kind": "group"}).json["id"]
    for _ in range(2):
        api("POST", "/conversations", user, body={})
        api("POST", f"/conversations/{group}/messages", user, body={"content": "hi"})
    paths = {
        "GET /conversations": "/conversations",
        "GET /conversations/{id}/messages": f"/conversations/{group}/messages",
    }
    issued = {
        route: api("GET", path, user, query={"limit": "1"}).json["nextCursor"]
        for route, path in paths.items()
    }
    for route, path in paths.items():
        check = validator(document, parameter_schema(document, route, "cursor"))
        assert issued[route], route
        assert check.is_valid(issued[route]), route
        assert api("GET", path, user, query={"cursor": issued[route]}).status == 200
        for malformed in ("garbage!", "a b", "é", "x=", "x" * 2049):
            assert not check.is_valid(malformed), (route, malformed)
            assert api("GET", path, user, query={"cursor": malformed}).status in (400, 422)
        # A cursor is opaque: one of the declared shape that the server did not issue for this
        # listing is refused too (the reason for the exclusion in SCHEMATHESIS_TOML).
        (other,) = (cursor for other_route, cursor in issued.items() if other_route != route)
        assert check.is_valid(other)
        refused = api("GET", path, user, query={"cursor": other})
        assert (refused.status, refused.json["error"]["message"]) == (400, "Invalid cursor")


@pytest.mark.parametrize(
    "email",
    [
        "a@b.co",
        "é@exämple.org",
        "x" * 64 + "@b.co",
        "a@" + "b" * 248 + ".co",
        " a@b.co",
        "a@b.co ",
        "a@b.co\n",
        "a\tb@c.co",
        "a\x85@b.co",
        "a\u00a0@b.co",
        "a\ufeff@b.co",
        "a\u3000@b.co",
        "\x00@b.co",
        "x" * 65 + "@b.co",
        "a@" + "b" * 250 + ".co",
        "a@b",
        "a@@b.co",
        "@b.co",
    ],
)
def test_the_invite_email_the_document_allows_is_the_one_the_server_accepts(
    api: Callable[..., ApiResponse], user: TestUser, document: dict[str, Any], email: str
) -> None:
    group = api("POST", "/conversations", user, body={"kind": "group"}).json["id"]
    body_schema = document["components"]["schemas"]["AddMember"]
    answer = api("POST", f"/conversations/{group}/members", user, body={"email": email})
    assert answer.status < 500, answer.text
    refused = answer.status == 422
    assert validator(document, body_schema).is_valid({"email": email}) == (not refused)


# -- schemathesis through the local gateway ----------------------------------------------------
MAX_EXAMPLES = 25
"""Per operation and phase: ~760 test cases in 55-80 s on two cores (~90 s with the stack)."""
MIN_CASES = 500
SEED = 20261127
SCHEMATHESIS_TOML = """
seed = {seed}
workers = 2
# API Gateway's own limit on an HTTP API integration; schemathesis' default (10 s) is shorter than
# a message's pipeline takes on a machine busy with the whole suite.
request-timeout = 30

[generation]
database = "none"

# Every check runs (each is enabled unless named here), except:
[checks.unsupported_method]
# An HTTP API answers 404 {{"message": "Not Found"}} to a method no route declares (no route
# key matches); neither the gateway nor the function can answer 405 there.
enabled = false

[[operations]]
include-name = ["GET /conversations", "GET /conversations/{{id}}/messages"]
# `cursor` is opaque: the document states its alphabet and length, but only a cursor the server
# issued for the same listing decodes, so a generated one of the right shape gets 400 "Invalid
# cursor". Every other rejection of positive data still fails the run.
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx",
]

[[operations]]
include-name = ["POST /conversations/{{id}}/messages", "POST /chat"]
# The document states the hard ceiling of a message (32,000 characters); the deployment's own
# limit is lower where the model's context window is smaller (GET /me `limits.messageChars`), and a
# longer message is a 422 validation_error before any model call.
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx",
]

[[operations]]
include-name = ["GET /me/usage", "GET /search"]
# Rules across fields or words a schema cannot state: a usage range of at most 366 days with
# `from` ≤ `to`; a query that is not blank or made only of common words. Each is a clear 400.
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx",
]

[[operations]]
include-name = ["PATCH /conversations/{{id}}"]
# The models are the environment's catalog (GET /models), which the document cannot list: a
# well-formed id the catalog does not have is a 400, one the caller may not use a 403.
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx",
]

[[operations]]
include-name = ["POST /conversations", "POST /assistants", "PATCH /assistants/{{id}}"]
# The catalog as above; and rules across fields a schema cannot state, each a clear 422: a room
# starts without an assistant (it adds them), and a change names at least one field.
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx",
]

[[operations]]
include-name = "POST /conversations/{{id}}/uploads"
# The allow-list of file types and the per-kind size limits are the environment's (tfvars): a
# type off the list is a 422, a file over its kind's limit a 413.
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "413", "422", "429", "5xx",
]

# Test data, so that fuzzing reaches past "not found": the other user's e-mail to invite, the
# users' ids to remove, and conversations of the first user, the groups with the other user in
# them (not for DELETE /conversations/{{id}}, which would take them from every other operation).
[dictionaries.emails]
values = [{email}]
[dictionaries.users]
values = {user_ids}
[dictionaries.conversations]
values = {conversations}

[parameters]
"path.userId" = {{ dictionary = "users", probability = 0.5 }}

[[operations]]
include-name = "POST /conversations/{{id}}/members"
# A 404 here also answers an e-mail no user has; ensure_resource_availability takes any 404
# after POST /conversations for the new conversation gone. Every other operation keeps it.
checks.ensure_resource_availability.enabled = false
[operations.parameters]
"path.id" = {{ dictionary = "conversations", probability = 0.5 }}
"body.email" = {{ dictionary = "emails", probability = 0.5 }}

[[operations]]
exclude-name = "DELETE /conversations/{{id}}"
[operations.parameters]
"path.id" = {{ dictionary = "conversations", probability = 0.5 }}

# Two users: object_level_authorization replays one's reads as the other.
[auth.wfc]
path = {auth_file}
user = "owner"
peers = ["owner", "stranger"]

[reports.json]
enabled = true
path = {report}
"""


def write_run_files(
    where: Path,
    document: dict[str, Any],
    owner: TestUser,
    stranger: TestUser,
    conversations: list[str],
) -> Path:
    """The document, the two users' credentials (a WFC auth file) and the run's config."""
    (where / "openapi.json").write_text(json.dumps(document))
    auth = {
        "auth": [
            {"name": name, "fixedHeaders": [{"name": "Authorization", "value": value}]}
            for name, value in (
                ("owner", owner.bearer()["Authorization"]),
                ("stranger", stranger.bearer()["Authorization"]),
            )
        ]
    }
    (where / "auth.json").write_text(json.dumps(auth))
    config = where / "schemathesis.toml"
    config.write_text(
        SCHEMATHESIS_TOML.format(
            seed=SEED,
            email=json.dumps(stranger.email),
            user_ids=json.dumps([stranger.sub, owner.sub]),
            conversations=json.dumps(conversations),
            auth_file=json.dumps(str(where / "auth.json")),
            report=json.dumps(str(where / "report.json")),
        )
    )
    return config


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = StackConfig(
        model="scripted", log_dir=tmp_path_factory.mktemp("logs"), scripted_token_delay=0.0
    )
    with LocalStack(config) as running:
        yield running


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_schemathesis_finds_nothing_through_the_local_gateway(
    stack: LocalStack, tmp_path: Path
) -> None:
    url = stack.info["httpApiUrl"]
    owner, stranger = (
        create_user(stack.resources, f"{who}-{uuid.uuid4().hex[:8]}@example.com")
        for who in ("owner", "stranger")
    )
    with httpx.Client(base_url=url, timeout=30) as client:
        # GIVEN the document the gateway serves, and what the gateway answers without a token.
        document = client.get("/openapi.json", headers=owner.bearer()).json()
        refused = client.get("/me")
        assert (refused.status_code, refused.json()) == (401, GATEWAY_401)
        assert validator(document, response_schema(document, "GET /me", 401)).is_valid(
            refused.json()
        )
        for user in (owner, stranger):  # profiles, so that the stranger can be invited
            assert client.get("/me", headers=user.bearer()).status_code == 200
        conversations = [
            client.post("/conversations", headers=owner.bearer(), json={"kind": kind}).json()["id"]
            for kind in ("group", "group", "assistant")
        ]
        for group in conversations[:2]:  # members to remove before any invite is generated
            invite = {"email": stranger.email}
            added = client.post(
                f"/conversations/{group}/members", headers=owner.bearer(), json=invite
            )
            assert added.status_code == 201, added.text
    config = write_run_files(tmp_path, document, owner, stranger, conversations)
    report = tmp_path / "report.json"

    # WHEN schemathesis runs every phase against it
    started = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            str(tmp_path / "openapi.json"),
            "--url",
            url,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=780,  # ~80 s alone; a machine running the whole suite beside it is far slower
        check=False,
    )
    seconds = time.monotonic() - started

    # THEN it finds nothing, after enough cases in every phase
    (tmp_path / "schemathesis.log").write_text(run.stdout + run.stderr)
    output = f"{tmp_path / 'schemathesis.log'}:\n{run.stdout[-6000:]}{run.stderr[-2000:]}"
    assert run.returncode == 0, output
    result = json.loads(report.read_text())
    cases = result["test_cases"]
    assert (result["failures"], result["errors"], cases["errored"]) == ([], [], 0), output
    assert cases["generated"] >= MIN_CASES, cases
    for phase in ("coverage", "fuzzing", "stateful"):  # the document has no examples
        assert result["phases"][phase]["status"] == "success", (phase, result["phases"])
    assert result["operations"]["tested"] == result["operations"]["total"] >= 13
    # Not asserted (it depends on the order cases run in): operations that mostly met 404.
    rarely_found = result["warnings"]["missing_test_data"]
    print(
        f"schemathesis: {cases['generated']} cases in {seconds:.0f} s; mostly 404: {rarely_found}"
    )
