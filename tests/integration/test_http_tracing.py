"""Tracing never carries a response body or an exception; the request paths start without it.

Every traced function is wrapped by `parley.observability.lambda_handler`. Here that wrapper,
with tracing on, runs the HTTP API's routes (the bodies with the most to leak: prompts, replies,
e-mail addresses) in-process against moto with the manifest's own environment for the tracer,
and Powertools' Tracer is given a recording provider in place of the X-Ray recorder, so the test
sees exactly what would be sent to X-Ray as subsegment metadata. chat_api itself, and ws_message
(the realtime path), are deployed with `trace=False` (Lambda's active tracing records their
segments; the SDK stays out of their cold starts), which the last tests hold them to.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from tasks.core.manifest import load_manifest
from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser
from tests.support.imports import handler_imports

PROMPT = "my passport number is X1234567, plan the trip"
REPLY = "Here is your confidential itinerary"


class RecordingSegment(BaseSegment):
    """A subsegment that keeps what the tracer puts on it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.metadata: dict[str, Any] = {}
        self.annotations: dict[str, Any] = {}

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata[f"{namespace}/{key}"] = value

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class RecordingProvider(BaseProvider):
    """Stands in for the X-Ray recorder: every subsegment opened, nothing sent anywhere."""

    def __init__(self) -> None:
        self.segments: list[RecordingSegment] = []

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        segment = RecordingSegment(str(name))
        self.segments.append(segment)
        yield segment

    def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        raise NotImplementedError("chat_api traces no coroutine")

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Any) -> None:
        pass

    def patch_all(self) -> None:
        pass

    def recorded(self) -> str:
        """Every metadata value recorded so far, as the X-Ray SDK would serialise it."""
        return json.dumps([s.metadata for s in self.segments], default=repr)


@pytest.fixture
def traced(
    parley_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, RecordingProvider]]:
    """chat_api imported afresh (a cold start), tracing on, with the manifest's tracer settings."""
    for key, value in load_manifest().functions["chat_api"].environment.items():
        if key.startswith("POWERTOOLS_TRACER_"):
            assert isinstance(value, str), key
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")  # Powertools traces only inside Lambda
    provider = RecordingProvider()
    Tracer._reset_config()
    Tracer(provider=provider, auto_patch=False)  # the module's Tracer() shares this config
    saved = sys.modules.pop("chat_api.app", None)
    try:
        module = importlib.import_module("chat_api.app")
        from parley.observability import tracer

        assert tracer().disabled is False, "tracing is off: the test would prove nothing"
        yield module, provider
    finally:
        Tracer._reset_config()
        sys.modules.pop("chat_api.app", None)
        if saved is not None:
            sys.modules["chat_api.app"] = saved


@pytest.fixture
def api(traced: tuple[Any, RecordingProvider]) -> Callable[..., ApiResponse]:
    """The HTTP API's routes behind the wrapper every traced function has, tracing on."""
    module, _ = traced
    from aws_lambda_powertools.logging import correlation_paths

    from parley.observability import lambda_handler

    @lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, trace=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return module.app.resolve(event, context)  # type: ignore[no-any-return]

    def request(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
        return call(handler, method, path, headers=user.bearer(), **kwargs)

    return request


def test_no_response_body_reaches_the_trace(
    traced: tuple[Any, RecordingProvider],
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
) -> None:
    _, provider = traced
    cid = api("POST", "/conversations", user, body={"title": "Trip"}).json["id"]
    scripted_model.enqueue(Reply(text=REPLY))
    sent = api("POST", f"/conversations/{cid}/messages", user, body={"content": PROMPT})
    assert sent.status == 201, sent.text
    me = api("GET", "/me", user)
    members = api("GET", f"/conversations/{cid}/members", user)
    # The bodies carry the prompt, the reply and the e-mail…
    assert PROMPT in sent.text
    assert REPLY in sent.text
    assert user.email in me.text
    assert user.email in members.text
    # …each call was traced (a handler subsegment with its annotations)…
    handlers = [s for s in provider.segments if s.name == "## handler"]
    assert len(handlers) == 4, [s.name for s in provider.segments]
    assert all(s.annotations.get("Service") == "chat_api" for s in handlers)
    # …and none of it is trace metadata.
    recorded = provider.recorded()
    for secret in (PROMPT, REPLY, user.email, cid):
        assert secret not in recorded, f"{secret!r} reached the trace: {recorded[:500]}"
    assert not any(key.endswith(" response") for s in provider.segments for key in s.metadata)


def test_no_exception_reaches_the_trace_metadata(
    traced: tuple[Any, RecordingProvider],
    api: Callable[..., ApiResponse],
    user: TestUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module, provider = traced

    def fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError(f"store failed for {user.email}")

    monkeypatch.setattr(module.app, "resolve", fail)
    with pytest.raises(RuntimeError, match="store failed"):
        api("GET", "/me", user)
    assert [s.name for s in provider.segments] == ["## handler"]
    assert user.email not in provider.recorded()
    assert not any(key.endswith(" error") for s in provider.segments for key in s.metadata)


@pytest.mark.parametrize("function", ["chat_api", "ws_message"])
def test_the_request_paths_start_without_the_tracing_sdk(function: str) -> None:
    # a fresh interpreter imports the handler as a cold start does, tracing enabled
    assert handler_imports(function, ("aws_xray_sdk",)) == []


def test_a_traced_function_is_seen_loading_the_sdk() -> None:
    # the same probe where the handler asks for the tracer: it must find the SDK there
    assert handler_imports("maintenance", ("aws_xray_sdk",)) == ["aws_xray_sdk"]
