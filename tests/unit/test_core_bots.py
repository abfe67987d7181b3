"""Model providers: the OpenAI-compatible one against the scripted server, history budgeting,
the model key from moto's SSM."""

from __future__ import annotations

import hashlib
import re
import time

import boto3
import pytest
from botocore.stub import Stubber

from parley.bots import (
    ChatTurn,
    ContextTooLong,
    Delta,
    Done,
    ProviderError,
    get_provider,
    trim_history,
)
from parley.bots.bedrock import (
    BedrockAgentProvider,
    agent_input,
    converse_events,
    converse_messages,
)
from parley.bots.secrets import ssm_secret
from parley.config import ModelSettings, get_settings
from parley.errors import ServiceUnavailable
from parley.models import Usage
from tasks.local.bootstrap import DEFAULT_MODEL_KEY, LocalResources
from tasks.local.scripted_model import Reply, ScriptedModel
from tests.support.environment import clear_parley_caches

TURNS = [ChatTurn(role="system", content="be brief"), ChatTurn(role="user", content="hello")]


@pytest.fixture
def provider(parley_env: dict[str, str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MODEL_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("MODEL_MAX_RETRIES", "1")
    return get_provider(get_settings(ModelSettings))


def test_stream_yields_deltas_then_usage(provider, scripted_model: ScriptedModel) -> None:  # type: ignore[no-untyped-def]
    scripted_model.enqueue(Reply(text="Hi there friend"))
    events = list(provider.stream(TURNS))
    assert [e.text for e in events if isinstance(e, Delta)] == ["Hi", " there", " friend"]
    done = events[-1]
    assert isinstance(done, Done)
    assert done.usage.output_tokens == 3
    assert done.usage.input_tokens > 0
    assert done.stop_reason == "stop"
    request = scripted_model.completions()[0]
    assert request.headers["authorization"] == f"Bearer {DEFAULT_MODEL_KEY}"  # from SSM
    assert request.body is not None
    assert request.body["model"] == "scripted-model"
    assert request.body["messages"][0] == {"role": "system", "content": "be brief"}


def test_complete_returns_text_and_usage(provider, scripted_model: ScriptedModel) -> None:  # type: ignore[no-untyped-def]
    scripted_model.enqueue(Reply(text="Plain answer", prompt_tokens=11))
    assert provider.complete(TURNS) == ("Plain answer", Usage(input_tokens=11, output_tokens=2))


def test_429_is_retried_within_the_bound(provider, scripted_model: ScriptedModel) -> None:  # type: ignore[no-untyped-def]
    scripted_model.enqueue(Reply(status=429, retry_after=1), Reply(text="after retry"))
    text, _ = provider.complete(TURNS)
    assert text == "after retry"
    assert len(scripted_model.completions()) == 2


@pytest.mark.parametrize(
    ("reply", "retryable", "unavailable"),
    [
        (Reply(status=429), True, True),
        (Reply(status=500), True, False),
        (Reply(status=400), False, False),
        (Reply(hang=3), True, True),
    ],
    ids=["429", "500", "400", "timeout"],
)
def test_faults_become_provider_errors(  # type: ignore[no-untyped-def]
    provider, scripted_model: ScriptedModel, reply: Reply, retryable: bool, unavailable: bool
) -> None:
    scripted_model.reset(default=reply)
    with pytest.raises(ProviderError) as fault:
        list(provider.stream(TURNS))
    assert (fault.value.retryable, fault.value.unavailable) == (retryable, unavailable)
    attempts = 1 if reply.status == 400 else 2  # bounded: one retry configured
    assert len(scripted_model.completions()) == attempts


def test_broken_stream_is_a_retryable_error(provider, scripted_model: ScriptedModel) -> None:  # type: ignore[no-untyped-def]
    scripted_model.enqueue(Reply(text="a b c d e", break_after=2))
    got: list[str] = []
    with pytest.raises(ProviderError, match="cut off") as fault:  # noqa: PT012
        for event in provider.stream(TURNS):
            if isinstance(event, Delta):
                got.append(event.text)
    assert fault.value.retryable
    assert got == ["a", " b"]


def test_closing_the_stream_cancels_the_http_request(  # type: ignore[no-untyped-def]
    provider, scripted_model: ScriptedModel
) -> None:
    scripted_model.enqueue(Reply(text="tick", endless=True, token_delay=0.01))
    stream = provider.stream(TURNS)
    for n, _ in enumerate(stream):
        if n == 5:
            break
    stream.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not scripted_model.completions()[-1].disconnected:
        time.sleep(0.05)
    assert scripted_model.completions()[-1].disconnected


def test_trim_history_keeps_system_and_latest_turns() -> None:
    turns = [ChatTurn(role="system", content="sys")] + [
        ChatTurn(role="user" if i % 2 == 0 else "assistant", content=f"turn {i} " + "x" * 40)
        for i in range(20)
    ]
    trimmed = trim_history(turns, budget=60)
    assert trimmed[0].role == "system"
    assert trimmed[-1] == turns[-1] if turns[-1].role == "user" else True
    assert trimmed[1].role == "user"
    assert len(trimmed) < len(turns)
    huge = [ChatTurn(role="user", content="y" * 10_000)]
    with pytest.raises(ContextTooLong):  # the question is never cut (test_budget_branches)
        trim_history(huge, budget=100)


def test_bedrock_shapes() -> None:
    system, messages = converse_messages(
        [*TURNS, ChatTurn(role="user", content="again"), ChatTurn(role="assistant", content="ok")]
    )
    assert system == [{"text": "be brief"}]
    assert messages[0] == {"role": "user", "content": [{"text": "hello"}, {"text": "again"}]}
    events = list(
        converse_events(
            [
                {"messageStart": {"role": "assistant"}},
                {"contentBlockDelta": {"delta": {"text": "Hel"}}},
                {"contentBlockDelta": {"delta": {"text": "lo"}}},
                {"messageStop": {"stopReason": "max_tokens"}},
                {"metadata": {"usage": {"inputTokens": 5, "outputTokens": 2}}},
            ]
        )
    )
    assert events == [
        Delta(text="Hel"),
        Delta(text="lo"),
        Done(usage=Usage(input_tokens=5, output_tokens=2), stop_reason="max_tokens"),
    ]
    with pytest.raises(ProviderError):
        list(converse_events([{"throttlingException": {}}, {"ModelStreamErrorException": {}}]))
    assert agent_input(TURNS) == "hello"


def rotate_model_key(aws: LocalResources, value: str) -> None:
    ssm = boto3.client("ssm", region_name=aws.region)
    ssm.put_parameter(
        Name=aws.model_api_key_parameter, Value=value, Type="SecureString", Overwrite=True
    )


def test_the_model_key_is_read_decrypted_and_kept_for_its_max_age(
    parley_env: dict[str, str], aws: LocalResources
) -> None:
    name = aws.model_api_key_parameter
    assert ssm_secret(name, aws.region) == DEFAULT_MODEL_KEY
    rotate_model_key(aws, "rotated-key")
    assert ssm_secret(name, aws.region) == DEFAULT_MODEL_KEY  # within max_age: no second read
    clear_parley_caches()  # a new container reads it again
    assert ssm_secret(name, aws.region) == "rotated-key"


def test_with_no_max_age_the_model_key_is_read_every_time(
    parley_env: dict[str, str], aws: LocalResources
) -> None:
    name = aws.model_api_key_parameter
    assert ssm_secret(name, aws.region, max_age=0) == DEFAULT_MODEL_KEY
    rotate_model_key(aws, "rotated-key")
    assert ssm_secret(name, aws.region, max_age=0) == "rotated-key"


def test_a_missing_model_key_is_a_configuration_fault(
    parley_env: dict[str, str], aws: LocalResources
) -> None:
    with pytest.raises(ServiceUnavailable, match="not configured correctly"):
        ssm_secret("/parley-local/no-such-parameter", aws.region)


def test_a_rotated_model_key_reaches_the_model_once_its_max_age_has_passed(  # type: ignore[no-untyped-def]
    provider, aws: LocalResources, scripted_model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("parley.bots.secrets.SECRET_MAX_AGE_SECONDS", 0)
    scripted_model.enqueue(Reply(text="one"), Reply(text="two"))
    provider.complete(TURNS)
    rotate_model_key(aws, "rotated-key")
    provider.complete(TURNS)
    first, second = scripted_model.completions()
    assert first.headers["authorization"] == f"Bearer {DEFAULT_MODEL_KEY}"
    assert second.headers["authorization"] == "Bearer rotated-key"


AGENT = {"agentId": "AGENT12345", "agentAliasId": "ALIAS12345"}
SESSION_ID = re.compile(r"[0-9a-zA-Z._:-]{2,100}")  # what InvokeAgent accepts


class Captured:
    """Stands for any value in a Stubber's expected params, and keeps what was sent."""

    def __init__(self) -> None:
        self.values: list[object] = []

    def __ne__(self, other: object) -> bool:
        self.values.append(other)
        return False

    __hash__ = None  # type: ignore[assignment]


@pytest.fixture
def agent() -> tuple[BedrockAgentProvider, Stubber]:
    settings = ModelSettings(
        model_provider="bedrock-agent",
        bedrock_agent_id=AGENT["agentId"],
        bedrock_agent_alias_id=AGENT["agentAliasId"],
        model_max_retries=0,
    )
    provider = BedrockAgentProvider(settings)
    stubber = Stubber(provider.client)
    stubber.activate()
    return provider, stubber


def expect_invoke(stubber: Stubber, session_id: object) -> None:
    """One InvokeAgent call with this sessionId, answered with a refusal (ends the stream)."""
    stubber.add_client_error(
        "invoke_agent",
        service_error_code="ValidationException",
        http_status_code=400,
        expected_params={
            **AGENT,
            "sessionId": session_id,
            "inputText": "hello",
            "enableTrace": False,
        },
    )


def invoke(provider: BedrockAgentProvider, session_id: str | None) -> None:
    with pytest.raises(ProviderError, match="rejected"):
        list(provider.stream(TURNS, session_id=session_id))


def test_the_agent_keeps_one_session_per_conversation(
    agent: tuple[BedrockAgentProvider, Stubber],
) -> None:
    provider, stubber = agent
    for conversation in ("01JC3Z8Q4W6E9R2T5Y7U1I3O5P", "01JC3Z8Q4W6E9R2T5Y7U1I3O5P", "room_2"):
        expect_invoke(stubber, conversation)  # a valid id is the session id as it is
        invoke(provider, conversation)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "conversation",
    ["x", "room/42 é", "c" * 101, "sha256-" + "0" * 64],
    ids=["too-short", "characters", "too-long", "looks-like-a-digest"],
)
def test_an_id_the_agent_would_refuse_becomes_a_stable_valid_session_id(
    agent: tuple[BedrockAgentProvider, Stubber], conversation: str
) -> None:
    provider, stubber = agent
    expected = "sha256-" + hashlib.sha256(conversation.encode()).hexdigest()
    for _ in range(2):
        expect_invoke(stubber, expected)
        invoke(provider, conversation)
    stubber.assert_no_pending_responses()
    assert SESSION_ID.fullmatch(expected)


def test_without_a_conversation_each_call_is_its_own_session(
    agent: tuple[BedrockAgentProvider, Stubber],
) -> None:
    provider, stubber = agent
    sent = Captured()
    for _ in range(2):
        expect_invoke(stubber, sent)
        invoke(provider, None)
    first, second = sent.values
    assert isinstance(first, str)
    assert isinstance(second, str)
    assert SESSION_ID.fullmatch(first)
    assert SESSION_ID.fullmatch(second)
    assert first != second


def test_providers_without_sessions_accept_and_ignore_a_session_id(  # type: ignore[no-untyped-def]
    provider, scripted_model: ScriptedModel
) -> None:
    scripted_model.enqueue(Reply(text="streamed"), Reply(text="whole"))
    events = list(provider.stream(TURNS, session_id="01JC3Z8Q4W6E9R2T5Y7U1I3O5P"))
    assert [e.text for e in events if isinstance(e, Delta)] == ["streamed"]
    assert provider.complete(TURNS, session_id="01JC3Z8Q4W6E9R2T5Y7U1I3O5P")[0] == "whole"


def test_converse_gets_a_temperature_only_when_one_is_set() -> None:
    from parley.bots.bedrock import _inference

    assert _inference(512, None) == {"maxTokens": 512}
    assert _inference(512, 0.0) == {"maxTokens": 512, "temperature": 0.0}
    assert _inference(256, 1.5) == {"maxTokens": 256, "temperature": 1.5}
