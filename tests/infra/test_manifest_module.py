"""The provider-free manifest module, applied with a real Terraform, reads the manifest exactly
as tasks/core/manifest.py does: Terraform and the build cannot disagree about a function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.core.manifest import Manifest, Ref
from tests.infra.conftest import apply_manifest_module


def expected_function(manifest: Manifest, name: str) -> dict[str, Any]:
    fn = manifest.functions[name]
    async_ = fn.triggers.async_
    return {
        "name": name,
        "description": fn.description,
        "handler": fn.handler,
        "runtime": manifest.defaults.runtime,
        "architecture": manifest.architecture(fn),
        "memory": manifest.memory(fn),
        "timeout": manifest.timeout(fn),
        "log_retention_days": manifest.defaults.log_retention_days,
        "tracing": manifest.defaults.tracing,
        "reserved_concurrency": -1 if fn.reserved_concurrency is None else fn.reserved_concurrency,
        "environment": {k: v for k, v in fn.environment.items() if not isinstance(v, Ref)},
        "env_refs": {k: v.ref for k, v in fn.environment.items() if isinstance(v, Ref)},
        "http_routes": [{"route": r.route, "auth": r.auth} for r in fn.triggers.http],
        "websocket_routes": list(fn.triggers.websocket),
        "authorizer": fn.triggers.authorizer,
        "cognito": list(fn.triggers.cognito),
        "stream": None if fn.triggers.stream is None else fn.triggers.stream.model_dump(),
        "schedule": None if fn.triggers.schedule is None else fn.triggers.schedule.model_dump(),
        "workflows": list(fn.triggers.workflow),
        "async": None if async_ is None else async_.model_dump(),
        "permissions": [
            {"resource": p.resource, "actions": p.actions, "leading_keys": p.leading_keys}
            for p in fn.permissions
        ],
    }


def test_every_function_reads_the_same_in_terraform(
    manifest: Manifest, manifest_outputs: dict[str, Any]
) -> None:
    functions = manifest_outputs["functions"]
    assert sorted(functions) == sorted(manifest.functions), "function names differ"
    for name in manifest.functions:
        expected = expected_function(manifest, name)
        got = functions[name]
        for field, value in expected.items():
            assert got[field] == value, (
                f"manifest module: functions.{name}.{field} is {got[field]!r}, "
                f"tasks/core/manifest.py reads {value!r}"
            )


def test_routes_triggers_and_tables_read_the_same(
    manifest: Manifest, tables: dict[str, Any], manifest_outputs: dict[str, Any]
) -> None:
    assert manifest_outputs["http_routes"] == {
        route.route: {"function": fn.name, "auth": route.auth}
        for route, fn in manifest.http_routes()
    }
    assert manifest_outputs["websocket_routes"] == {
        key: fn.name for key, fn in manifest.websocket_routes().items()
    }
    authorizers = [f.name for f in manifest.functions.values() if f.triggers.authorizer]
    assert manifest_outputs["authorizer_function"] == (authorizers[0] if authorizers else None)
    assert manifest_outputs["cognito_triggers"] == {
        t: f.name for f in manifest.functions.values() for t in f.triggers.cognito
    }
    assert manifest_outputs["async_functions"] == {
        f.name: f.triggers.async_.model_dump()
        for f in manifest.functions.values()
        if f.triggers.async_ is not None
    }
    assert manifest_outputs["schedules"] == {
        f.name: f.triggers.schedule.model_dump()
        for f in manifest.functions.values()
        if f.triggers.schedule is not None
    }
    workflows = {w for f in manifest.functions.values() for w in f.triggers.workflow}
    assert manifest_outputs["workflow_functions"] == {
        w: sorted(f.name for f in manifest.functions.values() if w in f.triggers.workflow)
        for w in workflows
    }
    assert manifest_outputs["stream_functions"] == {
        f.name: f.triggers.stream.model_dump()
        for f in manifest.functions.values()
        if f.triggers.stream is not None
    }
    assert manifest_outputs["architectures"] == manifest.architectures
    assert manifest_outputs["env_refs"] == sorted(
        {v.ref for f in manifest.functions.values() for v in f.environment.values()
         if isinstance(v, Ref)}
    )  # fmt: skip
    assert manifest_outputs["layer"] == manifest.layer.model_dump()
    for name, table in tables.items():
        got = manifest_outputs["tables"][name]
        assert got["hash_key"] == table["hash_key"]
        assert got["range_key"] == table.get("range_key")
        assert {a["name"]: a["type"] for a in got["attributes"]} == table["attributes"]
        assert got["ttl_attribute"] == table.get("ttl_attribute")
        assert got["stream"] == table.get("stream")
        assert {g["name"]: (g["hash_key"], g["range_key"], g["projection"])
                for g in got["global_secondary_indexes"]} == {
            index: (gsi["hash_key"], gsi.get("range_key"), gsi.get("projection", "ALL"))
            for index, gsi in (table.get("global_secondary_indexes") or {}).items()
        }  # fmt: skip


def test_defaults_apply_where_a_function_leaves_a_field_out(tmp_path: Path) -> None:
    document = {
        "version": 1,
        "defaults": {"memory": 384},
        "functions": {
            "one": {
                "description": "minimal",
                "handler": "one.app.handler",
                "environment": {"A": "x", "B": {"ref": "daily_token_quota"}},
                "triggers": {"async": {}, "http": [{"route": "GET /x", "auth": "none"}]},
            }
        },
    }
    manifest_path = tmp_path / "manifest.yaml"
    manifest_path.write_text(yaml.safe_dump(document))
    tables_path = tmp_path / "tables.yaml"
    tables_path.write_text(yaml.safe_dump({"version": 1, "tables": {}}))
    outputs = apply_manifest_module(tmp_path / "work", manifest_path, tables_path)
    fn = outputs["functions"]["one"]
    assert (fn["memory"], fn["timeout"], fn["architecture"]) == (384, 10, "arm64")
    assert fn["environment"] == {"A": "x"}
    assert fn["env_refs"] == {"B": "daily_token_quota"}
    assert fn["async"] == {"max_retries": 2, "max_event_age_seconds": 3600, "on_failure": "dlq"}
    assert outputs["http_routes"] == {"GET /x": {"function": "one", "auth": "none"}}
    assert outputs["layer"] == {"name": "deps", "description": ""}


def test_a_manifest_terraform_cannot_read_fails_the_apply(tmp_path: Path) -> None:
    manifest_path = tmp_path / "manifest.yaml"
    manifest_path.write_text("version: 1\nfunctions: [not, a, map\n")
    with pytest.raises(AssertionError, match=r"yamldecode|YAML|Invalid"):
        apply_manifest_module(tmp_path / "work", manifest_path)
