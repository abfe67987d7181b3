"""Parley's Cognito policy, as checkov custom checks (checkov ships none for Cognito).

Loaded by checkov with `--external-checks-dir tests/infra/checks` (in its own environment), and
imported by tests/infra for the same rules over python-hcl2's reading. The rule functions take a
resource's attributes in either shape (checkov wraps every value in a list) and return findings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MIN_PASSWORD_LENGTH = 12
MAX_TEMPORARY_PASSWORD_DAYS = 7
MAX_ACCESS_ID_TOKEN_SECONDS = 60 * 60
MAX_REFRESH_TOKEN_SECONDS = 5 * 24 * 3600
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
# Cognito's units when token_validity_units leaves one out.
_DEFAULT_UNITS = {"access_token": "hours", "id_token": "hours", "refresh_token": "days"}


def _value(raw: Any) -> Any:
    """A scalar without checkov's list wrapping and without HCL quoting."""
    while isinstance(raw, list) and len(raw) == 1 and not isinstance(raw[0], dict):
        raw = raw[0]
    if isinstance(raw, str) and len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    return raw


def _block(conf: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    raw = conf.get(name)
    while isinstance(raw, list):
        raw = raw[0] if raw else {}
    return raw if isinstance(raw, Mapping) else {}


def _number(raw: Any) -> float | None:
    value = _value(raw)
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _true(raw: Any) -> bool:
    value = _value(raw)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def user_pool_findings(conf: Mapping[str, Any]) -> list[str]:
    """What makes an aws_cognito_user_pool weaker than Parley's policy (empty = compliant)."""
    findings = []
    policy = _block(conf, "password_policy")
    length = _number(policy.get("minimum_length"))
    if length is None or length < MIN_PASSWORD_LENGTH:
        findings.append(
            f"password_policy.minimum_length must be ≥ {MIN_PASSWORD_LENGTH} "
            f"(got {_value(policy.get('minimum_length'))!r})"
        )
    for flag in ("require_lowercase", "require_uppercase", "require_numbers", "require_symbols"):
        if not _true(policy.get(flag)):
            findings.append(f"password_policy.{flag} must be true")
    days = _number(policy.get("temporary_password_validity_days"))
    if days is None or days > MAX_TEMPORARY_PASSWORD_DAYS:
        findings.append(
            f"password_policy.temporary_password_validity_days must be ≤ "
            f"{MAX_TEMPORARY_PASSWORD_DAYS}"
        )
    findings.extend(_mfa_findings(conf))
    return findings


MFA_MODES = ("OFF", "OPTIONAL", "ON")
_VARIABLE = re.compile(r"^\$?\{?var\.([A-Za-z0-9_]+)\}?$")


def _mfa_findings(conf: Mapping[str, Any]) -> list[str]:
    """Two-step verification is a setting (`mfa`: OFF, OPTIONAL or ON, the auth module's
    validation), stated on the pool, never Cognito's silent default (OFF); TOTP is the only
    factor (no SMS) and is configured whenever MFA is not OFF. An environment passes its value
    through variables, which checkov does not resolve: then `enabled` must be `var.<that
    variable> != "OFF"`, which is true exactly when MFA is not OFF."""
    findings = []
    mfa = _value(conf.get("mfa_configuration"))
    variable = _VARIABLE.match(mfa) if isinstance(mfa, str) else None
    if mfa is None or (variable is None and mfa not in MFA_MODES):
        findings.append(f"mfa_configuration must be set to OFF, OPTIONAL or ON (got {mfa!r})")
    if conf.get("sms_configuration"):
        findings.append("sms_configuration must be absent: TOTP is the only second factor")
    enabled = _value(_block(conf, "software_token_mfa_configuration").get("enabled"))
    follows = variable is not None and bool(
        re.fullmatch(
            rf'\$?\{{?\s*var\.{variable.group(1)}\s*!=\s*"OFF"\s*\}}?', str(enabled).strip()
        )
    )
    if mfa != "OFF" and not _true(enabled) and not follows:
        findings.append(
            "software_token_mfa_configuration.enabled must be true whenever MFA is not OFF (TOTP)"
        )
    return findings


def _validity_seconds(conf: Mapping[str, Any], token: str) -> float | None:
    amount = _number(conf.get(f"{token}_validity"))
    if amount is None:
        return None
    unit = _value(_block(conf, "token_validity_units").get(token)) or _DEFAULT_UNITS[token]
    return amount * _UNIT_SECONDS.get(str(unit), 0) or None


def user_pool_client_findings(conf: Mapping[str, Any]) -> list[str]:
    """What makes an aws_cognito_user_pool_client weaker than Parley's policy."""
    findings = []
    if _value(conf.get("prevent_user_existence_errors")) != "ENABLED":
        findings.append("prevent_user_existence_errors must be ENABLED")
    if not _true(conf.get("enable_token_revocation")):
        findings.append("enable_token_revocation must be true")
    for token, limit in (
        ("access_token", MAX_ACCESS_ID_TOKEN_SECONDS),
        ("id_token", MAX_ACCESS_ID_TOKEN_SECONDS),
        ("refresh_token", MAX_REFRESH_TOKEN_SECONDS),
    ):
        seconds = _validity_seconds(conf, token)
        if seconds is None or seconds > limit:
            findings.append(f"{token}_validity must be set and at most {limit // 60} minutes")
    findings.extend(_oauth_findings(conf))
    return findings


_WEAK_FLOWS = re.compile(r"\b(implicit|client_credentials)\b")


def _oauth_findings(conf: Mapping[str, Any]) -> list[str]:
    """The web app is a public client that signs in through the hosted endpoints with the
    authorization code flow and PKCE: no secret (it could not keep one), no implicit flow (tokens
    in the URL), no client credentials. A conditional list (`local.federated ? ["code"] : null`)
    is read as written."""
    findings = []
    if _true(conf.get("generate_secret")):
        findings.append("generate_secret must be false: the web app is a public client (PKCE)")
    flows = conf.get("allowed_oauth_flows")
    if flows is not None and _WEAK_FLOWS.search(str(flows)):
        findings.append("allowed_oauth_flows must be the authorization code flow only")
    return findings


try:
    from checkov.common.models.enums import CheckCategories, CheckResult
    from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
except ImportError:  # imported by the tests, outside checkov's environment
    pass
else:

    class CognitoUserPoolPolicy(BaseResourceCheck):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(
                name="Cognito user pool: strong passwords, MFA stated, TOTP (no SMS) when on",
                id="CKV_PARLEY_1",
                categories=[CheckCategories.IAM],
                supported_resources=["aws_cognito_user_pool"],
            )

        def scan_resource_conf(self, conf: dict[str, Any]) -> Any:
            findings = user_pool_findings(conf)
            self.details = findings
            return CheckResult.FAILED if findings else CheckResult.PASSED

    class CognitoClientPolicy(BaseResourceCheck):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(
                name="Cognito app client: no user-existence errors, revocable, short-lived tokens",
                id="CKV_PARLEY_2",
                categories=[CheckCategories.IAM],
                supported_resources=["aws_cognito_user_pool_client"],
            )

        def scan_resource_conf(self, conf: dict[str, Any]) -> Any:
            findings = user_pool_client_findings(conf)
            self.details = findings
            return CheckResult.FAILED if findings else CheckResult.PASSED

    user_pool_check = CognitoUserPoolPolicy()
    client_check = CognitoClientPolicy()
