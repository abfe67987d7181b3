"""The DynamoDB repository tests once more, against moto as shipped.

Every other test, and the local stack, talks to a moto tuned by `tasks.local.aws`, whose patches
reach into moto's internals. This module collects the repository tests of
`tests/unit/test_core_store.py` (conversations, messages, members, profiles, usage) and
`tests/unit/test_realtime_connections.py` (connections, subscriptions) again and runs them
against a moto process started without any patch (`MotoProcess(tuned=False)`): a patch that
changed an answer fails here while the tuned run passes, instead of hiding in both.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from types import ModuleType

import pytest

from tasks.local.aws import MotoProcess
from tasks.local.bootstrap import FAKE_CREDENTIALS
from tests.unit import test_core_store, test_realtime_connections

pytestmark = pytest.mark.slow
REGION = "us-east-1"
REPOSITORY_TESTS: tuple[ModuleType, ...] = (test_core_store, test_realtime_connections)


class ShippedMoto:
    """moto as shipped, in its own process, as the session's `moto_server` is used: a URL and
    a reset between tests."""

    def __init__(self, url: str) -> None:
        self.url = url

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            json.loads(response.read() or b"{}")


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShippedMoto]:
    """Overrides tests/conftest.py's tuned moto for this module: `aws`, `parley_env` and every
    repository built on them use this one."""
    process = MotoProcess("127.0.0.1", 0, tmp_path_factory.mktemp("moto-as-shipped"), tuned=False)
    url = process.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_ENDPOINT_URL", url)
            patch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS["aws_access_key_id"])
            patch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS["aws_secret_access_key"])
            patch.setenv("AWS_REGION", REGION)
            patch.setenv("AWS_DEFAULT_REGION", REGION)
            for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
                patch.delenv(name, raising=False)
            yield ShippedMoto(url)
    finally:
        process.stop()


# Every test, fixture and helper the repository modules define, collected here as well.
for _module in REPOSITORY_TESTS:
    for _name, _value in vars(_module).items():
        if not _name.startswith("_") and getattr(_value, "__module__", None) == _module.__name__:
            globals()[_name] = _value
