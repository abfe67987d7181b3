"""Fixtures of the integration suites that drive the WebSocket functions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.connections_endpoint import ConnectionsEndpoint
from tests.support.environment import clear_parley_caches


@pytest.fixture
def endpoint(
    parley_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ConnectionsEndpoint]:
    """The loopback @connections endpoint (and Lambda invoke recorder) the functions post to.

    The model is asked once per call (no SDK retries), so each scripted fault is seen as it is.
    """
    with ConnectionsEndpoint() as server:
        monkeypatch.setenv("WS_MANAGEMENT_ENDPOINT", server.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.origin)
        monkeypatch.setenv("MODEL_MAX_RETRIES", "0")
        clear_parley_caches()
        yield server
    clear_parley_caches()
