"""Session fixtures for the static Terraform checks: each slow tool runs once per session."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.core.manifest import MANIFEST_PATH, TABLES_PATH, Manifest, load_manifest, load_tables
from tasks.infra import (
    CHECKOV_VERSION,
    TERRAFORM_DIR,
    ToolError,
    attached_provider,
    provider_mirror,
    pypi_terraform_binary,
    run_checkov,
    run_terraform,
    terraform_binary,
    terraform_version,
)
from tests.infra.hcl import Config, load_all

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_report_header(config: pytest.Config) -> str:
    try:
        binary, version = terraform_binary()
        terraform = f"terraform {version} ({binary}) for fmt"
    except ToolError as exc:
        terraform = f"terraform: {exc}"
    legacy = pypi_terraform_binary()
    module = f"{terraform_version(legacy)} (PyPI)" if legacy else "the same"
    return (
        f"infra: {terraform}; terraform {module} applies modules/manifest; "
        f"checkov {CHECKOV_VERSION} in .tools/checkov"
    )


@pytest.fixture(scope="session")
def provider_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Terraform's environment for mocked `terraform test` and `validate` runs: one AWS provider
    process per test worker that each run attaches to (`attached_provider`), instead of a start
    per run block. Empty without a mirror (those tests are skipped then)."""
    if provider_mirror() is None:
        yield {}
        return
    with attached_provider(tmp_path_factory.mktemp("provider") / "provider.log") as env:
        yield env


@pytest.fixture(scope="session")
def tf() -> dict[str, Config]:
    """Every module and environment, read with python-hcl2."""
    return load_all()


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    return load_manifest()


@pytest.fixture(scope="session")
def tables() -> dict[str, Any]:
    return load_tables()


@pytest.fixture(scope="session")
def checkov_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One checkov run over terraform/ plus the deliberately weak fixtures (under _fixtures/)."""
    root = tmp_path_factory.mktemp("checkov") / "terraform"
    shutil.copytree(TERRAFORM_DIR, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    shutil.copytree(FIXTURES / "weak_cognito", root / "_fixtures" / "weak_cognito")
    try:
        return run_checkov(root)
    except ToolError as exc:
        pytest.fail(f"checkov could not run: {exc}")


def manifest_module_terraform() -> tuple[Path, str]:
    """The binary that applies the manifest module: the PyPI 1.0.3 one when installed."""
    legacy = pypi_terraform_binary()
    if legacy is not None:
        return legacy, terraform_version(legacy)
    return terraform_binary()


def apply_manifest_module(
    workdir: Path, manifest_path: Path = MANIFEST_PATH, tables_path: Path = TABLES_PATH
) -> dict[str, Any]:
    """`terraform init` + `apply` of modules/manifest in workdir; its outputs as JSON."""
    binary, version = manifest_module_terraform()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf").write_text(
        f'module "manifest" {{\n'
        f'  source        = "{TERRAFORM_DIR / "modules" / "manifest"}"\n'
        f'  manifest_path = "{manifest_path}"\n'
        f'  tables_path   = "{tables_path}"\n'
        f"}}\n\n"
        f'output "manifest" {{\n  value = module.manifest\n}}\n'
    )
    for args in (
        ["init", "-input=false", "-no-color"],
        ["apply", "-auto-approve", "-input=false", "-no-color"],
    ):
        done = run_terraform(args, cwd=workdir, binary=binary)
        if done.returncode:
            raise AssertionError(
                f"terraform {version} {args[0]} failed:\n{done.stdout}\n{done.stderr}"
            )
    done = run_terraform(["output", "-json", "manifest"], cwd=workdir, binary=binary)
    assert done.returncode == 0, done.stderr
    outputs: dict[str, Any] = json.loads(done.stdout)
    return outputs


@pytest.fixture(scope="session")
def manifest_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The manifest module's outputs for the real manifest (Terraform evaluates yamldecode)."""
    return apply_manifest_module(tmp_path_factory.mktemp("manifest-module"))
