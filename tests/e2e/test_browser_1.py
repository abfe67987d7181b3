"""The browser suite's first half (`tests/e2e/browser.py`)."""

from __future__ import annotations

import pytest

from tests.e2e.browser import needs_browser, run_shard


@pytest.mark.slow
@pytest.mark.timeout(900)
@needs_browser
def test_browser_suite_first_half() -> None:
    run_shard(1)
