"""The real artifacts import without the dev environment.

Builds the dependency layer from the lock file for both architectures (binary wheels for
Lambda's platform), unpacks it beside each function zip and imports every handler in an isolated
interpreter of the runtime's Python version: proof that a deploy would not die on an
ImportError. The arm64 layer cannot run here, so its compiled extensions are checked to be
aarch64 ELF files instead.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tasks.core.artifacts import Builder, check_elf_architecture, find_python, smoke_import
from tasks.core.manifest import load_manifest

pytestmark = pytest.mark.slow

MANIFEST = load_manifest()
PYTHON = find_python()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if PYTHON is None:
        pytest.skip("no Python 3.12 here: a build compiles the artifacts' bytecode with it")
    dist = tmp_path_factory.mktemp("dist")
    built = Builder(MANIFEST, dist=dist, log=lambda _: None).build(
        architectures=["arm64", "x86_64"]
    )
    return {a.key: a.path for a in built}


def _env(function_name: str) -> dict[str, str]:
    """Plausible values for every variable the manifest sets, as a deployment would."""
    env = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}
    for key, value in MANIFEST.functions[function_name].environment.items():
        env[key] = value if isinstance(value, str) else _REF_VALUES[value.ref]
    return env


_REF_VALUES = {
    "chat_table_name": "parley-test-chat",
    "connections_table_name": "parley-test-connections",
    "user_pool_id": "eu-west-1_AbCdEf123",
    "user_pool_client_id": "1example23456789abcdefghij",
    "jwks_url": "",
    "model_provider": "openai",
    "model_id": "gpt-4o-mini",
    "model_base_url": "",
    "model_api_key_parameter": "/parley/test/model-api-key",
    "bedrock_agent_id": "",
    "bedrock_agent_alias_id": "",
    "daily_token_quota": "100000",
    "ws_management_endpoint": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
    "bot_worker_function_name": "parley-test-bot_worker",
    "fanout_function_name": "parley-test-fanout",
    "uploads_bucket_name": "parley-test-uploads-20260101",
    "upload_max_document_bytes": "10485760",
    "upload_max_image_bytes": "5242880",
    "upload_max_attachments": "10",
    "model_accepts_images": "true",
    "retention_days": "0",
    "exports_bucket_name": "parley-test-exports-20260101",
    "export_state_machine_arn": (
        "arn:aws:states:eu-west-1:123456789012:stateMachine:parley-test-export"
    ),
    "signup_allowed_domains": "",
    "signup_invites": "false",
    "app_url": "https://chat.example.com",
}


@pytest.fixture(scope="module")
def layer_opt(artifacts: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The x86_64 layer unpacked once, as Lambda mounts it at /opt, for every handler."""
    opt = tmp_path_factory.mktemp("opt")
    zipfile.ZipFile(artifacts["layer:deps-x86_64"]).extractall(opt)
    return opt


@pytest.mark.skipif(PYTHON is None, reason="no Python 3.12 interpreter on this machine")
@pytest.mark.parametrize("name", sorted(MANIFEST.functions))
def test_handler_imports_from_artifacts_alone(
    artifacts: dict[str, Path], layer_opt: Path, name: str
) -> None:
    assert PYTHON is not None
    result = smoke_import(
        artifacts[f"function:{name}"],
        layer_opt,
        MANIFEST.functions[name].handler,
        _env(name),
        PYTHON,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_arm64_layer_holds_only_aarch64_extensions(artifacts: dict[str, Path]) -> None:
    layer = artifacts["layer:deps"]
    assert check_elf_architecture(layer, "arm64") == []
    # and the check is not vacuous: the layer does carry compiled extensions
    assert check_elf_architecture(layer, "x86_64")
