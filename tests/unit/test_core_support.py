"""The shared test support works with real parts: moto server, Cognito tokens, scripted model."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import boto3
import httpx
import jwt
import pytest

from tasks.local.bootstrap import LocalResources, load_tables
from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.cognito import TestUser
from tests.support.events import http_event, load_event


def test_bootstrap_builds_tables_from_tables_yaml(aws: LocalResources) -> None:
    dynamodb = boto3.client("dynamodb")
    for logical, spec in load_tables().items():
        table = dynamodb.describe_table(TableName=aws.table_names[logical])["Table"]
        keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
        assert keys == {spec["hash_key"]: "HASH", spec["range_key"]: "RANGE"}
        indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
        assert indexes == set(spec["global_secondary_indexes"])
        ttl = dynamodb.describe_time_to_live(TableName=aws.table_names[logical])
        if spec["ttl_attribute"]:
            assert ttl["TimeToLiveDescription"]["AttributeName"] == spec["ttl_attribute"]
            assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"


def test_bootstrap_user_pool_and_parameter(aws: LocalResources) -> None:
    cognito = boto3.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=aws.user_pool_id)["UserPool"]
    assert pool["UsernameAttributes"] == ["email"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert all(
        policy[f]
        for f in ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols")
    )
    client = cognito.describe_user_pool_client(UserPoolId=aws.user_pool_id, ClientId=aws.client_id)[
        "UserPoolClient"
    ]
    assert "ClientSecret" not in client
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    value = boto3.client("ssm").get_parameter(
        Name=aws.model_api_key_parameter, WithDecryption=True
    )["Parameter"]
    assert value["Type"] == "SecureString"
    assert value["Value"]


def test_moto_tokens_verify_against_the_local_jwks(aws: LocalResources, user: TestUser) -> None:
    keys = jwt.PyJWKClient(aws.jwks_url)
    key = keys.get_signing_key_from_jwt(user.id_token)
    claims = jwt.decode(
        user.id_token, key.key, algorithms=["RS256"], audience=aws.client_id, issuer=aws.issuer
    )
    assert claims["sub"] == user.sub
    assert claims["email"] == user.email
    assert claims["token_use"] == "id"
    access = jwt.decode(
        user.access_token,
        key.key,
        algorithms=["RS256"],
        issuer=aws.issuer,
        options={"verify_aud": False},
    )
    assert access["client_id"] == aws.client_id
    assert access["token_use"] == "access"


def test_scripted_model_streams_with_usage(scripted_model: ScriptedModel) -> None:
    from openai import OpenAI

    scripted_model.enqueue(Reply(text="one two three"))
    client = OpenAI(base_url=scripted_model.base_url, api_key="k", max_retries=0)
    stream = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "hi there"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage
    assert text == "one two three"
    assert usage is not None
    assert usage.completion_tokens == 3
    recorded = scripted_model.completions()
    assert len(recorded) == 1
    assert recorded[0].body is not None
    assert recorded[0].body["messages"] == [{"role": "user", "content": "hi there"}]
    assert recorded[0].headers["authorization"] == "Bearer k"


def test_scripted_model_non_streaming_and_faults(scripted_model: ScriptedModel) -> None:
    from openai import APIStatusError, OpenAI

    client = OpenAI(base_url=scripted_model.base_url, api_key="k", max_retries=0)
    scripted_model.enqueue(Reply(status=429, retry_after=3), Reply(status=500), Reply(text="ok"))
    with pytest.raises(APIStatusError) as limited:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert limited.value.status_code == 429
    assert limited.value.response.headers["retry-after"] == "3"
    with pytest.raises(APIStatusError) as failed:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert failed.value.status_code == 500
    answer = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert answer.choices[0].message.content == "ok"
    assert answer.usage is not None
    assert answer.usage.completion_tokens == 1


def test_scripted_model_hang_times_out_and_broken_stream(scripted_model: ScriptedModel) -> None:
    from openai import APIConnectionError, APITimeoutError, OpenAI

    client = OpenAI(base_url=scripted_model.base_url, api_key="k", max_retries=0, timeout=0.5)
    scripted_model.enqueue(Reply(hang=5))
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert time.monotonic() - started < 3

    scripted_model.enqueue(Reply(text="a b c d e f", break_after=2))
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    )
    got = []
    with pytest.raises((APIConnectionError, httpx.HTTPError)):  # noqa: PT012 - stream is lazy
        for chunk in stream:
            got.append(chunk)
        # The SDK may end quietly on a closed socket: a stream without finish_reason is broken.
        if not any(c.choices and c.choices[0].finish_reason for c in got):
            raise httpx.RemoteProtocolError("stream ended without a finish")
    assert len([c for c in got if c.choices and c.choices[0].delta.content]) == 2


def test_scripted_model_endless_stream_stops_when_client_leaves(
    scripted_model: ScriptedModel,
) -> None:
    scripted_model.enqueue(Reply(text="tick", endless=True, token_delay=0.01))
    body = json.dumps(
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "go"}]}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{scripted_model.base_url}/chat/completions",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
        lines = [response.readline() for _ in range(40)]
        response.fp.raw._sock.shutdown(socket.SHUT_RDWR)  # leave mid-stream
    assert sum(1 for line in lines if b"tick" in line) >= 15
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not scripted_model.completions()[-1].disconnected:
        time.sleep(0.05)
    assert scripted_model.completions()[-1].disconnected


def test_models_endpoint(scripted_model: ScriptedModel) -> None:
    with urllib.request.urlopen(f"{scripted_model.base_url}/models", timeout=5) as response:  # noqa: S310
        assert json.loads(response.read())["data"][0]["id"] == "scripted-model"


def test_http_event_shape() -> None:
    event = http_event(
        "POST",
        "/conversations/abc/messages",
        route="POST /conversations/{id}/messages",
        body={"content": "hi"},
        path_parameters={"id": "abc"},
        claims={"sub": "u1", "email": "a@b.c"},
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /conversations/{id}/messages"
    assert json.loads(event["body"]) == {"content": "hi"}
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "u1"
    assert event["pathParameters"] == {"id": "abc"}
    assert load_event("cognito_post_confirmation")["triggerSource"].startswith("PostConfirmation")
