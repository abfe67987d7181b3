"""Fixtures shared by every suite: moto server, bootstrap, users and tokens, scripted model."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

import pytest

from tasks.local.bootstrap import FAKE_CREDENTIALS, LocalResources, bootstrap
from tasks.local.scripted_model import ScriptedModel
from tasks.local.streams import StreamPoller
from tests.support.change_feed import in_process_feed
from tests.support.cognito import TestUser, create_user
from tests.support.environment import clear_parley_caches, function_env, store_scripted_catalog
from tests.support.moto_server import MotoServer
from tests.support.ordering import longest_first
from tests.support.tokens import JwksServer, SigningKey, TokenFactory, moto_signing_key

REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the test session; the process talks to it through AWS_ENDPOINT_URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log
    server = MotoServer().start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", server.url)
        patch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS["aws_access_key_id"])
        patch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS["aws_secret_access_key"])
        patch.setenv("AWS_REGION", REGION)
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        yield server
    server.stop()


@pytest.fixture
def aws(moto_server: MotoServer) -> LocalResources:
    """A clean moto with Parley's tables, user pool, app client and model key parameter."""
    moto_server.reset()
    return bootstrap(moto_server.url, region=REGION)


@pytest.fixture(scope="session")
def scripted_model_server() -> Iterator[ScriptedModel]:
    with ScriptedModel() as model:
        yield model


@pytest.fixture
def scripted_model(scripted_model_server: ScriptedModel) -> ScriptedModel:
    """The scripted OpenAI-compatible model, with an empty queue and request log."""
    scripted_model_server.reset()
    return scripted_model_server


@pytest.fixture
def parley_env(
    aws: LocalResources, scripted_model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The environment a deployed function has, pointed at moto and the scripted model.

    Caches of the core are cleared before and after, so each test is a cold start.
    """
    env = function_env(aws, model_base_url=scripted_model.base_url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store_scripted_catalog(aws, scripted_model.base_url)
    clear_parley_caches()
    yield env
    clear_parley_caches()


@pytest.fixture
def change_feed(parley_env: dict[str, str], aws: LocalResources) -> StreamPoller:
    """The chat table's change feed, delivered to `stream_processor` in process on `drain()`."""
    return in_process_feed(aws)


@pytest.fixture
def make_user(aws: LocalResources) -> Callable[..., TestUser]:
    """Create a confirmed Cognito user with real tokens: `make_user(email=None, name=None)`."""

    def make(email: str | None = None, *, name: str | None = None) -> TestUser:
        return create_user(aws, email, name=name)

    return make


@pytest.fixture
def user(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user()


@pytest.fixture
def other_user(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user()


@pytest.fixture
def moto_tokens(aws: LocalResources) -> TokenFactory:
    """Forges tokens with moto's own signing key: trusted wherever moto's JWKS is."""
    return TokenFactory(issuer=aws.issuer, client_id=aws.client_id, key=moto_signing_key())


@pytest.fixture(scope="session")
def test_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def jwks_server(test_key: SigningKey) -> Iterator[JwksServer]:
    """A JWKS endpoint publishing the test key; tests may rotate keys or make it fail."""
    server = JwksServer([test_key]).start()
    yield server
    server.stop()


@pytest.fixture
def test_tokens(test_key: SigningKey) -> TokenFactory:
    """Tokens signed by the test key for a fixed fake pool (see `jwks_server`)."""
    return TokenFactory(
        issuer="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool",
        client_id="test-client-id",
        key=test_key,
    )


def pytest_configure(config: pytest.Config) -> None:
    # The handlers read the region at import; a default keeps collection from touching AWS.
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    longest_first(items)
