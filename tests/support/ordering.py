"""The order pytest starts test files in: the longest first.

`invoke test` gives each file to one worker (`--dist loadfile --no-loadscope-reorder`), in the
collected order; a long file started last would leave the other workers idle while it ends.
"""

from __future__ import annotations

import pytest

LONGEST_FIRST = (
    "tests/e2e/test_browser_1.py",
    "tests/e2e/test_browser_2.py",
    "tests/integration/test_http_schemathesis.py",
    "tests/integration/test_stack_e2e.py",
    "tests/infra/test_terraform_modules.py",
    "tests/infra/test_apply_moto.py",
    "tests/infra/test_terraform_envs.py",
    "tests/integration/test_message_pipeline.py",
    "tests/integration/test_artifacts.py",
    "tests/integration/test_stack_cli.py",
    "tests/integration/test_ws_authorizer.py",
    "tests/integration/test_local_aws.py",
    "tests/infra/test_checkov.py",
)
"""The files that take longest (`pytest --durations=0`, summed per file), longest first."""


def longest_first(items: list[pytest.Item]) -> None:
    """Put the tests of `LONGEST_FIRST`'s files first, in its order; the rest keep theirs."""
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
