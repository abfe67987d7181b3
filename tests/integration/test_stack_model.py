"""The stack with the real local model (llama.cpp + SmolLM2-135M): a streamed answer arrives.

Skipped when the model is not built (`python -m tasks.local.model install` or `invoke dev`
builds it once, minutes on two cores); CI without it still runs everything else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import httpx
import pytest
from websockets.sync.client import connect

from tasks.local import model as local_model
from tasks.local.bootstrap import FAKE_CREDENTIALS
from tasks.local.stack import DEMO_EMAIL, DEMO_PASSWORD, LocalStack, StackConfig

pytestmark = [
    pytest.mark.slow,
    pytest.mark.model,
    pytest.mark.skipif(
        not local_model.installed(),
        reason="the local model is not built: run `python -m tasks.local.model install`",
    ),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(StackConfig(model="local", log_dir=tmp_path_factory.mktemp("logs"))) as s:
        yield s


def test_the_local_model_streams_an_answer(stack: LocalStack) -> None:
    info = stack.info
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=info["cognitoEndpoint"],
        region_name=info["region"],
        **FAKE_CREDENTIALS,
    )
    token = cognito.initiate_auth(
        ClientId=info["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": DEMO_EMAIL, "PASSWORD": DEMO_PASSWORD},
    )["AuthenticationResult"]["IdToken"]
    api = httpx.Client(base_url=info["httpApiUrl"], timeout=120)
    headers = {"Authorization": f"Bearer {token}"}
    cid = api.post("/conversations", json={"title": "Local"}, headers=headers).json()["id"]
    with connect(info["wsUrl"], subprotocols=["parley", token], open_timeout=60) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"action": "subscribe", "conversationId": cid}))
        started = time.monotonic()
        ws.send(
            json.dumps(
                {
                    "action": "sendMessage",
                    "conversationId": cid,
                    "clientMessageId": "local-1",
                    "content": "Say hello in one sentence.",
                }
            )
        )
        first_delta = None
        while True:
            frame = json.loads(ws.recv(timeout=120))
            if frame.get("type") == "message.delta" and first_delta is None:
                first_delta = time.monotonic() - started
            if frame.get("type") == "message.failed":
                pytest.fail(f"the local model failed: {frame}")
            if frame.get("type") == "message.completed" and frame["message"]["role"] == "assistant":
                break
    reply = frame["message"]
    assert reply["status"] == "complete"
    assert reply["content"].strip()
    assert reply["usage"]["outputTokens"] > 0
    assert first_delta is not None
    print(f"time to first delta {first_delta:.2f} s, answer {time.monotonic() - started:.2f} s")
    # The local catalog (tasks/local/models.yaml): both llama.cpp models, SmolLM2 the default.
    assert reply["model"] == "smollm2-135m"
    listed = api.get("/models", headers=headers).json()
    assert [m["id"] for m in listed["items"]] == ["smollm2-135m", "gemma-3-270m"]
    assert listed["default"] == "smollm2-135m"


def test_a_conversation_with_the_other_local_model_is_answered_by_it(stack: LocalStack) -> None:
    info = stack.info
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=info["cognitoEndpoint"],
        region_name=info["region"],
        **FAKE_CREDENTIALS,
    )
    token = cognito.initiate_auth(
        ClientId=info["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": DEMO_EMAIL, "PASSWORD": DEMO_PASSWORD},
    )["AuthenticationResult"]["IdToken"]
    api = httpx.Client(base_url=info["httpApiUrl"], timeout=120)
    headers = {"Authorization": f"Bearer {token}"}
    created = api.post("/conversations", json={"model": "gemma-3-270m"}, headers=headers)
    assert created.status_code == 201, created.text
    sent = api.post(
        f"/conversations/{created.json()['id']}/messages",
        json={"content": "The capital of France is"},
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    reply = sent.json()["reply"]
    assert reply["model"] == "gemma-3-270m"  # llama.cpp loaded the model the request named
    assert reply["usage"]["outputTokens"] > 0
    assert reply["costUsd"] == 0  # a local model costs nothing
