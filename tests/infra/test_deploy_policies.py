"""Policy-level tests of the release path: the deploy roles' GitHub OIDC trust, what each role
may do, and the artifacts bucket's and key's policies — rendered by Terraform from
modules/deploy_policies with the accounts and environments of envs/bootstrap's tfvars, then
evaluated request by request (tests/infra/iam_eval.py).

Production lives in another account than the artifacts bucket, so its requests need both its
role's policy and the bucket's (or key's) policy to allow them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tasks.infra import TERRAFORM_DIR, run_terraform
from tests.infra.hcl import parse_file
from tests.infra.iam_eval import Request, allowed, allowed_cross_account, decision

BOOTSTRAP = TERRAFORM_DIR / "envs" / "bootstrap"
OIDC = "token.actions.githubusercontent.com"


def _tfvars(name: str) -> dict[str, Any]:
    return parse_file(BOOTSTRAP / name)


DEV = _tfvars("dev.tfvars")
PROD = _tfvars("prod.tfvars")
DEV_ACCOUNT = DEV["allowed_account_ids"][0]
PROD_ACCOUNT = PROD["allowed_account_ids"][0]
REPO = DEV["github_repository"]
BUCKET = DEV["artifacts_bucket"]
B = f"arn:aws:s3:::{BUCKET}"
DEV_KEY = f"arn:aws:kms:eu-west-1:{DEV_ACCOUNT}:key/dev-artifacts"
STATE_KEY = "arn:aws:kms:eu-west-1:{account}:key/state"


def _hcl(value: Any) -> str:
    return json.dumps(value)  # JSON is valid HCL for these values


def _module(name: str, tfvars: dict[str, Any], account: str, **extra: Any) -> str:
    args = {
        "account_id": account,
        "region": tfvars["region"],
        "github_repository": tfvars["github_repository"],
        "oidc_provider_arn": f"arn:aws:iam::{account}:oidc-provider/{OIDC}",
        "environments": tfvars["deploy_environments"],
        "state_bucket": tfvars["state_bucket"],
        "state_kms_key_arn": STATE_KEY.format(account=account),
        **extra,
    }
    body = "\n".join(f"  {k} = {_hcl(v)}" for k, v in args.items())
    source = TERRAFORM_DIR / "modules" / "deploy_policies"
    return (
        f'module "{name}" {{\n  source = "{source}"\n{body}\n}}\n'
        f'output "{name}" {{\n  value = module.{name}\n}}\n'
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both accounts' documents, as Terraform renders them (no provider, no AWS)."""
    root: Path = tmp_path_factory.mktemp("deploy-policies")
    (root / "main.tf").write_text(
        _module(
            "dev_account", DEV, DEV_ACCOUNT,
            plan_role=True,
            artifacts_bucket=BUCKET,
            artifacts_kms_key_arn=DEV_KEY,
            promote_accounts=DEV["artifacts_promote_accounts"],
        )
        + _module(
            "prod_account", PROD, PROD_ACCOUNT,
            artifacts_bucket=PROD["deploy_from_artifacts_bucket"],
            artifacts_kms_key_arn=DEV_KEY,
        )
    )  # fmt: skip
    for args in (["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-no-color"]):
        done = run_terraform(args, root)
        assert done.returncode == 0, done.stdout + done.stderr
    out = run_terraform(["output", "-json"], root)
    assert out.returncode == 0, out.stderr
    return {k: v["value"] for k, v in json.loads(out.stdout).items()}


def _role(account: str, env: str) -> str:
    return f"arn:aws:iam::{account}:role/parley-deploy-{env}"


# ── the artifacts bucket: prod (another account) plans and promotes ──────────────────────────


def _prod_s3(rendered: dict[str, Any], action: str, key: str, **context: str) -> bool:
    request = Request(action, f"{B}/{key}" if key else B, _role(PROD_ACCOUNT, "prod"), context)
    return allowed_cross_account(
        rendered["prod_account"]["role_policies"]["prod"],
        rendered["dev_account"]["artifacts_bucket_policy"],
        request,
    )


@pytest.mark.parametrize(
    "key", ["releases/prod.json", "releases/dev.json", "sha256/" + "a" * 64 + ".zip"]
)
def test_prod_plan_reads_records_and_artifacts_with_their_tags(
    rendered: dict[str, Any], key: str
) -> None:
    # provider 5.x's data "aws_s3_object" also calls GetObjectTagging: without it prod cannot plan.
    for action in ("s3:GetObject", "s3:GetObjectTagging"):
        assert _prod_s3(rendered, action, key), f"prod cannot {action} {key}"


def test_prod_promote_writes_only_its_own_record_and_history(rendered: dict[str, Any]) -> None:
    assert _prod_s3(rendered, "s3:PutObject", "releases/prod.json")
    assert _prod_s3(rendered, "s3:PutObject", "releases/prod/history/20260101T000000Z-abc.json")
    assert _prod_s3(rendered, "s3:DeleteObject", "releases/prod/history/20260101T000000Z-abc.json")
    refused = [
        ("s3:PutObject", "releases/dev.json"),
        ("s3:PutObject", "releases/dev/history/x.json"),
        ("s3:PutObject", "sha256/" + "a" * 64 + ".zip"),  # promotion never changes a byte
        ("s3:DeleteObject", "releases/prod.json"),
        ("s3:DeleteObject", "sha256/" + "a" * 64 + ".zip"),
        ("s3:GetObject", "elsewhere/secret.txt"),
    ]
    for action, key in refused:
        assert not _prod_s3(rendered, action, key), f"prod may {action} {key}"


def test_prod_lists_only_the_release_prefixes(rendered: dict[str, Any]) -> None:
    # Without ListBucket a missing record reads as 403, not 404.
    for prefix in ("releases/", "releases/prod/history/", "sha256/"):
        assert _prod_s3(rendered, "s3:ListBucket", "", **{"s3:prefix": prefix}), prefix
    assert not _prod_s3(rendered, "s3:ListBucket", "", **{"s3:prefix": "other/"})
    assert not _prod_s3(rendered, "s3:ListBucket", "")


def test_prod_encrypts_and_decrypts_with_the_artifacts_key_through_s3_only(
    rendered: dict[str, Any],
) -> None:
    key_policy = rendered["dev_account"]["artifacts_key_policy"]
    identity = rendered["prod_account"]["role_policies"]["prod"]
    via_s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        request = Request(action, DEV_KEY, _role(PROD_ACCOUNT, "prod"), via_s3)
        assert allowed_cross_account(identity, key_policy, request), action
        direct = Request(action, DEV_KEY, _role(PROD_ACCOUNT, "prod"))
        assert not allowed_cross_account(identity, key_policy, direct), f"{action} outside S3"
    delete = Request("kms:ScheduleKeyDeletion", DEV_KEY, _role(PROD_ACCOUNT, "prod"), via_s3)
    assert not allowed_cross_account(identity, key_policy, delete)


def test_no_other_principal_of_the_prod_account_is_let_in(rendered: dict[str, Any]) -> None:
    bucket = rendered["dev_account"]["artifacts_bucket_policy"]
    someone = Request(
        "s3:GetObject", f"{B}/releases/prod.json", f"arn:aws:iam::{PROD_ACCOUNT}:role/other"
    )
    assert decision(bucket, someone) != "allow"
    stranger = Request(
        "s3:GetObject",
        f"{B}/releases/prod.json",
        "arn:aws:iam::333333333333:role/parley-deploy-prod",
    )
    assert decision(bucket, stranger) != "allow"  # fmt: skip


def test_the_bucket_refuses_plain_http(rendered: dict[str, Any]) -> None:
    bucket = rendered["dev_account"]["artifacts_bucket_policy"]
    request = Request("s3:GetObject", f"{B}/releases/prod.json", _role(PROD_ACCOUNT, "prod"),
                      {"aws:SecureTransport": "false"})  # fmt: skip
    assert decision(bucket, request) == "deny"


def test_dev_publishes_artifacts_and_pins_only_dev(rendered: dict[str, Any]) -> None:
    policy = rendered["dev_account"]["role_policies"]["dev"]
    dev = _role(DEV_ACCOUNT, "dev")
    for action, key in [("s3:PutObject", "sha256/" + "b" * 64 + ".zip"),
                        ("s3:PutObject", "releases/dev.json"),
                        ("s3:GetObjectTagging", "releases/dev.json"),
                        ("s3:DeleteObject", "releases/dev/history/x.json")]:  # fmt: skip
        assert allowed(policy, Request(action, f"{B}/{key}", dev)), f"{action} {key}"
    for action, key in [("s3:PutObject", "releases/prod.json"),
                        ("s3:DeleteObject", "sha256/" + "b" * 64 + ".zip")]:  # fmt: skip
        assert not allowed(policy, Request(action, f"{B}/{key}", dev)), f"{action} {key}"
    kms = Request("kms:GenerateDataKey", DEV_KEY, dev)
    assert allowed(policy, kms)


# ── each role: only its own environment ────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("account", "env", "other"), [("dev_account", "dev", "prod"), ("prod_account", "prod", "dev")]
)
def test_a_deploy_role_changes_only_its_own_environment(
    rendered: dict[str, Any], account: str, env: str, other: str
) -> None:
    policy = rendered[account]["role_policies"][env]
    number = DEV_ACCOUNT if env == "dev" else PROD_ACCOUNT
    fn = f"arn:aws:lambda:eu-west-1:{number}:function:parley-{{}}-chat_api"
    role = _role(number, env)
    for action in ("lambda:UpdateFunctionCode", "lambda:UpdateAlias", "lambda:PublishVersion"):
        assert allowed(policy, Request(action, fn.format(env), role)), action
        assert not allowed(policy, Request(action, fn.format(other), role)), action
    bucket = (DEV if env == "dev" else PROD)["state_bucket"]
    state = f"arn:aws:s3:::{bucket}/parley/{{}}/terraform.tfstate"
    assert allowed(policy, Request("s3:PutObject", state.format(env), role))
    assert not allowed(policy, Request("s3:PutObject", state.format(other), role))
    # Roles it creates: its own names only, and only the one managed policy Parley attaches.
    own_role = f"arn:aws:iam::{number}:role/parley-{env}-chat_api"
    assert allowed(policy, Request("iam:PutRolePolicy", own_role, role))
    assert not allowed(
        policy, Request("iam:PutRolePolicy", f"arn:aws:iam::{number}:role/admin", role)
    )
    admin = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert not allowed(policy, Request("iam:AttachRolePolicy", own_role, role, admin))
    # Resources with generated ids: only those tagged with its environment.
    pool = f"arn:aws:cognito-idp:eu-west-1:{number}:userpool/eu-west-1_abc"
    tagged = {"aws:ResourceTag/Environment": env}
    assert allowed(policy, Request("cognito-idp:UpdateUserPool", pool, role, tagged))
    other_tag = {"aws:ResourceTag/Environment": other}
    assert not allowed(policy, Request("cognito-idp:UpdateUserPool", pool, role, other_tag))


ZONE = "Z0123456789ABCDEFGHIJ"


@pytest.fixture(scope="module")
def with_zone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Dev's documents when its custom_domain makes records in a Route 53 zone."""
    root: Path = tmp_path_factory.mktemp("deploy-policies-zone")
    environments = {"dev": {**DEV["deploy_environments"]["dev"], "dns_zone_ids": [ZONE]}}
    (root / "main.tf").write_text(
        _module(
            "dev_account", DEV, DEV_ACCOUNT,
            environments=environments,
            artifacts_bucket=BUCKET,
            artifacts_kms_key_arn=DEV_KEY,
        )
    )  # fmt: skip
    for args in (["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-no-color"]):
        done = run_terraform(args, root)
        assert done.returncode == 0, done.stdout + done.stderr
    out = run_terraform(["output", "-json"], root)
    assert out.returncode == 0, out.stderr
    return {k: v["value"] for k, v in json.loads(out.stdout).items()}


def test_custom_domain_certificates_are_the_environments_by_tag(rendered: dict[str, Any]) -> None:
    policy = rendered["dev_account"]["role_policies"]["dev"]
    role = _role(DEV_ACCOUNT, "dev")
    certificate = f"arn:aws:acm:us-east-1:{DEV_ACCOUNT}:certificate/0a1b"
    own, other = {"aws:ResourceTag/Environment": "dev"}, {"aws:ResourceTag/Environment": "prod"}
    assert allowed(
        policy, Request("acm:RequestCertificate", "*", role, {"aws:RequestTag/Environment": "dev"})
    )
    assert not allowed(
        policy, Request("acm:RequestCertificate", "*", role, {"aws:RequestTag/Environment": "prod"})
    )
    assert allowed(policy, Request("acm:DeleteCertificate", certificate, role, own))
    assert not allowed(policy, Request("acm:DeleteCertificate", certificate, role, other))


def test_dns_records_change_only_in_the_environments_own_zones(
    rendered: dict[str, Any], with_zone: dict[str, Any]
) -> None:
    role = _role(DEV_ACCOUNT, "dev")
    zone = f"arn:aws:route53:::hostedzone/{ZONE}"
    # No zone listed: no record anywhere.
    without = rendered["dev_account"]["role_policies"]["dev"]
    assert not allowed(without, Request("route53:ChangeResourceRecordSets", zone, role))
    policy = with_zone["dev_account"]["role_policies"]["dev"]
    for action in ("route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"):
        assert allowed(policy, Request(action, zone, role)), action
    assert allowed(policy, Request("route53:GetChange", "arn:aws:route53:::change/C0123", role))
    other_zone = "arn:aws:route53:::hostedzone/ZOTHERZONE0000000000"
    assert not allowed(policy, Request("route53:ChangeResourceRecordSets", other_zone, role))
    assert not allowed(policy, Request("route53:DeleteHostedZone", zone, role))


def test_the_plan_role_changes_nothing(rendered: dict[str, Any]) -> None:
    policy = rendered["dev_account"]["role_policies"]["plan"]
    role = f"arn:aws:iam::{DEV_ACCOUNT}:role/parley-deploy-plan"
    assert allowed(policy, Request("s3:GetObjectTagging", f"{B}/releases/dev.json", role))
    assert allowed(
        policy,
        Request("lambda:GetFunction", "arn:aws:lambda:eu-west-1:1:function:parley-dev-x", role),
    )
    # A custom_domain's certificates and records are read to plan.
    assert allowed(
        policy, Request("acm:DescribeCertificate", "arn:aws:acm:us-east-1:1:certificate/x", role)
    )
    assert allowed(
        policy, Request("route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/Z1", role)
    )
    for action, resource in [
        ("s3:PutObject", f"{B}/releases/dev.json"),
        ("s3:PutObject", f"arn:aws:s3:::{DEV['state_bucket']}/parley/dev/terraform.tfstate.tflock"),
        ("lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:1:function:parley-dev-x"),
        ("iam:PassRole", "arn:aws:iam::1:role/parley-dev-x"),
        ("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"),
        ("acm:RequestCertificate", "*"),
        ("ssm:GetParameter", "arn:aws:ssm:eu-west-1:1:parameter/parley/dev/model-api-key"),
        ("s3:GetObject", f"{B}/sha256/" + "c" * 64 + ".zip"),
    ]:  # fmt: skip
        assert not allowed(policy, Request(action, resource, role)), f"plan may {action}"


# ── the OIDC trust ────────────────────────────────────────────────────────────────────────


def _assume(
    rendered: dict[str, Any], account: str, role: str, sub: str, aud: str = "sts.amazonaws.com"
) -> bool:
    trust = json.loads(rendered[account]["trust_policies"][role])
    number = DEV_ACCOUNT if account == "dev_account" else PROD_ACCOUNT
    provider = f"arn:aws:iam::{number}:oidc-provider/{OIDC}"
    statements = trust["Statement"]
    assert all(s["Principal"] == {"Federated": provider} for s in statements)
    request = Request("sts:AssumeRoleWithWebIdentity", "*", provider,
                      {f"{OIDC}:sub": sub, f"{OIDC}:aud": aud})  # fmt: skip
    return allowed({"Statement": [{**s, "Principal": None} for s in statements]}, request)


def test_prod_trusts_only_this_repository_its_environment_and_its_refs(
    rendered: dict[str, Any],
) -> None:
    ok = [f"repo:{REPO}:environment:prod:ref:refs/tags/v1.4.0",
          f"repo:{REPO}:environment:prod:ref:refs/heads/main"]  # fmt: skip
    for sub in ok:
        assert _assume(rendered, "prod_account", "prod", sub), sub
    refused = [
        "repo:someone/fork:environment:prod:ref:refs/tags/v1.4.0",  # another repository
        f"repo:{REPO}-old:environment:prod:ref:refs/heads/main",  # a look-alike name
        f"repo:{REPO}:environment:prod:ref:refs/heads/feature",  # another branch
        f"repo:{REPO}:environment:dev:ref:refs/heads/main",  # another environment
        f"repo:{REPO}:environment:staging:ref:refs/tags/v1.4.0",
        f"repo:{REPO}:pull_request:ref:refs/pull/7/merge",  # a pull request
        f"repo:{REPO}:ref:refs/heads/main",  # a job outside any environment
    ]
    for sub in refused:
        assert not _assume(rendered, "prod_account", "prod", sub), sub
    assert not _assume(rendered, "prod_account", "prod", ok[0], aud="https://example.com")


def test_dev_trusts_only_main_in_the_dev_environment(rendered: dict[str, Any]) -> None:
    assert _assume(
        rendered, "dev_account", "dev", f"repo:{REPO}:environment:dev:ref:refs/heads/main"
    )
    for sub in [f"repo:{REPO}:environment:dev:ref:refs/heads/topic",
                f"repo:{REPO}:environment:dev:ref:refs/tags/v1.0.0",
                f"repo:{REPO}:environment:prod:ref:refs/heads/main",
                "repo:other/parley:environment:dev:ref:refs/heads/main"]:  # fmt: skip
        assert not _assume(rendered, "dev_account", "dev", sub), sub


def test_pull_requests_get_only_the_plan_role(rendered: dict[str, Any]) -> None:
    pr = f"repo:{REPO}:pull_request:ref:refs/pull/12/merge"
    assert _assume(rendered, "dev_account", "plan", pr)
    assert not _assume(rendered, "dev_account", "plan", pr.replace(REPO, "other/repo"))
    assert not _assume(
        rendered, "dev_account", "plan", f"repo:{REPO}:environment:dev:ref:refs/heads/main"
    )
    assert not _assume(rendered, "dev_account", "dev", pr)


@pytest.mark.parametrize(("account", "env", "other"), [("dev_account", "dev", "prod")])
def test_a_deploy_role_reads_only_its_own_identity_provider_secrets(
    rendered: dict[str, Any], account: str, env: str, other: str
) -> None:
    """identity_providers name their client secrets under parley/<env>/ in SSM or Secrets
    Manager: the environment's deploy role reads those and no others; the plan role none."""
    policy = rendered[account]["role_policies"][env]
    role = _role(DEV_ACCOUNT, env)
    secret = f"arn:aws:secretsmanager:eu-west-1:{DEV_ACCOUNT}:secret:parley/{{}}/idp/corp-AbCdEf"
    parameter = f"arn:aws:ssm:eu-west-1:{DEV_ACCOUNT}:parameter/parley/{{}}/idp/corp"
    assert allowed(policy, Request("secretsmanager:GetSecretValue", secret.format(env), role))
    assert not allowed(policy, Request("secretsmanager:GetSecretValue", secret.format(other), role))
    assert allowed(policy, Request("ssm:GetParameter", parameter.format(env), role))
    assert not allowed(policy, Request("ssm:GetParameter", parameter.format(other), role))
    for action in ("secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret"):
        assert not allowed(policy, Request(action, secret.format(env), role)), action
    plan = rendered[account]["role_policies"]["plan"]
    plan_role = f"arn:aws:iam::{DEV_ACCOUNT}:role/parley-deploy-plan"
    assert not allowed(
        plan, Request("secretsmanager:GetSecretValue", secret.format(env), plan_role)
    )


def test_the_plan_role_reads_only_the_model_catalogs_item(rendered: dict[str, Any]) -> None:
    """modules/parley's aws_dynamodb_table_item is refreshed to plan: the plan role may read the
    chat table's CONFIG items (the model catalog), and nothing a person wrote."""
    policy = rendered["dev_account"]["role_policies"]["plan"]
    role = f"arn:aws:iam::{DEV_ACCOUNT}:role/parley-deploy-plan"
    chat = f"arn:aws:dynamodb:eu-west-1:{DEV_ACCOUNT}:table/parley-dev-chat"

    def get(resource: str, *keys: str) -> bool:
        return allowed(
            policy,
            Request("dynamodb:GetItem", resource, role, {"dynamodb:LeadingKeys": list(keys)}),
        )

    assert get(chat, "CONFIG")
    assert not get(chat, "CONV#01JDX40A1B2C3D4E5F6G7H8J9K")
    assert not get(chat, "USER#someone")
    assert not get(chat, "CONFIG", "USER#someone")
    assert not get(
        f"arn:aws:dynamodb:eu-west-1:{DEV_ACCOUNT}:table/parley-dev-connections", "CONFIG"
    )
    for action in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan"):
        request = Request(action, chat, role, {"dynamodb:LeadingKeys": ["CONFIG"]})
        assert not allowed(policy, request), f"plan may {action}"
