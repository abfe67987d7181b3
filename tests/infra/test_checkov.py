"""checkov over terraform/: zero failures, every skip explained, Parley's Cognito checks active."""

from __future__ import annotations

import re
from typing import Any

from tasks.infra import TERRAFORM_DIR, tf_files
from tests.infra.checks.cognito import user_pool_client_findings, user_pool_findings
from tests.infra.hcl import load_config, resolve

SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")
FIXTURE_PREFIX = "/_fixtures/"


def _results(report: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(report.get("results", {}).get(kind, []))


def test_checkov_finds_no_failures(checkov_report: dict[str, Any]) -> None:
    failed = [
        f
        for f in _results(checkov_report, "failed_checks")
        if not f["file_path"].startswith(FIXTURE_PREFIX)
    ]
    assert not failed, "checkov failures (fix, or skip with a written reason):\n" + "\n".join(
        f"  {f['check_id']} {f['check_name']}: {f['resource']} ({f['file_path']})" for f in failed
    )
    assert checkov_report["summary"]["parsing_errors"] == 0
    assert checkov_report["summary"]["resource_count"] > 50


def test_every_skip_carries_a_written_reason(checkov_report: dict[str, Any]) -> None:
    unexplained = []
    for path in tf_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = SKIP.search(line)
            if match and len((match.group(2) or "").strip()) < 20:
                unexplained.append(f"{path.relative_to(TERRAFORM_DIR)}:{number}: {line.strip()}")
    assert not unexplained, "checkov skips need a reason of a sentence:\n" + "\n".join(unexplained)
    skipped = _results(checkov_report, "skipped_checks")
    assert skipped, "the report lists no skipped checks: were the skip comments read?"
    for check in skipped:
        assert check.get("check_result", {}).get("suppress_comment"), (
            f"{check['check_id']} on {check['resource']} skipped without a reason"
        )


def test_parley_cognito_checks_pass_on_the_auth_module(checkov_report: dict[str, Any]) -> None:
    passed = {
        (f["check_id"], f["resource"])
        for f in _results(checkov_report, "passed_checks")
        if f["check_id"].startswith("CKV_PARLEY_")
    }
    # The environments call modules/parley, which calls modules/auth.
    auth = "module.parley.module.auth"
    assert ("CKV_PARLEY_1", f"{auth}.aws_cognito_user_pool.this") in passed, passed
    assert ("CKV_PARLEY_2", f"{auth}.aws_cognito_user_pool_client.web") in passed, passed


def test_parley_cognito_checks_fail_a_weak_pool(checkov_report: dict[str, Any]) -> None:
    failed = {
        f["check_id"]: f
        for f in _results(checkov_report, "failed_checks")
        if f["file_path"].startswith(FIXTURE_PREFIX) and f["check_id"].startswith("CKV_PARLEY_")
    }
    assert set(failed) == {"CKV_PARLEY_1", "CKV_PARLEY_2"}, sorted(failed)


def test_cognito_policy_over_python_hcl2() -> None:
    auth = load_config(TERRAFORM_DIR / "modules" / "auth")
    pool = dict(auth.resource("aws_cognito_user_pool"))  # mfa_configuration: ${var.mfa}
    policy = dict(pool["password_policy"][0])
    policy["minimum_length"] = resolve(auth, policy["minimum_length"])
    pool["password_policy"] = [policy]
    assert user_pool_findings(pool) == []
    assert user_pool_client_findings(auth.resource("aws_cognito_user_pool_client", "web")) == []
    # The variable's own validation keeps callers from weakening the pool.
    length_rule = auth.variables["password_minimum_length"]["validation"][0]["condition"]
    assert ">= 12" in length_rule
    # MFA is one of three settings, TOTP only, and the pool configures TOTP whenever it is on.
    mfa_rule = auth.variables["mfa"]["validation"][0]["condition"]
    assert '["OFF", "OPTIONAL", "ON"]' in mfa_rule.replace("'", '"'), mfa_rule
    assert auth.variables["mfa"]["default"] == "OPTIONAL"
    assert resolve(auth, pool["mfa_configuration"]) == "OPTIONAL"


def test_the_mfa_rule_follows_the_setting() -> None:
    totp = [{"enabled": True}]
    follows = [{"enabled": '${var.mfa != "OFF"}'}]
    for pool, wrong in (
        ({"mfa_configuration": "ON", "software_token_mfa_configuration": totp}, None),
        ({"mfa_configuration": "OFF"}, None),
        ({"mfa_configuration": "var.mfa", "software_token_mfa_configuration": follows}, None),
        ({"mfa_configuration": "var.mfa", "software_token_mfa_configuration": totp}, None),
        ({}, "mfa_configuration must be set"),
        ({"mfa_configuration": "OPTIONAL"}, "software_token_mfa_configuration.enabled"),
        (
            {
                "mfa_configuration": "var.mfa",
                "software_token_mfa_configuration": [{"enabled": '${var.other != "OFF"}'}],
            },
            "software_token_mfa_configuration.enabled",
        ),
        (
            {
                "mfa_configuration": "ON",
                "software_token_mfa_configuration": totp,
                "sms_configuration": [{"external_id": "x"}],
            },
            "sms_configuration must be absent",
        ),
    ):
        findings = [f for f in user_pool_findings(pool) if "password_policy" not in f]
        if wrong is None:
            assert findings == [], (pool, findings)
        else:
            assert any(wrong in f for f in findings), (pool, findings)


def test_cognito_policy_names_each_weakness() -> None:
    pool = {
        "mfa_configuration": "SMS",
        "password_policy": [{"minimum_length": 8, "require_lowercase": True}],
    }
    findings = user_pool_findings(pool)
    assert any("minimum_length must be ≥ 12" in f for f in findings)
    assert any("require_symbols" in f for f in findings)
    assert any("mfa_configuration" in f for f in findings)
    assert any("software_token_mfa_configuration" in f for f in findings)
    client = {
        "prevent_user_existence_errors": "LEGACY",
        "enable_token_revocation": True,
        "access_token_validity": 2,  # hours, Cognito's default unit
        "id_token_validity": 60,
        "refresh_token_validity": 60,
        "token_validity_units": [{"id_token": "minutes", "refresh_token": "minutes"}],
    }
    findings = user_pool_client_findings(client)
    assert findings == [
        "prevent_user_existence_errors must be ENABLED",
        "access_token_validity must be set and at most 60 minutes",
    ]


def test_the_web_client_signs_in_through_the_code_flow_with_pkce_only() -> None:
    client = {
        "prevent_user_existence_errors": "ENABLED",
        "enable_token_revocation": True,
        "access_token_validity": 60,
        "id_token_validity": 60,
        "refresh_token_validity": 5,
        "token_validity_units": [{"access_token": "minutes", "id_token": "minutes"}],
    }
    assert (
        user_pool_client_findings(
            {**client, "allowed_oauth_flows": '${local.federated ? ["code"] : null}'}
        )
        == []
    )
    assert user_pool_client_findings({**client, "allowed_oauth_flows": [["code", "implicit"]]}) == [
        "allowed_oauth_flows must be the authorization code flow only"
    ]
    assert user_pool_client_findings({**client, "allowed_oauth_flows": ["client_credentials"]}) == [
        "allowed_oauth_flows must be the authorization code flow only"
    ]
    assert user_pool_client_findings({**client, "generate_secret": [True]}) == [
        "generate_secret must be false: the web app is a public client (PKCE)"
    ]
