"""The web app's security headers (modules/frontend): a Content-Security-Policy that lets the app
connect to exactly its own APIs, Cognito and its uploads bucket, images only from itself, on every
response that carries the app.

The API hosts exist only once the APIs do, and the HTTP API's CORS origin is the distribution's
domain, so the policy cannot be part of the distribution's response headers policy (a dependency
cycle): a CloudFront Function sets it from a key value store Terraform writes after the APIs.
Terraform evaluates the policy and renders the function here; node runs the function.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tasks.infra import TERRAFORM_DIR, pypi_terraform_binary, run_terraform
from tests.infra.hcl import Config, load_config, parse_file

FRONTEND = TERRAFORM_DIR / "modules" / "frontend"
REGION = "eu-west-1"
HTTP_API = f"https://abc123.execute-api.{REGION}.amazonaws.com"
WS_API = f"wss://def456.execute-api.{REGION}.amazonaws.com"
COGNITO = f"https://cognito-idp.{REGION}.amazonaws.com"
UPLOADS_BUCKET = "parley-test-uploads-20260101"
# The uploads bucket the module creates, as the two hosts a presigned POST or GET may name.
UPLOADS = {
    "bucket_regional_domain_name": f"{UPLOADS_BUCKET}.s3.{REGION}.amazonaws.com",
    "bucket_domain_name": f"{UPLOADS_BUCKET}.s3.amazonaws.com",
}
APP_CONFIG = f"""{{
    cognito    = {{ userPoolId = "{REGION}_AbCdEf123", clientId = "4example5client6id" }}
    httpApiUrl = "{HTTP_API}"
    wsUrl      = "{WS_API}/live"
    oauth      = null
  }}"""
POLICY_LOCALS = ("connect_src", "content_security_policy", "fallback_content_security_policy")


@pytest.fixture(scope="module")
def frontend() -> Config:
    return load_config(FRONTEND)


def _expression(value: Any) -> str:
    """An HCL value as Terraform source (python-hcl2 keeps expressions as ${...})."""
    if isinstance(value, str):
        return value[2:-1] if value.startswith("${") and value.endswith("}") else json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_expression(v) for v in value) + "]"
    raise TypeError(f"unexpected HCL value {value!r}")


def _substitute(expression: str) -> str:
    return (
        expression.replace("data.aws_region.current.name", f'"{REGION}"')
        .replace("var.app_config", "local.app_config")
        .replace("aws_s3_bucket.uploads.", "local.uploads_bucket.")
        .replace("path.module", json.dumps(str(FRONTEND)))
    )


@pytest.fixture(scope="module")
def evaluated(frontend: Config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The module's policy locals and the rendered function code, evaluated by Terraform."""
    workdir = tmp_path_factory.mktemp("headers")
    missing = [name for name in POLICY_LOCALS if name not in frontend.locals]
    assert not missing, f"modules/frontend: no local {missing}"
    # The policy and its building blocks: the locals of headers.tf.
    headers = {
        k: v for block in parse_file(FRONTEND / "headers.tf")["locals"] for k, v in block.items()
    }
    locals_ = "\n".join(
        f"  {name} = {_substitute(_expression(value))}"
        for name, value in headers.items()
        if not name.startswith("__")
    )
    function = frontend.resource("aws_cloudfront_function", "security_headers")
    code = _substitute(_expression(function["code"]))
    outputs = "\n".join(f'output "{name}" {{\n  value = local.{name}\n}}' for name in POLICY_LOCALS)
    (workdir / "main.tf").write_text(
        f"locals {{\n  app_config = {APP_CONFIG}\n"
        f"  uploads_bucket = {json.dumps(UPLOADS)}\n{locals_}\n}}\n\n{outputs}\n\n"
        f'output "code" {{\n  value = {code}\n}}\n'
    )
    binary = pypi_terraform_binary()
    for args in (["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-no-color"]):
        done = run_terraform(args, cwd=workdir, binary=binary)
        assert done.returncode == 0, done.stdout + done.stderr
    done = run_terraform(["output", "-json"], cwd=workdir, binary=binary)
    assert done.returncode == 0, done.stderr
    return {name: output["value"] for name, output in json.loads(done.stdout).items()}


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} appears twice in {policy}"
        parsed[name] = sources
    return parsed


def test_the_app_connects_to_exactly_its_apis_cognito_and_uploads(
    evaluated: dict[str, Any],
) -> None:
    policy = directives(evaluated["content_security_policy"])
    uploads = [f"https://{host}" for host in UPLOADS.values()]
    assert sorted(policy["connect-src"]) == sorted(["'self'", HTTP_API, WS_API, COGNITO, *uploads])
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert not re.search(r"\*|https:(\s|;|$)", evaluated["content_security_policy"]), (
        "no wildcard host and no bare scheme: an injected script could send data there"
    )
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_until_the_apis_exist_the_app_reaches_only_itself_and_cognito(
    evaluated: dict[str, Any],
) -> None:
    full = directives(evaluated["content_security_policy"])
    fallback = directives(evaluated["fallback_content_security_policy"])
    assert fallback["connect-src"] == ["'self'", COGNITO]
    assert {k: v for k, v in fallback.items() if k != "connect-src"} == {
        k: v for k, v in full.items() if k != "connect-src"
    }


def test_the_policy_reaches_every_response_through_the_edge_function(frontend: Config) -> None:
    policy = frontend.resource("aws_cloudfront_response_headers_policy", "security")
    headers = policy["security_headers_config"][0]
    assert "xss_protection" not in headers, "X-XSS-Protection is deprecated: drop it"
    assert "content_security_policy" not in headers, "the edge function sets the policy"
    for kept in ("strict_transport_security", "content_type_options", "frame_options"):
        assert kept in headers, kept
    distribution = frontend.resource("aws_cloudfront_distribution")
    behavior = distribution["default_cache_behavior"][0]
    associations = {a["event_type"]: a["function_arn"] for a in behavior["function_association"]}
    assert associations == {"viewer-response": "${aws_cloudfront_function.security_headers.arn}"}, (
        associations
    )
    # CloudFront runs no viewer-response function on an origin's error, so an error response
    # that served the app would serve it without the policy (the app routes by #hash).
    assert "custom_error_response" not in distribution
    key = frontend.resource("aws_cloudfrontkeyvaluestore_key", "content_security_policy")
    assert key["value"] == "${local.content_security_policy}"
    function = frontend.resource("aws_cloudfront_function", "security_headers")
    assert function["runtime"] == "cloudfront-js-2.0"
    assert function["publish"] is True
    assert "aws_cloudfront_key_value_store.headers.arn" in str(
        function["key_value_store_associations"]
    )


def _run_function(code: str, workdir: Path, store: dict[str, str]) -> dict[str, Any]:
    """Run the rendered function under node with a stand-in for CloudFront's `cloudfront`
    module (a key value store of `store`) on a viewer-response event for index.html."""
    stub = workdir / "node_modules" / "cloudfront"
    stub.mkdir(parents=True, exist_ok=True)
    (stub / "package.json").write_text('{"name": "cloudfront", "type": "module", "main": "i.js"}')
    (stub / "i.js").write_text(
        f"const store = {json.dumps(store)};\n"
        "export default { kvs: () => ({ get: async (key) => {\n"
        "  if (!(key in store)) throw new Error('key not found');\n"
        "  return store[key]; } }) };\n"
    )
    (workdir / "function.mjs").write_text(code + "\nexport { handler };\n")
    event = {
        "version": "1.0",
        "context": {"eventType": "viewer-response"},
        "request": {"method": "GET", "uri": "/index.html", "headers": {}},
        "response": {"statusCode": 200, "headers": {"content-type": {"value": "text/html"}}},
    }
    script = (
        "import { handler } from './function.mjs';\n"
        f"console.log(JSON.stringify(await handler({json.dumps(event)})));\n"
    )
    (workdir / "run.mjs").write_text(script)
    done = subprocess.run(
        ["node", "run.mjs"], cwd=workdir, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    response: dict[str, Any] = json.loads(done.stdout)
    return response


def test_the_function_sets_the_stored_policy_or_the_fallback(
    evaluated: dict[str, Any], tmp_path: Path
) -> None:
    stored = evaluated["content_security_policy"]
    response = _run_function(
        evaluated["code"], tmp_path / "stored", {"content-security-policy": stored}
    )
    assert response["statusCode"] == 200
    assert response["headers"]["content-security-policy"] == {"value": stored}
    assert response["headers"]["content-type"] == {"value": "text/html"}
    response = _run_function(evaluated["code"], tmp_path / "empty", {})
    assert response["headers"]["content-security-policy"] == {
        "value": evaluated["fallback_content_security_policy"]
    }
