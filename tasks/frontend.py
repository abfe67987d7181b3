"""Web app tasks: build, unit tests, browser tests, and the types generated from the Python code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.core.manifest import ROOT

FRONTEND = ROOT / "frontend"
GENERATED = FRONTEND / "src" / "types"
GENERATED_FILES = ("api.gen.ts", "ws.gen.ts", "admin.gen.ts")


def require_node_modules() -> None:
    if not (FRONTEND / "node_modules").exists():
        raise Exit("frontend/node_modules is missing: run `npm ci --prefix frontend`", code=1)


def openapi_document() -> dict[str, Any]:
    """The document chat_api serves at GET /openapi.json, produced by the same code."""
    if str(ROOT / "functions") not in sys.path:
        sys.path.insert(0, str(ROOT / "functions"))
    from chat_api.app import openapi_json

    document: dict[str, Any] = json.loads(openapi_json())
    return document


def admin_openapi_document() -> dict[str, Any]:
    """admin_api's OpenAPI document (the admin console's routes), from the same code."""
    if str(ROOT / "functions") not in sys.path:
        sys.path.insert(0, str(ROOT / "functions"))
    from admin_api.app import openapi_json as admin_openapi_json

    document: dict[str, Any] = json.loads(admin_openapi_json())
    return document


def protocol_schema() -> dict[str, Any]:
    """JSON Schema of every WebSocket frame, from the protocol's pydantic models.

    Events are encoded with `exclude_none`, so a field with a non-null default (`type`,
    `streaming`, `contentOmitted`) is always on the wire: it is marked required, which lets
    TypeScript narrow the union on `type`. Property titles are dropped so the generated
    types stay inline instead of one alias per field.
    """
    if str(ROOT / "functions") not in sys.path:
        sys.path.insert(0, str(ROOT / "functions"))
    from pydantic.json_schema import models_json_schema

    from parley.realtime.protocol import ClientFrame, ServerFrame

    _, schema = models_json_schema(
        [(ClientFrame, "serialization"), (ServerFrame, "serialization")],
        by_alias=True,
        title="Protocol",
    )
    for definition in schema.get("$defs", {}).values():
        properties = definition.get("properties", {})
        for prop in properties.values():
            # Property titles would become one exported alias each (`Conversationid7`).
            prop.pop("title", None)
        always = [n for n, p in properties.items() if p.get("default") not in (None,)]
        if always:
            definition["required"] = sorted({*definition.get("required", []), *always})
    return schema


def generate_types(out_dir: Path) -> list[Path]:
    """Writes api.gen.ts and ws.gen.ts into `out_dir`; returns their paths."""
    require_node_modules()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        openapi_path = Path(tmp) / "openapi.json"
        protocol_path = Path(tmp) / "protocol.schema.json"
        openapi_path.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True))
        protocol_path.write_text(json.dumps(protocol_schema(), indent=2, sort_keys=True))
        admin_path = Path(tmp) / "admin.openapi.json"
        admin_path.write_text(json.dumps(admin_openapi_document(), indent=2, sort_keys=True))
        node = shutil.which("node") or "node"
        subprocess.run(
            [
                node,
                "scripts/gen-types.mjs",
                str(openapi_path),
                str(protocol_path),
                str(out_dir),
                f"admin.gen.ts={admin_path}",
            ],
            cwd=FRONTEND,
            check=True,
        )
    return [out_dir / name for name in GENERATED_FILES]


@task(name="gen-types")
def gen_types(c: Context) -> None:
    """Generate the app's API and WebSocket types from chat_api's OpenAPI and the protocol."""
    for path in generate_types(GENERATED):
        print(f"wrote {path.relative_to(ROOT)}")


@task(name="frontend-build")
def frontend_build(c: Context) -> None:
    """Build the web app into frontend/dist (skipped when its sources are unchanged)."""
    require_node_modules()
    from tasks.build import _build_frontend

    _build_frontend(c)


@task(name="frontend-test")
def frontend_test(c: Context) -> None:
    """Type-check, lint and run the app's Vitest suite."""
    require_node_modules()
    for step in ("lint", "test"):
        print(f"── frontend {step}", flush=True)
        if not c.run(f"npm --prefix {FRONTEND} run --silent {step}", warn=True).ok:
            raise Exit(f"frontend {step} failed", code=1)


@task(
    help={
        "grep": "only browser tests whose title matches",
        "headed": "show the browser",
        "screenshots": "also save the README screenshots to docs/screenshots",
    }
)
def e2e(c: Context, grep: str = "", headed: bool = False, screenshots: bool = False) -> None:
    """Browser tests: Debian's chromium against the local stack with the scripted model."""
    require_node_modules()
    if not Path("/usr/bin/chromium").exists():
        raise Exit("chromium is missing: apt-get install -y chromium", code=1)
    frontend_build(c)
    args = " ".join(a for a in (f"--grep {grep!r}" if grep else "", "--headed" * headed) if a)
    env = {"PARLEY_SCREENSHOTS": "1"} if screenshots else {}
    with c.cd(str(FRONTEND)):
        ok = c.run(f"npx playwright test {args}".strip(), warn=True, pty=False, env=env).ok
    if not ok:
        raise Exit("browser tests failed (report: frontend/playwright-report)", code=1)
