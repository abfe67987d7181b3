"""`terraform test` of envs/dev, envs/prod and envs/bootstrap — each a whole environment, the
web app included, against a mocked AWS (see test_terraform_modules.py, which runs the modules'
own tests; the two files run on separate pytest workers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.test_terraform_modules import TESTED, pytestmark, repo, run_terraform_test

__all__ = ["pytestmark", "repo"]

ENVS = [d for d in TESTED if d.startswith("envs/")]


@pytest.mark.parametrize("directory", ENVS)
def test_environment_terraform_test_passes(
    repo: Path, directory: str, provider_env: dict[str, str]
) -> None:
    run_terraform_test(repo, directory, provider_env)
