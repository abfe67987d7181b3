"""The web app's generated API and WebSocket types match what the Python code produces now.

`invoke gen-types` writes frontend/src/types/{api,ws}.gen.ts from chat_api's OpenAPI document
and the protocol's JSON Schema; this fails when either side changed without regenerating.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tasks.frontend import FRONTEND, GENERATED, GENERATED_FILES, generate_types, protocol_schema

pytestmark = pytest.mark.skipif(
    not (FRONTEND / "node_modules").exists() and not os.environ.get("CI"),
    reason="frontend/node_modules not installed (npm ci --prefix frontend); required on CI",
)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_committed_types_match_the_code(tmp_path: Path) -> None:
    # GIVEN the types generated from the code as it is now
    generate_types(tmp_path)
    # THEN the committed files are byte for byte the same
    stale = [
        name
        for name in GENERATED_FILES
        if (GENERATED / name).read_text() != (tmp_path / name).read_text()
    ]
    assert not stale, f"run `invoke gen-types`: {', '.join(stale)} drifted from the code"


def test_protocol_schema_marks_discriminators_required() -> None:
    # Every event's `type` and every action's `action` must be required for TypeScript to
    # narrow the union.
    definitions = protocol_schema()["$defs"]
    for name, definition in definitions.items():
        for tag in ("type", "action"):
            if tag in definition.get("properties", {}) and "const" in definition["properties"][tag]:
                assert tag in definition["required"], f"{name}.{tag} is optional"
