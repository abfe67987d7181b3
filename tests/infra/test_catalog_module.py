"""The provider-free catalog module, applied with a real Terraform, reads each environment's model
catalog as parley/catalog.py does: what IAM grants (modules/functions) is exactly the catalog's
Bedrock models, agents and key parameters, and the item the functions read is the catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from parley.catalog import Catalog, catalog_from_json
from tasks.core.catalog import environment_catalogs, load
from tasks.infra import TERRAFORM_DIR, run_terraform
from tests.infra.conftest import manifest_module_terraform


def apply_catalog_module(workdir: Path, catalog_path: Path) -> tuple[int, dict[str, Any], str]:
    """`terraform init` + `apply` of modules/catalog: (exit code, outputs, what it printed)."""
    binary, _ = manifest_module_terraform()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf").write_text(
        f'module "catalog" {{\n'
        f'  source       = "{TERRAFORM_DIR / "modules" / "catalog"}"\n'
        f'  catalog_path = "{catalog_path}"\n'
        f"}}\n\n"
        f'output "catalog" {{\n  value = module.catalog\n}}\n'
    )
    printed = ""
    for args in (
        ["init", "-input=false", "-no-color"],
        ["apply", "-auto-approve", "-input=false", "-no-color"],
    ):
        done = run_terraform(args, cwd=workdir, binary=binary)
        printed += done.stdout + done.stderr
        if done.returncode:
            return done.returncode, {}, printed
    done = run_terraform(["output", "-json", "catalog"], cwd=workdir, binary=binary)
    assert done.returncode == 0, done.stderr
    return 0, json.loads(done.stdout), printed


@pytest.mark.parametrize("env", sorted(environment_catalogs()))
def test_terraform_reads_each_environments_catalog_as_the_code_does(
    env: str, tmp_path: Path
) -> None:
    path = environment_catalogs()[env]
    catalog: Catalog = load(path, deployed=True)
    code, outputs, printed = apply_catalog_module(tmp_path / env, path)
    assert code == 0, printed
    assert outputs["default"] == catalog.default
    assert outputs["model_ids"] == [m.id for m in catalog.models]
    assert outputs["bedrock_models"] == catalog.bedrock_models()
    assert outputs["bedrock_agents"] == [
        {"agent_id": m.agent_id, "alias_id": m.agent_alias_id}
        for m in catalog.models
        if m.provider == "bedrock-agent"
    ]
    assert outputs["api_key_parameters"] == sorted(
        {m.api_key_parameter for m in catalog.models if m.api_key_parameter}
    )
    # The item the functions read is the catalog itself.
    assert catalog_from_json(outputs["document"]) == catalog


def test_every_provider_kind_is_granted_from_the_catalog(tmp_path: Path) -> None:
    document = {
        "version": 1,
        "default": "open",
        "models": [
            {"id": "open", "label": "Open", "provider": "openai", "model": "gpt-4o-mini",
             "api_key_parameter": "/parley/x/openai", "context_window": 128000,
             "max_output_tokens": 1024, "price": {"input": 0.15, "output": 0.6}},
            {"id": "agent", "label": "Agent", "provider": "bedrock-agent",
             "agent_id": "AGENT00001", "agent_alias_id": "ALIAS00001", "context_window": 8192,
             "max_output_tokens": 1024, "price": {"input": 0, "output": 0}},
            {"id": "nova", "label": "Nova", "provider": "bedrock",
             "model": "amazon.nova-micro-v1:0", "context_window": 128000, "max_output_tokens": 1024,
             "price": {"input": 0.035, "output": 0.14}},
            {"id": "nova-again", "label": "Nova again", "provider": "bedrock",
             "model": "amazon.nova-micro-v1:0", "context_window": 128000,
             "max_output_tokens": 1024, "price": {"input": 0.035, "output": 0.14},
             "groups": ["staff"]},
        ],
    }  # fmt: skip
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    code, outputs, printed = apply_catalog_module(tmp_path / "tf", path)
    assert code == 0, printed
    assert outputs["bedrock_models"] == ["amazon.nova-micro-v1:0"]  # once, however often named
    assert outputs["bedrock_agents"] == [{"agent_id": "AGENT00001", "alias_id": "ALIAS00001"}]
    assert outputs["api_key_parameters"] == ["/parley/x/openai"]
    parsed = catalog_from_json(outputs["document"])
    assert parsed.get("nova-again") is not None
    assert parsed.require("open", []).id == "open"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"provider": "local", "server": "llama"}, "local runs only on the local stack"),
        ({"id": "open"}, "The model ids must be unique"),
    ],
)
def test_terraform_refuses_a_catalog_it_cannot_deploy(
    change: dict[str, Any], message: str, tmp_path: Path
) -> None:
    bad = {"id": "two", "label": "Two", "provider": "bedrock", "model": "amazon.nova-micro-v1:0",
           "context_window": 128000, "max_output_tokens": 1024,
           "price": {"input": 0.035, "output": 0.14}}  # fmt: skip
    good = {**bad, "id": "open"}
    path = tmp_path / "models.yaml"
    document = {"version": 1, "default": "open", "models": [good, {**bad, **change}]}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    code, _, printed = apply_catalog_module(tmp_path / "tf", path)
    assert code != 0
    assert message in " ".join(printed.split())
