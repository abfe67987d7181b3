"""Create Parley's AWS resources on an endpoint (a moto server) from the project's own definitions.

The tables come from `functions/tables.yaml` — the same file Terraform reads — so the local stack
and the tests cannot drift from the deployed schema. The user pool mirrors the Terraform `auth`
module: e-mail as username, an explicit password policy, auto-verified e-mail and a public app
client (no secret) with USER_PASSWORD_AUTH, SRP and refresh.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import yaml

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ROOT = Path(__file__).resolve().parents[2]
TABLES_FILE = ROOT / "functions" / "tables.yaml"

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
"""moto accepts any credentials; fixed fake ones keep real ones from ever being picked up."""

DEFAULT_MODEL_KEY = "local-scripted-model-key"

PASSWORD_POLICY: dict[str, Any] = {
    "MinimumLength": 12,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 3,
}
"""The Terraform pool's policy (terraform/modules/auth: `password_minimum_length` defaults to
12; tests/infra checks they agree). The app shows it (config.json `passwordPolicy`)."""

MFA_MODES = ("OFF", "OPTIONAL", "ON")
"""The pool's MFA setting, as terraform/modules/auth's `mfa`: TOTP (no SMS) that each user may
turn on (OPTIONAL, the default), that everyone must set up (ON), or none (OFF)."""


@dataclass(frozen=True)
class LocalResources:
    """What `bootstrap` made, enough to configure every function and client."""

    endpoint_url: str
    region: str
    table_names: dict[str, str]
    user_pool_id: str
    client_id: str
    jwks_url: str
    issuer: str
    model_api_key_parameter: str
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def chat_table(self) -> str:
        return self.table_names["chat"]

    @property
    def connections_table(self) -> str:
        return self.table_names["connections"]

    def refs(self) -> dict[str, str]:
        """Values for the manifest refs this module knows (docs/contracts.md)."""
        return {
            "chat_table_name": self.chat_table,
            "connections_table_name": self.connections_table,
            "user_pool_id": self.user_pool_id,
            "user_pool_client_id": self.client_id,
            "jwks_url": self.jwks_url,
            "model_api_key_parameter": self.model_api_key_parameter,
        }

    def env(self) -> dict[str, str]:
        """Environment variables for a function process pointed at these resources."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "CHAT_TABLE_NAME": self.chat_table,
            "CONNECTIONS_TABLE_NAME": self.connections_table,
            "COGNITO_USER_POOL_ID": self.user_pool_id,
            "COGNITO_CLIENT_ID": self.client_id,
            "COGNITO_JWKS_URL": self.jwks_url,
            "MODEL_API_KEY_PARAMETER": self.model_api_key_parameter,
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def load_tables(path: Path = TABLES_FILE) -> dict[str, dict[str, Any]]:
    """The table descriptions of `functions/tables.yaml`, keyed by logical name."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables: dict[str, dict[str, Any]] = document["tables"]
    return tables


def create_table_args(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """CreateTable arguments for one table description (on-demand, like Terraform)."""
    key_schema = [{"AttributeName": spec["hash_key"], "KeyType": "HASH"}]
    if spec.get("range_key"):
        key_schema.append({"AttributeName": spec["range_key"], "KeyType": "RANGE"})
    args: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": attr, "AttributeType": kind}
            for attr, kind in sorted(spec["attributes"].items())
        ],
    }
    indexes = []
    for index_name, index in sorted((spec.get("global_secondary_indexes") or {}).items()):
        index_keys = [{"AttributeName": index["hash_key"], "KeyType": "HASH"}]
        if index.get("range_key"):
            index_keys.append({"AttributeName": index["range_key"], "KeyType": "RANGE"})
        indexes.append(
            {
                "IndexName": index_name,
                "KeySchema": index_keys,
                "Projection": {"ProjectionType": index.get("projection", "ALL")},
            }
        )
    if indexes:
        args["GlobalSecondaryIndexes"] = indexes
    if spec.get("stream"):
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec["stream"]}
    return args


class BootstrapMismatch(Exception):
    """Existing resources (restored local data) differ from the definitions in a way that
    cannot be brought up to date in place; the message says what to do."""


def _keys(schema: Any) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def _update_table(client: DynamoDBClient, name: str, args: dict[str, Any]) -> None:
    """Bring an existing table to its definition: add the indexes it lacks; a changed key or
    index cannot be changed in place (BootstrapMismatch)."""
    table = client.describe_table(TableName=name)["Table"]
    if _keys(table["KeySchema"]) != _keys(args["KeySchema"]):
        raise BootstrapMismatch(
            f"table {name} has other keys than functions/tables.yaml declares:"
            " start with clean local data (`invoke dev --fresh`)"
        )
    stream = args.get("StreamSpecification")
    if stream and table.get("StreamSpecification") != stream:
        client.update_table(TableName=name, StreamSpecification=stream)
    existing = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    for index in args.get("GlobalSecondaryIndexes", []):
        found = existing.get(index["IndexName"])
        if found is None:
            client.update_table(
                TableName=name,
                AttributeDefinitions=args["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )
        elif _keys(found["KeySchema"]) != _keys(index["KeySchema"]):
            raise BootstrapMismatch(
                f"index {index['IndexName']} of table {name} has other keys than"
                " functions/tables.yaml declares: start with clean local data"
                " (`invoke dev --fresh`)"
            )


def create_tables(client: DynamoDBClient, prefix: str) -> dict[str, str]:
    """Create every table of tables.yaml named `<prefix><logical name>` (a table that exists,
    from restored local data, gets the indexes it lacks); TTL where declared."""
    names: dict[str, str] = {}
    existing = {
        name
        for page in client.get_paginator("list_tables").paginate()
        for name in page["TableNames"]
    }
    for logical, spec in load_tables().items():
        name = f"{prefix}{logical}"
        args = create_table_args(name, spec)
        if name in existing:
            _update_table(client, name, args)
        else:
            client.create_table(**args)
        if spec.get("ttl_attribute"):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec["ttl_attribute"]},
            )
        names[logical] = name
    return names


@cache
def clients(endpoint_url: str, region: str) -> tuple[Any, Any, Any]:
    """DynamoDB, Cognito and SSM clients for an endpoint (made once: clients are slow to build)."""
    session = boto3.Session(
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
    )
    return (
        session.client("dynamodb", endpoint_url=endpoint_url),
        session.client("cognito-idp", endpoint_url=endpoint_url),
        session.client("ssm", endpoint_url=endpoint_url),
    )


def bootstrap(
    endpoint_url: str,
    *,
    region: str = "us-east-1",
    prefix: str = "parley-local-",
    model_api_key: str = DEFAULT_MODEL_KEY,
    mfa: str = "OPTIONAL",
) -> LocalResources:
    """Create the tables, the user pool and its client, and the model key parameter; what
    exists already (restored local data) is found and kept, and brought up to date where it
    can be (BootstrapMismatch where it cannot). `mfa` is set on the pool every time, so a
    restored pool follows the setting of this run."""
    if mfa not in MFA_MODES:
        raise ValueError(f"mfa must be one of {', '.join(MFA_MODES)} (got {mfa!r})")
    dynamodb, cognito, ssm = clients(endpoint_url, region)

    table_names = create_tables(dynamodb, prefix)

    pool_name = f"{prefix}users"
    pools = [
        p for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
        for p in page["UserPools"]
    ]  # fmt: skip
    pool_id = next((p["Id"] for p in pools if p["Name"] == pool_name), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=pool_name,
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            Policies={"PasswordPolicy": PASSWORD_POLICY},
            Schema=[
                {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
                {"Name": "name", "AttributeDataType": "String", "Required": False, "Mutable": True},
            ],
        )["UserPool"]["Id"]
    # As Terraform's pool: software tokens (TOTP) only, never SMS.
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": mfa != "OFF"},
        MfaConfiguration=mfa,
    )
    client_name = f"{prefix}web"
    clients_found = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    client_id = next(
        (c["ClientId"] for c in clients_found["UserPoolClients"] if c["ClientName"] == client_name),
        None,
    )
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=client_name,
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
            # as the Terraform client: the id token carries these (moto adds none unless listed)
            ReadAttributes=["email", "email_verified", "name"],
            WriteAttributes=["email", "name"],
        )["UserPoolClient"]["ClientId"]

    parameter = f"/{prefix.strip('-')}/model-api-key"
    ssm.put_parameter(Name=parameter, Value=model_api_key, Type="SecureString", Overwrite=True)

    return LocalResources(
        endpoint_url=endpoint_url,
        region=region,
        table_names=table_names,
        user_pool_id=pool_id,
        client_id=client_id,
        jwks_url=f"{endpoint_url.rstrip('/')}/{pool_id}/.well-known/jwks.json",
        issuer=f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
        model_api_key_parameter=parameter,
    )


def main(argv: list[str] | None = None) -> int:
    """CLI: bootstrap a running moto server and print what was made as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--prefix", default="parley-local-")
    args = parser.parse_args(argv)
    resources = bootstrap(args.endpoint_url, region=args.region, prefix=args.prefix)
    sys.stdout.write(resources.to_json() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
