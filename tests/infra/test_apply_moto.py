"""`terraform apply` of envs/dev against moto: the real AWS provider creates Parley's functions,
roles, tables, user pool and both APIs in a local AWS emulator, and the result is read back
with boto3 and compared with the manifest, the tables and the code's expectations.

The web app (CloudFront) is left out: moto implements neither response-headers policies nor
AWS-managed IAM policies, so the apply targets every other module and the HTTP API's CORS
origin is given directly. Needs a local provider mirror (see test_validate.py).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from tasks.core import release
from tasks.core.manifest import ROOT, Manifest, Ref
from tasks.infra import TERRAFORM_DIR, provider_mirror, run_terraform
from tests.infra.hcl import load_config
from tests.infra.iam_eval import Request, allowed
from tests.support.moto_server import MotoServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        provider_mirror() is None,
        reason="no Terraform provider mirror here (TF_PLUGIN_MIRROR): apply needs hashicorp/aws",
    ),
    # The apply creates every module's resources (the workflows module added the schedule, the
    # state machine and the exports bucket): more than the default 300 s on a loaded machine.
    pytest.mark.timeout(900),
]

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
BUCKET = f"parley-artifacts-{ACCOUNT}"
PREFIX = "parley-dev"
APP_ORIGIN = "https://app.parley.test"
TARGETS = ["data", "auth", "functions", "http_api", "websocket_api", "workflows", "observability"]
# envs/dev/models.yaml's Bedrock models: inference profiles (eu.…), granted on the profile and
# on the base model in any of its regions, and nothing else.
DEV_BEDROCK_ARNS = [
    arn
    for model in ("anthropic.claude-3-haiku-20240307-v1:0", "amazon.nova-lite-v1:0",
                  "amazon.nova-micro-v1:0")
    for arn in (f"arn:aws:bedrock:*::foundation-model/{model}",
                f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/eu.{model}")
]  # fmt: skip

OVERRIDE = f"""
terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
}}

# The us-east-1 configuration (custom_domain's app certificate; null here) points at moto too.
provider "aws" {{
  alias                       = "us_east_1"
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
}}

"""

# An override file in the composition (modules/parley), where module.http_api is called.
COMPOSITION_OVERRIDE = f"""
module "http_api" {{
  cors_allow_origins = ["{APP_ORIGIN}"]
}}

module "auth" {{
  app_url = "{APP_ORIGIN}"
}}

locals {{
  app_origin = "{APP_ORIGIN}"
}}
"""

# Federated sign-in: one OIDC provider whose client secret is in SSM (created before the apply).
IDP_SECRET_PARAMETER = "/parley/dev/idp/corp"
IDP_SECRET = "s3cret-from-ssm"

# This environment's own reservation for one function; the others keep the manifest's.
RESERVED_OVERRIDE = {"chat_api": 7}

TFVARS = f"""
reserved_concurrency            = {{ chat_api = {RESERVED_OVERRIDE["chat_api"]} }}
environment                     = "dev"
region                          = "{REGION}"
allowed_account_ids             = ["{ACCOUNT}"]
artifacts_bucket                = "{BUCKET}"
daily_token_quota               = 5000
deletion_protection             = false
manage_api_gateway_account_role = false
identity_providers = {{
  corp = {{
    type                    = "OIDC"
    label                   = "Example Corp"
    issuer                  = "https://login.example.com"
    client_id               = "parley-web"
    client_secret_parameter = "{IDP_SECRET_PARAMETER}"
  }}
}}
"""


@dataclass
class Deployed:
    url: str
    outputs: dict[str, Any]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _publish(url: str, manifest: Manifest, root: Path) -> None:
    """Publish a small build with the release code itself (`invoke publish`'s core), so the
    record Terraform reads is exactly what the release tooling writes."""
    s3 = Deployed(url, {}).client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})

    def build(key: str, kind: str, relative: str, **extra: Any) -> tuple[str, dict[str, Any]]:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"{key.partition(':')[2] or key}/__init__.py", "")
        data = buffer.getvalue()
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
        digest = hashlib.sha256(data)
        return key, {"kind": kind, "path": relative, "size": len(data), "unzipped_size": 1,
                     "sha256": digest.hexdigest(),
                     "sha256_base64": base64.b64encode(digest.digest()).decode(),
                     "s3_key": f"sha256/{digest.hexdigest()}.zip", **extra}  # fmt: skip

    artifacts = dict(
        [
            build(f"layer:{manifest.layer.name}", "layer", "dist/layers/deps-arm64.zip"),
            build("frontend", "frontend", "dist/frontend.zip"),
            *(
                build(f"function:{name}", "function", f"dist/functions/{name}.zip",
                      entry={"handler": fn.handler})
                for name, fn in manifest.functions.items()
            ),
        ]
    )  # fmt: skip
    build_manifest = release.BuildManifest.model_validate(
        {"version": 1, "runtime": manifest.defaults.runtime,
         "architecture": manifest.defaults.architecture, "artifacts": artifacts}
    )  # fmt: skip
    release.publish(
        s3,
        BUCKET,
        build_manifest,
        root=root,
        env="dev",
        git_commit="0" * 40,
        now=datetime.now(UTC),
        progress=lambda _: None,
    )


def _validate_definition(self: Any) -> Any:
    """ValidateStateMachineDefinition, which the AWS provider calls before it creates a state
    machine and moto does not implement: answered by asl-validator on the definition sent."""
    import tempfile

    from moto.core.responses import ActionResult

    from tasks.workflows import validate

    with tempfile.NamedTemporaryFile("w", suffix=".asl.json", delete=False) as file:
        file.write(self._get_param("definition"))
    complaint = validate(Path(file.name))
    Path(file.name).unlink()
    if complaint is None:
        return ActionResult({"result": "OK", "diagnostics": []})
    diagnostic = {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": complaint}
    return ActionResult({"result": "FAIL", "diagnostics": [diagnostic]})


def _no_versions(self: Any) -> Any:
    """ListStateMachineVersions, which the AWS provider reads and moto does not implement: the
    module publishes no versions, so there are none."""
    from moto.core.responses import ActionResult

    return ActionResult({"stateMachineVersions": []})


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, manifest: Manifest) -> Iterator[Deployed]:
    from moto.stepfunctions.responses import StepFunctionResponse

    patch = pytest.MonkeyPatch()
    patch.setattr(
        StepFunctionResponse,
        "validate_state_machine_definition",
        _validate_definition,
        raising=False,
    )
    patch.setattr(StepFunctionResponse, "list_state_machine_versions", _no_versions, raising=False)
    server = MotoServer().start()
    try:
        repo = tmp_path_factory.mktemp("apply")
        _publish(server.url, manifest, repo / "build")
        ssm = boto3.client(
            "ssm", endpoint_url=server.url, region_name=REGION,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        ssm.put_parameter(Name=IDP_SECRET_PARAMETER, Value=IDP_SECRET, Type="SecureString")
        shutil.copytree(
            TERRAFORM_DIR, repo / "terraform", ignore=shutil.ignore_patterns(".terraform*")
        )
        (repo / "functions").mkdir()
        for name in ("manifest.yaml", "tables.yaml"):
            shutil.copy(ROOT / "functions" / name, repo / "functions" / name)
        shutil.copytree(ROOT / "functions" / "workflows", repo / "functions" / "workflows")
        env_dir = repo / "terraform" / "envs" / "dev"
        (env_dir / "moto_override.tf").write_text(OVERRIDE)
        composition = repo / "terraform" / "modules" / "parley"
        (composition / "moto_override.tf").write_text(COMPOSITION_OVERRIDE)
        (env_dir / "moto.tfvars").write_text(TFVARS)
        environ = {
            "AWS_ENDPOINT_URL": server.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
        }
        init = run_terraform(
            ["init", f"-plugin-dir={provider_mirror()}", "-input=false", "-no-color"], env_dir
        )
        assert init.returncode == 0, init.stdout + init.stderr
        apply = run_terraform(
            ["apply", "-auto-approve", "-input=false", "-no-color", "-var-file=moto.tfvars",
             *(f"-target=module.parley.module.{m}" for m in TARGETS),
             "-target=module.parley.aws_dynamodb_table_item.model_catalog"],
            env_dir,
            env=environ,
        )  # fmt: skip
        assert apply.returncode == 0, (
            f"terraform apply against moto:\n{apply.stdout[-4000:]}\n{apply.stderr}"
        )
        outputs = run_terraform(["output", "-json"], env_dir, env=environ)
        yield Deployed(server.url, json.loads(outputs.stdout or "{}"))
    finally:
        server.stop()
        patch.undo()


def _functions(deployed: Deployed) -> dict[str, dict[str, Any]]:
    lam = deployed.client("lambda")
    found = {}
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            found[fn["FunctionName"].removeprefix(f"{PREFIX}-")] = fn
    return found


def test_every_manifest_function_is_created_as_described(
    deployed: Deployed, manifest: Manifest
) -> None:
    functions = _functions(deployed)
    assert sorted(functions) == sorted(manifest.functions)
    for name, fn in manifest.functions.items():
        got = functions[name]
        assert got["Handler"] == fn.handler, name
        assert got["Runtime"] == manifest.defaults.runtime, name
        assert got["MemorySize"] == manifest.memory(fn), name
        assert got["Timeout"] == manifest.timeout(fn), name
        assert got["Architectures"] == [manifest.architecture(fn)], name
        assert got["TracingConfig"]["Mode"] == "Active", name
        assert [layer["Arn"].split(":")[6] for layer in got["Layers"]] == [
            f"{PREFIX}-{manifest.layer.name}-{manifest.architecture(fn)}"
        ], name


def test_reserved_concurrency_is_the_manifests_unless_the_environment_overrides(
    deployed: Deployed, manifest: Manifest
) -> None:
    lam = deployed.client("lambda")
    reserved = {n: f.reserved_concurrency for n, f in manifest.functions.items()}
    assert reserved["bot_worker"], "the manifest reserves nothing for bot_worker"
    assert reserved["chat_api"], "the manifest reserves nothing for chat_api"
    expected = reserved | RESERVED_OVERRIDE
    for name in manifest.functions:
        got = lam.get_function_concurrency(FunctionName=f"{PREFIX}-{name}")
        assert got.get("ReservedConcurrentExecutions") == expected[name], name


def test_function_environment_resolves_every_ref(deployed: Deployed, manifest: Manifest) -> None:
    functions = _functions(deployed)
    tables = set(deployed.client("dynamodb").list_tables()["TableNames"])
    pools = deployed.client("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]
    pool_id = next(p["Id"] for p in pools if p["Name"] == f"{PREFIX}-users")
    clients = deployed.client("cognito-idp").list_user_pool_clients(UserPoolId=pool_id)
    client_id = clients["UserPoolClients"][0]["ClientId"]
    apis = {a["Name"]: a for a in deployed.client("apigatewayv2").get_apis()["Items"]}
    ws_id = apis[f"{PREFIX}-ws"]["ApiId"]
    buckets = [b["Name"] for b in deployed.client("s3").list_buckets()["Buckets"]]
    expected_refs = {
        "chat_table_name": f"{PREFIX}-chat",
        "connections_table_name": f"{PREFIX}-connections",
        "user_pool_id": pool_id,
        "user_pool_client_id": client_id,
        "jwks_url": f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}/.well-known/jwks.json",
        "daily_token_quota": "5000",
        "ws_management_endpoint": f"https://{ws_id}.execute-api.{REGION}.amazonaws.com/live",
        "bot_worker_function_name": f"{PREFIX}-bot_worker:live",
        "fanout_function_name": f"{PREFIX}-fanout:live",
        "retention_days": "0",
        "exports_bucket_name": next(b for b in buckets if b.startswith(f"{PREFIX}-exports-")),
        "uploads_bucket_name": next(b for b in buckets if b.startswith(f"{PREFIX}-uploads-")),
        # envs/dev/terraform.tfvars' attachments
        "upload_max_document_bytes": "10485760",
        "upload_max_image_bytes": "5242880",
        "upload_max_attachments": "10",
        "export_state_machine_arn": (
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{PREFIX}-export"
        ),
        # envs/dev/terraform.tfvars' signup (open), and the app's origin (given: no CloudFront)
        "signup_allowed_domains": "",
        "signup_invites": "false",
        "app_url": APP_ORIGIN,
    }
    assert {f"{PREFIX}-chat", f"{PREFIX}-connections"} <= tables
    for name, fn in manifest.functions.items():
        variables = functions[name].get("Environment", {}).get("Variables", {})
        expected = {
            key: expected_refs[value.ref] if isinstance(value, Ref) else value
            for key, value in fn.environment.items()
        }
        # Empty values stay: the settings models treat an empty variable as unset.
        assert variables == expected, f"{name}: deployed environment differs from the manifest"


def test_roles_grant_the_manifest_on_real_arns(deployed: Deployed, manifest: Manifest) -> None:
    iam = deployed.client("iam")
    dynamodb = deployed.client("dynamodb")
    table_arns = {
        name: dynamodb.describe_table(TableName=f"{PREFIX}-{name}")["Table"]["TableArn"]
        for name in ("chat", "connections")
    }
    for name, fn in manifest.functions.items():
        document = iam.get_role_policy(
            RoleName=f"{PREFIX}-{name}", PolicyName="manifest-permissions"
        )
        policy = document["PolicyDocument"]
        if isinstance(policy, str):
            policy = json.loads(policy)
        statements = {s["Sid"]: s for s in policy["Statement"]}
        for index, permission in enumerate(fn.permissions):
            statement = statements.get(f"Manifest{index}")
            kind, _, target = permission.resource.partition(":")
            if statement is None:  # dropped: the catalog has no agent and no API key parameter
                assert permission.resource in ("bedrock:agent", "ssm:model_api_key"), (
                    f"{name}: {permission.resource}"
                )
                continue
            actions = statement["Action"]
            assert sorted([actions] if isinstance(actions, str) else actions) == sorted(
                permission.actions
            ), f"{name}: {permission.resource}"
            resources = statement["Resource"]
            resources = [resources] if isinstance(resources, str) else resources
            if kind == "table":
                assert resources == [table_arns[target]], f"{name}: {permission.resource}"
            elif kind == "index":
                table, index_name = target.split("/")
                assert resources == [f"{table_arns[table]}/index/{index_name}"], name
            elif kind == "function":  # invoked through its alias, as every trigger does
                assert resources == [
                    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-{target}:live"
                ], name
            elif permission.resource == "websocket:manage":
                assert len(resources) == 1
                assert resources[0].endswith("/live/*/@connections/*"), resources
            elif permission.resource == "bucket:shares":  # snapshots only, not the exports
                assert len(resources) == 1, resources
                assert resources[0].endswith("/shares/*"), resources
            elif permission.resource == "bedrock:model":  # exactly envs/dev/models.yaml's
                assert sorted(resources) == sorted(DEV_BEDROCK_ARNS), f"{name}: {resources}"
            else:
                assert "*" not in resources, f"{name}: {permission.resource} → {resources}"


def test_the_functions_read_the_environments_catalog(deployed: Deployed) -> None:
    from parley.catalog import catalog_from_json
    from tasks.core.catalog import environment_catalogs, load

    item = deployed.client("dynamodb").get_item(
        TableName=f"{PREFIX}-chat", Key={"pk": {"S": "CONFIG"}, "sk": {"S": "MODELS"}}
    )["Item"]
    expected = load(environment_catalogs()["dev"], deployed=True)
    assert catalog_from_json(item["catalog"]["S"]) == expected


def test_tables_match_tables_yaml(deployed: Deployed, tables: dict[str, Any]) -> None:
    dynamodb = deployed.client("dynamodb")
    for name, spec in tables.items():
        table = dynamodb.describe_table(TableName=f"{PREFIX}-{name}")["Table"]
        keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
        assert keys == {"HASH": spec["hash_key"], "RANGE": spec["range_key"]}, name
        indexes = {
            g["IndexName"]: {k["KeyType"]: k["AttributeName"] for k in g["KeySchema"]}
            for g in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {
            index: {"HASH": g["hash_key"], "RANGE": g["range_key"]}
            for index, g in (spec.get("global_secondary_indexes") or {}).items()
        }, name
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        ttl = dynamodb.describe_time_to_live(TableName=f"{PREFIX}-{name}")["TimeToLiveDescription"]
        if spec.get("ttl_attribute"):
            assert ttl.get("AttributeName") == spec["ttl_attribute"], name
            assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_http_api_routes_and_authorizer(deployed: Deployed, manifest: Manifest) -> None:
    api = deployed.client("apigatewayv2")
    http = next(a for a in api.get_apis()["Items"] if a["Name"] == f"{PREFIX}-http")
    assert http["CorsConfiguration"]["AllowOrigins"] == [APP_ORIGIN]
    routes = {r["RouteKey"]: r for r in api.get_routes(ApiId=http["ApiId"])["Items"]}
    authorizer_ids = {r["AuthorizerId"] for r in routes.values() if r.get("AuthorizerId")}
    assert len(authorizer_ids) == 1, "every JWT route uses the one Cognito authorizer"
    # (moto has no GetAuthorizers; each authorizer is read by id)
    authorizer = api.get_authorizer(ApiId=http["ApiId"], AuthorizerId=authorizer_ids.pop())
    pool_id = next(
        p["Id"]
        for p in deployed.client("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]
        if p["Name"] == f"{PREFIX}-users"
    )
    client_id = deployed.client("cognito-idp").list_user_pool_clients(UserPoolId=pool_id)[
        "UserPoolClients"
    ][0]["ClientId"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    jwt = authorizer["JwtConfiguration"]
    assert jwt["Issuer"] == f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    assert jwt["Audience"] == [client_id]
    assert set(routes) == {r.route for r, _ in manifest.http_routes()}
    for route, _ in manifest.http_routes():
        expected = "NONE" if route.auth == "none" else "JWT"
        assert routes[route.route]["AuthorizationType"] == expected, route.route


def _route_throttles(variable: str) -> dict[str, dict[str, Any]]:
    """The composition's default route throttles (what dev and prod deploy unless overridden)."""
    config = load_config(TERRAFORM_DIR / "modules" / "parley")
    default: dict[str, dict[str, Any]] = config.variables[variable]["default"]
    return default


def _stage_route_settings(deployed: Deployed, api_name: str, stage: str) -> dict[str, Any]:
    api = deployed.client("apigatewayv2")
    api_id = next(a["ApiId"] for a in api.get_apis()["Items"] if a["Name"] == api_name)
    settings: dict[str, Any] = api.get_stage(ApiId=api_id, StageName=stage).get("RouteSettings", {})
    return settings


def test_http_routes_have_their_own_throttles(deployed: Deployed, manifest: Manifest) -> None:
    expected = _route_throttles("http_route_throttles")
    open_routes = {r.route for r, _ in manifest.http_routes() if r.auth == "none"}
    assert open_routes <= set(expected), "a route without the gateway authorizer has no throttle"
    settings = _stage_route_settings(deployed, f"{PREFIX}-http", "$default")
    assert set(settings) == set(expected)
    for route, limits in expected.items():
        got = settings[route]
        assert (got["ThrottlingRateLimit"], got["ThrottlingBurstLimit"]) == (
            limits["rate_limit"],
            limits["burst_limit"],
        ), route
        assert got["DetailedMetricsEnabled"] is True, route


def test_websocket_routes_have_their_own_throttles(deployed: Deployed) -> None:
    expected = _route_throttles("websocket_route_throttles")
    assert "$connect" in expected
    settings = _stage_route_settings(deployed, f"{PREFIX}-ws", "live")
    assert set(settings) == set(expected)
    for route, limits in expected.items():
        got = settings[route]
        assert (got["ThrottlingRateLimit"], got["ThrottlingBurstLimit"]) == (
            limits["rate_limit"],
            limits["burst_limit"],
        ), route
        assert got["DataTraceEnabled"] is False, f"{route}: data tracing would log tokens"


def test_websocket_api_routes_and_authorizer(deployed: Deployed, manifest: Manifest) -> None:
    api = deployed.client("apigatewayv2")
    ws = next(a for a in api.get_apis()["Items"] if a["Name"] == f"{PREFIX}-ws")
    assert ws["RouteSelectionExpression"] == "$request.body.action"
    routes = {r["RouteKey"]: r for r in api.get_routes(ApiId=ws["ApiId"])["Items"]}
    assert set(routes) == set(manifest.websocket_routes())
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    authorizer = api.get_authorizer(
        ApiId=ws["ApiId"], AuthorizerId=routes["$connect"]["AuthorizerId"]
    )
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.header.Sec-WebSocket-Protocol"]
    authorizer_fn = next(f for f in manifest.functions.values() if f.triggers.authorizer)
    assert f":function:{PREFIX}-{authorizer_fn.name}:live/" in authorizer["AuthorizerUri"]
    others = {k for k, r in routes.items() if r["AuthorizationType"] != "NONE"} - {"$connect"}
    assert not others, f"only $connect takes the authorizer, not {others}"


def test_user_pool_and_client_are_configured(deployed: Deployed) -> None:
    cognito = deployed.client("cognito-idp")
    pool_id = next(
        p["Id"]
        for p in cognito.list_user_pools(MaxResults=10)["UserPools"]
        if p["Name"] == f"{PREFIX}-users"
    )
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[k] for k in ("RequireUppercase", "RequireLowercase", "RequireNumbers",
                                   "RequireSymbols"))  # fmt: skip
    assert pool["MfaConfiguration"] == "OPTIONAL"  # envs/dev/terraform.tfvars: mfa
    # Two-step verification is TOTP only, no SMS.
    mfa = cognito.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert not mfa.get("SmsMfaConfiguration")
    assert "DeviceConfiguration" not in pool  # remember_device = false
    assert pool["UsernameAttributes"] == ["email"]
    triggers = {
        "PostConfirmation": "post_confirmation",
        "PreSignUp": "pre_sign_up",
        "PreTokenGeneration": "pre_token_generation",
        "CustomMessage": "custom_message",
    }
    for trigger, function in triggers.items():
        assert pool["LambdaConfig"][trigger].endswith(f":function:{PREFIX}-{function}:live")
    client_id = cognito.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"][0]["ClientId"]
    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)[
        "UserPoolClient"
    ]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    # The app signs in with SRP in AWS; the password flow is the local stack's (moto's) only.
    assert sorted(client["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    # Threat protection (compromised credentials, risky sign-ins) on the Plus feature plan.
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "AUDIT"}
    assert pool["UserPoolTier"] == "PLUS"
    assert "ClientSecret" not in client
    assert (client["AccessTokenValidity"], client["IdTokenValidity"]) == (60, 60)
    assert client["RefreshTokenValidity"] == 5


def test_federated_sign_in_is_configured(deployed: Deployed) -> None:
    """identity_providers: the OIDC provider with its secret read from SSM, the prefix domain,
    and the web client's code flow back to the app's root."""
    cognito = deployed.client("cognito-idp")
    pool_id = next(
        p["Id"]
        for p in cognito.list_user_pools(MaxResults=10)["UserPools"]
        if p["Name"] == f"{PREFIX}-users"
    )
    idp = cognito.describe_identity_provider(UserPoolId=pool_id, ProviderName="corp")
    details = idp["IdentityProvider"]["ProviderDetails"]
    assert idp["IdentityProvider"]["ProviderType"] == "OIDC"
    assert details["client_secret"] == IDP_SECRET
    assert details["oidc_issuer"] == "https://login.example.com"
    assert details["authorize_scopes"] == "openid email profile"
    assert idp["IdentityProvider"]["AttributeMapping"] == {"email": "email", "name": "name"}
    domain = cognito.describe_user_pool_domain(Domain=f"{PREFIX}-{ACCOUNT}")["DomainDescription"]
    assert domain["UserPoolId"] == pool_id
    client_id = cognito.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"][0]["ClientId"]
    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)[
        "UserPoolClient"
    ]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert client["CallbackURLs"] == [f"{APP_ORIGIN}/"]
    assert client["LogoutURLs"] == [f"{APP_ORIGIN}/"]
    assert sorted(client["SupportedIdentityProviders"]) == ["COGNITO", "corp"]
    assert "ClientSecret" not in client
    assert deployed.outputs["federation"]["value"]["idp_response_url"] == (
        f"https://{PREFIX}-{ACCOUNT}.auth.{REGION}.amazoncognito.com/oauth2/idpresponse"
    )


def test_async_worker_fails_over_to_the_dlq(deployed: Deployed, manifest: Manifest) -> None:
    lam = deployed.client("lambda")
    sqs = deployed.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=f"{PREFIX}-async-dlq")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    for name, fn in manifest.functions.items():
        if fn.triggers.async_ is None:
            continue
        config = lam.get_function_event_invoke_config(
            FunctionName=f"{PREFIX}-{name}", Qualifier="live"
        )
        assert config["MaximumRetryAttempts"] == fn.triggers.async_.max_retries
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn


def test_every_function_serves_callers_through_its_live_alias(
    deployed: Deployed, manifest: Manifest
) -> None:
    lam = deployed.client("lambda")
    api = deployed.client("apigatewayv2")
    for name in manifest.functions:
        alias = lam.get_alias(FunctionName=f"{PREFIX}-{name}", Name="live")
        # Terraform created the alias on the first published version; invoke shift moves it.
        assert alias["FunctionVersion"] == "1", name
        versions = lam.list_versions_by_function(FunctionName=f"{PREFIX}-{name}")["Versions"]
        assert {v["Version"] for v in versions} == {"$LATEST", "1"}, name
    for found in api.get_apis()["Items"]:
        for integration in api.get_integrations(ApiId=found["ApiId"])["Items"]:
            uri = integration["IntegrationUri"]
            assert uri.endswith(":live/invocations"), f"{found['Name']}: {uri}"


def test_admin_api_puts_audit_entries_and_never_changes_one(deployed: Deployed) -> None:
    """admin_api's role, as deployed, read by the IAM evaluator: users' items may change, audit
    entries may only be put (`dynamodb:LeadingKeys`), and only this pool's users be managed."""
    iam = deployed.client("iam")
    policy = iam.get_role_policy(RoleName=f"{PREFIX}-admin_api", PolicyName="manifest-permissions")[
        "PolicyDocument"
    ]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    table = deployed.client("dynamodb").describe_table(TableName=f"{PREFIX}-chat")["Table"]
    pool = deployed.outputs["user_pool_id"]["value"]
    pool_arn = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{pool}"

    def may(action: str, *keys: str, resource: str = table["TableArn"]) -> bool:
        context: dict[str, str | list[str]] = {"dynamodb:LeadingKeys": list(keys)} if keys else {}
        return allowed(policy, Request(action, resource, context=context))

    # Without its conditions the same policy would let admin_api rewrite an entry: the
    # LeadingKeys condition is what keeps the log append-only.
    bare = {
        "Statement": [{k: v for k, v in s.items() if k != "Condition"} for s in policy["Statement"]]
    }
    audit_key: dict[str, str | list[str]] = {"dynamodb:LeadingKeys": ["AUDIT"]}
    assert allowed(bare, Request("dynamodb:UpdateItem", table["TableArn"], context=audit_key))

    assert may("dynamodb:PutItem", "AUDIT")
    for action in ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert not may(action, "AUDIT"), action
    assert may("dynamodb:UpdateItem", "USER#abc")
    assert may("dynamodb:PutItem", "USER#abc")  # a profile made for a user never signed in
    assert not may("dynamodb:DeleteItem", "USER#abc")
    for key in ("CONV#abc", "STATS#1", "AUDITX", "XAUDIT"):
        assert not may("dynamodb:PutItem", key), key
        assert not may("dynamodb:UpdateItem", key), key
    assert not may("dynamodb:PutItem", "AUDIT", "CONV#abc")  # a batch touching another key
    assert may("dynamodb:Query", "AUDIT")
    assert may("dynamodb:GetItem", "USER#abc")
    for action in (
        "cognito-idp:ListUsers",
        "cognito-idp:AdminDisableUser",
        "cognito-idp:AdminEnableUser",
        "cognito-idp:AdminUserGlobalSignOut",
    ):
        assert may(action, resource=pool_arn), action
        assert not may(action, resource=f"{pool_arn}-other"), action
    for action in ("cognito-idp:AdminDeleteUser", "cognito-idp:AdminAddUserToGroup"):
        assert not may(action, resource=pool_arn), action
