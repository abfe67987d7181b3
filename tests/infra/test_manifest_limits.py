"""What the manifest promises about every function beyond its own fields: environment defaults
(tracing never captures bodies) and reserved concurrency, validated and read alike by the build,
Terraform and the local gateway."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.core.manifest import (
    MANIFEST_PATH,
    Manifest,
    ManifestError,
    load_manifest,
    parse_manifest,
)
from tests.infra.conftest import apply_manifest_module

MINIMAL: dict[str, Any] = {
    "version": 1,
    "defaults": {"environment": {"SHARED": "on", "OVERRIDDEN": "default"}},
    "functions": {
        "one": {
            "description": "takes the defaults",
            "handler": "one.app.handler",
            "environment": {"OWN": {"ref": "daily_token_quota"}},
        },
        "two": {
            "description": "overrides one default",
            "handler": "two.app.handler",
            "environment": {"OVERRIDDEN": "mine"},
            "reserved_concurrency": 5,
        },
    },
}

# Powertools Tracer records a handler's return value and any exception as X-Ray metadata unless
# these say otherwise: HTTP bodies carry prompts, replies and member e-mails.
NO_BODY_CAPTURE = {
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
}


def test_no_function_traces_response_or_error_bodies(manifest: Manifest) -> None:
    for name, function in manifest.functions.items():
        for variable, value in NO_BODY_CAPTURE.items():
            assert function.environment.get(variable) == value, (
                f"functions/manifest.yaml: functions.{name} would send {variable} "
                f"{function.environment.get(variable, 'unset (true)')!r} to X-Ray: set "
                f"defaults.environment.{variable}: {value!r}"
            )
    raw = yaml.safe_load(MANIFEST_PATH.read_text())
    assert raw["defaults"]["environment"] == raw["defaults"]["environment"] | NO_BODY_CAPTURE, (
        "the capture switches belong in defaults.environment, so a new function gets them too"
    )


def test_default_environment_is_merged_under_each_functions_own() -> None:
    parsed = parse_manifest(MINIMAL)
    one, two = parsed.functions["one"], parsed.functions["two"]
    assert one.environment == {
        "SHARED": "on",
        "OVERRIDDEN": "default",
        "OWN": one.environment["OWN"],
    }
    assert two.environment == {"SHARED": "on", "OVERRIDDEN": "mine"}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("defaults", "environment"), {"OPENAI_API_KEY": "x"}, "looks like a secret"),
        (("defaults", "environment"), {"AWS_REGION": "x"}, "reserved by the Lambda runtime"),
        (("defaults", "environment"), {"lower": "x"}, "String should match pattern"),
        (("functions", "two", "reserved_concurrency"), 0, "must be ≥ 1"),
        (("functions", "two", "reserved_concurrency"), 901, "must be ≤ 900"),
    ],
)
def test_invalid_defaults_and_reservations_are_refused(
    path: tuple[str, ...], value: Any, message: str
) -> None:
    data = copy.deepcopy(MINIMAL)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ManifestError, match=message):
        parse_manifest(data)


def test_reservations_together_leave_the_account_its_unreserved_pool() -> None:
    data = copy.deepcopy(MINIMAL)
    data["functions"]["one"]["reserved_concurrency"] = 500
    data["functions"]["two"]["reserved_concurrency"] = 401
    with pytest.raises(ManifestError, match=r"reserved_concurrency: 901 in all .* at most 900"):
        parse_manifest(data)


def test_the_reply_worker_and_the_http_api_have_reserved_concurrency() -> None:
    manifest = load_manifest()
    for name in ("bot_worker", "chat_api"):
        reserved = manifest.functions[name].reserved_concurrency
        assert reserved is not None, (
            f"functions.{name}: a burst must not take the account's whole concurrency "
            "(set reserved_concurrency)"
        )
    assert manifest.functions["ws_authorizer"].reserved_concurrency is None, (
        "ws_authorizer shares the unreserved pool the reservations above protect"
    )


def test_terraform_merges_default_environment_and_reads_reservations(tmp_path: Path) -> None:
    manifest_path = tmp_path / "manifest.yaml"
    manifest_path.write_text(yaml.safe_dump(MINIMAL))
    tables_path = tmp_path / "tables.yaml"
    tables_path.write_text(yaml.safe_dump({"version": 1, "tables": {}}))
    outputs = apply_manifest_module(tmp_path / "work", manifest_path, tables_path)
    one, two = outputs["functions"]["one"], outputs["functions"]["two"]
    assert one["environment"] == {"SHARED": "on", "OVERRIDDEN": "default"}
    assert one["env_refs"] == {"OWN": "daily_token_quota"}
    assert two["environment"] == {"SHARED": "on", "OVERRIDDEN": "mine"}
    assert (one["reserved_concurrency"], two["reserved_concurrency"]) == (-1, 5)
