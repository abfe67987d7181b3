"""`terraform test` of every module and environment that has tests/*.tftest.hcl: the AWS
provider is mocked (terraform/tests/mocks), so variables' validation, the resources the real
manifest produces, the aliases every caller uses and the rendered IAM and key policies are
checked by Terraform itself, offline. envs/dev and envs/prod run whole, the web app included.

Needs Terraform ≥ 1.7 (mock providers) and the provider mirror (for the schema); skipped, with
the reason, where either is missing — as test_validate.py is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.core.manifest import ROOT
from tasks.infra import TERRAFORM_DIR, ToolError, provider_mirror, run_terraform, terraform_binary


def _terraform() -> tuple[Path | None, str]:
    try:
        binary, version = terraform_binary()
    except ToolError as exc:
        return None, str(exc)
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if parts < (1, 7):
        return None, f"terraform {version} has no mock providers (needs ≥ 1.7)"
    return binary, version


BINARY, VERSION = _terraform()
MIRROR = provider_mirror()
TESTED = sorted(
    str(p.parent.parent.relative_to(TERRAFORM_DIR))
    for p in TERRAFORM_DIR.glob("*/*/tests/*.tftest.hcl")
    if ".terraform" not in p.parts
)
# The environments run in test_terraform_envs.py: pytest gives each file to one worker.
MODULES = [d for d in TESTED if d.startswith("modules/")]

pytestmark = [
    pytest.mark.skipif(BINARY is None, reason=f"terraform test unavailable: {VERSION}"),
    pytest.mark.skipif(
        MIRROR is None,
        reason="no Terraform provider mirror (TF_PLUGIN_MIRROR): mocks need hashicorp/aws's schema",
    ),
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """terraform/ copied (init writes .terraform/ beside the modules) next to functions/."""
    copy = tmp_path_factory.mktemp("tftest")
    shutil.copytree(TERRAFORM_DIR, copy / "terraform", ignore=shutil.ignore_patterns(".terraform*"))
    # Terraform reads the manifest, the tables and the workflow definitions under functions/.
    (copy / "functions").symlink_to(ROOT / "functions", target_is_directory=True)
    return copy / "terraform"


# Directories tested elsewhere, each with where.
TESTED_ELSEWHERE = {
    "modules/manifest": "provider-free: applied and compared with Python (test_manifest_module.py)",
    "modules/parley": "the composition: run whole by envs/dev and envs/prod",
    "modules/deploy_policies": "provider-free: rendered and evaluated (test_deploy_policies.py)",
    "modules/catalog": "provider-free: applied and compared with parley/catalog.py's reading "
    "(test_catalog_module.py)",
}


def test_every_module_and_environment_has_terraform_tests() -> None:
    have = set(TESTED) | set(TESTED_ELSEWHERE)
    roots = {
        str(p.relative_to(TERRAFORM_DIR))
        for p in [*TERRAFORM_DIR.glob("modules/*"), *TERRAFORM_DIR.glob("envs/*")]
        if p.is_dir() and any(p.glob("*.tf"))
    }
    assert roots - have == set(), f"no tests/*.tftest.hcl in {sorted(roots - have)}"


def run_terraform_test(repo: Path, directory: str, env: dict[str, str]) -> None:
    where = repo / directory
    init = run_terraform(
        ["init", "-backend=false", f"-plugin-dir={MIRROR}", "-input=false", "-no-color"],
        where,
        env=env,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    done = run_terraform(["test", "-no-color"], where, env=env)
    assert done.returncode == 0, (
        f"terraform test in {directory}:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    )
    assert "0 failed" in done.stdout, done.stdout[-3000:]


@pytest.mark.parametrize("directory", MODULES)
def test_terraform_test_passes(repo: Path, directory: str, provider_env: dict[str, str]) -> None:
    run_terraform_test(repo, directory, provider_env)
