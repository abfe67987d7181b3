"""`invoke publish`, `promote` and `releases` as a person or CI runs them, against moto's S3.

Each call is a real `invoke` process with the bucket and endpoint in its environment, so these
tests see exactly the console output and exit code a pipeline sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.test_release import REGION, make_build
from tests.support.moto_server import MotoServer

ROOT = Path(__file__).resolve().parents[2]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
pytestmark = pytest.mark.slow


class Cli:
    """Runs invoke tasks with the artifacts bucket set the way CI sets it."""

    def __init__(self, moto_server: MotoServer, bucket: str) -> None:
        self.env = {
            **os.environ,
            "AWS_ENDPOINT_URL": moto_server.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "PARLEY_ARTIFACTS_BUCKET": bucket,
            "GITHUB_SHA": COMMIT,
        }
        self.s3 = _client(moto_server)
        self.site_bucket = f"{bucket}-site"
        self.s3.create_bucket(
            Bucket=self.site_bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "invoke", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        return done


def _client(moto_server: MotoServer) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=moto_server.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(moto_server: MotoServer) -> str:
    name = f"parley-artifacts-{uuid.uuid4().hex[:12]}"
    _client(moto_server).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name


@pytest.fixture
def cli(moto_server: MotoServer, bucket: str) -> Cli:
    return Cli(moto_server, bucket)


def test_publish_promote_refuse_and_roll_back(cli: Cli, tmp_path: Path) -> None:
    first = make_build(tmp_path / "one")
    second = make_build(tmp_path / "two", code="v2")

    published = cli("publish", "--env", "dev", "--manifest", str(first)).stdout
    again = cli("publish", "--env", "dev", "--manifest", str(first)).stdout

    assert "[1/4] frontend" in published
    assert "uploaded 4, replaced 0 (" in published
    assert "reused 0 (0 B): all verified (SHA-256)" in published
    assert f"commit {COMMIT[:12]}): releases/dev.json" in published
    assert "uploaded 0, replaced 0 (0 B sent), reused 4" in again
    assert "already runs this content" in again
    first_id = published.split("dev → ")[1].split()[0]

    checked = cli("promote", "--from", "dev", "--to", "prod", "--check").stdout
    assert f"check passed: prod can be pinned to {first_id}; nothing pinned" in checked
    assert [line.split()[0] for line in cli("releases").stdout.splitlines()] == ["dev"]

    promoted = cli("promote", "--from", "dev", "--to", "prod").stdout
    assert f"promoted: prod (none) → {first_id}" in promoted
    assert "all 4 objects verified" in promoted

    config = tmp_path / "app-config.json"  # what `terraform output -raw app_config` prints
    config.write_text(
        '{"region": "eu-west-1", "cognito": {"userPoolId": "eu-west-1_Ab", "clientId": "c1"},'
        ' "httpApiUrl": "https://api.example.com", "wsUrl": "wss://ws.example.com"}'
    )
    no_config = cli("sync-frontend", "--env", "prod", "--site-bucket", cli.site_bucket, ok=False)
    assert "--config-file" in no_config.stderr
    site = cli(
        "sync-frontend", "--env", "prod", "--site-bucket", cli.site_bucket,
        "--config-file", str(config),
    ).stdout  # fmt: skip
    assert f"synced 5 files to s3://{cli.site_bucket} (2 immutable, 3 no-cache)" in site

    second_id = cli("publish", "--manifest", str(second)).stdout.split("dev → ")[1].split()[0]
    changed = json.loads(second.read_text())["artifacts"]["function:chat_api"]["s3_key"]
    cli.s3.delete_object(Bucket=cli.env["PARLEY_ARTIFACTS_BUCKET"], Key=changed)

    refused = cli("promote", "--from", "dev", "--to", "prod", ok=False)
    assert "promote refused: refusing to pin prod to" in refused.stderr
    assert f"function:chat_api (s3://{cli.env['PARLEY_ARTIFACTS_BUCKET']}/{changed}): missing" in (
        refused.stderr
    )

    listing = cli("releases").stdout.splitlines()
    assert [line.split()[0] for line in listing] == ["dev", "prod"]
    assert first_id in listing[1]

    cli("publish", "--env", "dev", "--manifest", str(second))  # repairs the missing object
    cli("promote", "--from", "dev", "--to", "prod")
    rolled = cli("promote", "--to", "prod", "--release", first_id).stdout
    assert f"rolled back: prod {second_id} → {first_id}" in rolled
    history = cli("releases", "--env", "prod").stdout
    assert f"* prod   {first_id}" in history


def test_clear_errors_without_tracebacks(cli: Cli, tmp_path: Path) -> None:
    del cli.env["PARLEY_ARTIFACTS_BUCKET"]
    missing = cli("publish", ok=False)
    assert "no bucket: pass --bucket NAME or set PARLEY_ARTIFACTS_BUCKET" in missing.stderr

    no_build = cli("publish", "--bucket", "b-1", "--manifest", str(tmp_path / "x.json"), ok=False)
    assert f"{tmp_path / 'x.json'} not found: run `invoke build` first" in no_build.stderr

    manifest = make_build(tmp_path)
    no_such = cli("publish", "--bucket", "no-such-bucket", "--manifest", str(manifest), ok=False)
    assert "publish failed: S3 answered NoSuchBucket" in no_such.stderr

    nothing = cli("promote", "--to", "prod", "--bucket", "b-1", ok=False)
    assert "--from <env> to promote, or --release <id> to roll back" in nothing.stderr
