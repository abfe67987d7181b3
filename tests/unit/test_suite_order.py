"""The files `tests/support/ordering.py` starts first are real test files."""

from __future__ import annotations

from pathlib import Path

from tests.support.ordering import LONGEST_FIRST

ROOT = Path(__file__).resolve().parents[2]


def test_every_file_started_first_exists_once() -> None:
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
    missing = [path for path in LONGEST_FIRST if not (ROOT / path).is_file()]
    assert not missing, f"renamed or gone: {missing}"
