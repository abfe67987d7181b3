"""`invoke template`: the manifest rendered as CloudFormation, linted by cfn-lint against AWS's
own schemas — it catches what HCL parsing cannot (runtimes, sizes, unknown IAM actions)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tasks.core.manifest import Manifest
from tasks.infra import lint_template, render_template


@pytest.fixture(scope="module")
def template(manifest: Manifest, tables: dict[str, Any]) -> dict[str, Any]:
    return render_template(manifest, tables)


def test_rendered_template_lints_clean(template: dict[str, Any]) -> None:
    findings = lint_template(template)
    assert findings == [], "cfn-lint:\n" + "\n".join(findings)


def test_template_has_every_function_route_and_table(
    template: dict[str, Any], manifest: Manifest, tables: dict[str, Any]
) -> None:
    resources = template["Resources"]
    functions = {
        r["Properties"]["Handler"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert functions == {f.handler for f in manifest.functions.values()}
    http_routes = {
        r["Properties"]["RouteKey"]: r["Properties"]["AuthorizationType"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
        and r["Properties"]["ApiId"] == {"Ref": "HttpApi"}
    }
    assert http_routes == {
        route.route: ("NONE" if route.auth == "none" else "JWT")
        for route, _ in manifest.http_routes()
    }
    ws_routes = {
        r["Properties"]["RouteKey"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
        and r["Properties"]["ApiId"] == {"Ref": "WebSocketApi"}
    }
    assert ws_routes == set(manifest.websocket_routes())
    tables_made = {
        r["Properties"]["TableName"]["Fn::Sub"].rsplit("-", 1)[1]
        for r in resources.values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    assert tables_made == set(tables)


def _function(template: dict[str, Any], handler: str) -> dict[str, Any]:
    return next(
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == handler
    )


def test_cfn_lint_catches_what_hcl_parsing_cannot(
    template: dict[str, Any], manifest: Manifest
) -> None:
    broken = copy.deepcopy(template)
    names = sorted(manifest.functions)
    first, second, third = (_function(broken, manifest.functions[n].handler) for n in names[:3])
    first["Properties"]["Runtime"] = "python3.99"
    second["Properties"]["Timeout"] = 901
    role = broken["Resources"][third["Properties"]["Role"]["Fn::GetAtt"][0]]
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"].append(
        "dynamodb:TransactWriteItems"
    )
    findings = lint_template(broken)  # one lint run for the three faults: cfn-lint is slow
    for rule, fault in (
        ("E3030", "invalid runtime"),
        ("E3717", "timeout over 900 s"),
        ("W3037", "unknown IAM action"),
    ):
        assert any(f.startswith(rule) for f in findings), f"{fault} not reported: {findings}"


def test_template_task_writes_and_lints(tmp_path: Any) -> None:
    from invoke.context import Context

    from tasks.infra import template as template_task

    output = tmp_path / "template.yaml"
    template_task(Context(), output=str(output), lint=False)  # linting is tested above
    text = output.read_text()
    assert "AWS::Lambda::Function" in text
    assert "AWS::ApiGatewayV2::Authorizer" in text
