"""Contracts of safe delivery, read from the Terraform source (every module, including those
added later): every caller of a function — API Gateway integrations and authorizers, Lambda
permissions, async invoke configs, event source mappings, S3 notifications, schedules, event
rules, Step Functions definitions, Cognito triggers — reaches it through its `live` alias,
never the unqualified function ($LATEST); and resources that AWS checks against a role's
permissions are created after those permissions exist.

`terraform test` (test_terraform_modules.py) checks the same on rendered values for the
modules as they are; these checks also catch a new trigger wired the old way.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.infra.hcl import Config

# Resource type => the attributes that name the function it invokes.
TRIGGERS: dict[str, tuple[str, ...]] = {
    "aws_apigatewayv2_integration": ("integration_uri",),
    "aws_apigatewayv2_authorizer": ("authorizer_uri",),
    "aws_api_gateway_integration": ("uri",),
    "aws_lambda_event_source_mapping": ("function_name",),
    "aws_s3_bucket_notification": ("lambda_function",),
    "aws_scheduler_schedule": ("target",),
    "aws_cloudwatch_event_target": ("arn",),
    "aws_sfn_state_machine": ("definition",),
    "aws_sns_topic_subscription": ("endpoint",),
    "aws_pipes_pipe": ("target",),
    "aws_cognito_user_pool": ("lambda_config",),
}
# Resources about one function that must name the alias as their qualifier.
QUALIFIED = (
    "aws_lambda_permission",
    "aws_lambda_function_event_invoke_config",
    "aws_lambda_provisioned_concurrency_config",
    "aws_lambda_function_url",
)
# Expressions that mean the unqualified function (what $LATEST runs).
UNQUALIFIED = re.compile(
    r"aws_lambda_function\.|\.unqualified_arn\b|(?<!var\.)\bfunction_arns\b|\bfunction_names\b|\$LATEST"
)


def _resources(tf: dict[str, Config]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (path, kind, name, body)
        for path, config in tf.items()
        for kind, named in config.resources.items()
        for name, body in named.items()
    ]


def test_every_trigger_calls_the_alias(tf: dict[str, Config]) -> None:
    wrong = []
    for path, kind, name, body in _resources(tf):
        for attribute in TRIGGERS.get(kind, ()):
            text = str(body.get(attribute, ""))
            if hit := UNQUALIFIED.search(text):
                wrong.append(f"{path}: {kind}.{name}.{attribute} uses {hit.group(0)!r}")
    assert not wrong, "triggers must invoke the live alias, not $LATEST:\n  " + "\n  ".join(wrong)


def test_per_function_settings_name_the_alias(tf: dict[str, Config]) -> None:
    wrong = []
    for path, kind, name, body in _resources(tf):
        if kind not in QUALIFIED:
            continue
        qualifier = str(body.get("qualifier", ""))
        target = str(body.get("function_name", ""))
        if not qualifier and not re.search(
            r"aws_lambda_alias\.|\.arn\b|alias_arns|qualified_name", target
        ):
            wrong.append(f"{path}: {kind}.{name} has no qualifier")
        if "$LATEST" in qualifier or re.fullmatch(r"\d+", qualifier):
            wrong.append(f"{path}: {kind}.{name} is qualified with {qualifier!r}, not the alias")
    assert not wrong, "\n".join(wrong)


def test_only_the_functions_module_sees_unqualified_functions(tf: dict[str, Config]) -> None:
    # Elsewhere a function is reached through module.functions' outputs, which hand out the alias.
    wrong = [
        f"{path}: {kind}.{name}"
        for path, kind, name, body in _resources(tf)
        if path != "modules/functions" and "aws_lambda_function." in str(body)
    ]
    for path, config in tf.items():
        for module, call in config.modules.items():
            for argument, value in call.items():
                if re.search(r"module\.functions\.function_arns\b", str(value)):
                    wrong.append(f"{path}: module.{module}.{argument} gets unqualified ARNs")
    assert not wrong, "\n".join(wrong)


def test_the_functions_module_hands_out_the_alias(tf: dict[str, Config]) -> None:
    functions = tf["modules/functions"]
    alias = functions.resource("aws_lambda_alias", "live")
    assert "ignore_changes" in str(alias.get("lifecycle")), (
        "the pipeline moves the alias; a plan must not move it back"
    )
    assert "function_version" in str(alias.get("lifecycle"))
    assert functions.resource("aws_lambda_function")["publish"] is True
    out = str(functions.outputs["functions"]["value"])
    assert re.search(r"arn\s*=\s*.*aws_lambda_alias\.live\[name\]\.arn", out), out
    assert re.search(r"invoke_arn\s*=\s*.*aws_lambda_alias\.live\[name\]\.invoke_arn", out), out
    assert "alias_arns" in str(functions.outputs["cognito_trigger_arns"]["value"])
    assert "alias_arns" in str(functions.locals["resource_arns"]), (
        "functions invoking each other (lambda:InvokeFunction) must be granted the alias only"
    )
    assert ":${var.alias_name}" in str(functions.locals["refs"]), (
        "a function name handed to code for an async invoke must carry the alias"
    )


def _depends_on(body: dict[str, Any]) -> str:
    return str(body.get("depends_on", ""))


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("aws_lambda_function", "a function may run before its role can log or reach a table"),
        ("aws_lambda_function_event_invoke_config", "Lambda checks the role may send to the DLQ"),
        ("aws_lambda_event_source_mapping", "Lambda checks the role may read the stream or queue"),
    ],
)
def test_lambda_waits_for_its_roles_policy(tf: dict[str, Config], kind: str, why: str) -> None:
    for name, body in tf["modules/functions"].resources.get(kind, {}).items():
        assert "aws_iam_role_policy.this" in _depends_on(body), (
            f"modules/functions: {kind}.{name} depends on the role only, not its policy ({why})"
        )


def test_api_gateway_account_waits_for_its_policy_and_resets_on_delete(
    tf: dict[str, Config],
) -> None:
    account = tf["modules/websocket_api"].resource("aws_api_gateway_account")
    assert "aws_iam_role_policy_attachment.apigateway_logs" in _depends_on(account), (
        "API Gateway checks the role can write logs when the setting is made"
    )
    assert account.get("reset_on_delete") is True, "destroy must clear the account setting"
