"""`terraform validate` with the real AWS provider schema, offline from a local provider mirror:
attribute names and types, module inputs and outputs, and the module graph (no cycles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.infra import TERRAFORM_DIR, provider_mirror, run_terraform, validate_offline

pytestmark = pytest.mark.skipif(
    provider_mirror() is None,
    reason="no Terraform provider mirror here (TF_PLUGIN_MIRROR): validate needs hashicorp/aws",
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("validate")


# envs/prod has the same main.tf as envs/dev (test_contracts checks it), so dev stands for both;
# validating an environment validates modules/parley and every module it calls.
@pytest.mark.parametrize("root", ["envs/dev", "envs/bootstrap", "examples/cloudfront_waf"])
def test_root_validates_against_the_provider_schema(
    workdir: Path, root: str, provider_env: dict[str, str]
) -> None:
    done = validate_offline(TERRAFORM_DIR / root, workdir, provider_env)
    assert done.returncode == 0, f"terraform validate {root}:\n{done.stdout}\n{done.stderr}"
    assert "The configuration is valid" in done.stdout


def test_validate_reports_a_dependency_cycle(workdir: Path, provider_env: dict[str, str]) -> None:
    dev = workdir / "repo" / "terraform" / "envs" / "dev"
    if not (dev / ".terraform").exists():
        validate_offline(TERRAFORM_DIR / "envs" / "dev", workdir, provider_env)
    main = workdir / "repo" / "terraform" / "modules" / "parley" / "main.tf"
    original = main.read_text()
    wired = "lambda_triggers     = module.functions.cognito_trigger_arns"
    assert wired in original
    # The pool would wait for the functions, which wait for the pool's id: a cycle.
    main.write_text(
        original.replace(
            wired,
            "lambda_triggers     = "
            '{ PostConfirmation = module.functions.functions["post_confirmation"].arn }',
        )
    )
    try:
        done = run_terraform(["validate", "-no-color"], dev, env=provider_env)
    finally:
        main.write_text(original)
    assert done.returncode != 0
    assert "Cycle" in done.stderr, done.stderr
