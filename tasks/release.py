"""Release tasks: publish the build by content hash, promote it between environments, roll back.

The logic lives in tasks/core/release.py; these tasks read options, make the S3 client and turn
every refusal into one clear line. The bucket comes from `--bucket` or PARLEY_ARTIFACTS_BUCKET;
credentials and region from the usual AWS chain (OIDC in CI), never from this code.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.core import release as core
from tasks.core import release_shift as shifting

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ROOT = Path(__file__).resolve().parents[1]
BUCKET_ENV = "PARLEY_ARTIFACTS_BUCKET"
SITE_BUCKET_ENV = "PARLEY_SITE_BUCKET"


def _bucket(value: str, variable: str = BUCKET_ENV, option: str = "--bucket") -> str:
    bucket = value or os.environ.get(variable, "")
    if not bucket:
        raise Exit(f"no bucket: pass {option} NAME or set {variable}", code=1)
    return bucket


def _s3() -> S3Client:
    import boto3  # imported here so `invoke --list` does not pay for it
    from botocore.config import Config

    # AWS_ENDPOINT_URL (the local stack, the tests) is honoured by boto3 itself; standard retries
    # ride out S3's throttling (503 SlowDown) during a large publish.
    return boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))


@contextmanager
def _user_errors(what: str) -> Iterator[None]:
    """One clear line for every refusal or AWS fault, never a traceback."""
    try:
        yield
    except core.ReleaseError as exc:
        raise Exit(f"{what} refused: {exc}", code=1) from None
    except NoCredentialsError:
        raise Exit(
            f"{what} failed: no AWS credentials (log in, or assume the deploy role)", code=1
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "?")
        hint = ""
        if code in ("403", "AccessDenied"):
            # Without s3:ListBucket S3 answers 403, not 404, for an object that is not there.
            hint = " (check the deploy role's S3 and KMS permissions in docs/release.md)"
        raise Exit(
            f"{what} failed: S3 answered {code} to {exc.operation_name}: "
            f"{error.get('Message', '')}{hint}",
            code=1,
        ) from None
    except BotoCoreError as exc:
        raise Exit(f"{what} failed: {exc}", code=1) from None


def _git_commit() -> str:
    """The commit being released: GITHUB_SHA in CI, else HEAD (marked when the tree is dirty)."""
    if sha := os.environ.get("GITHUB_SHA"):
        return sha
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def _now() -> datetime:
    return datetime.now(UTC)


@task(
    help={
        "env": "environment whose release record to write (default: dev)",
        "bucket": f"artifacts bucket (default: ${BUCKET_ENV})",
        "manifest": "build manifest to publish (default: dist/manifest.json)",
        "keep": f"release records kept per environment (default: {core.DEFAULT_KEEP})",
    }
)
def publish(
    c: Context,
    env: str = "dev",
    bucket: str = "",
    manifest: str = "dist/manifest.json",
    keep: int = core.DEFAULT_KEEP,
) -> None:
    """Upload the build by content hash (skipping what is there), verify, pin the env's release."""
    name = _bucket(bucket)
    with _user_errors("publish"):
        path = (ROOT / manifest).resolve()
        build = core.load_manifest(path)
        print(f"publishing {len(build.artifacts)} artifacts to s3://{name} for {env}")
        result = core.publish(
            _s3(),
            name,
            build,
            # The build writes artifact paths relative to the folder that holds dist/.
            root=path.parent.parent,
            env=env,
            git_commit=_git_commit(),
            now=_now(),
            keep=keep,
        )
    print(
        f"uploaded {len(result.uploaded)}, replaced {len(result.replaced)} "
        f"({core.human_size(result.bytes_uploaded)} sent), reused {len(result.reused)} "
        f"({core.human_size(result.bytes_reused)}): all verified (SHA-256)"
    )
    record = result.record
    if result.pinned:
        print(f"{env} → {record.release_id} (commit {record.git_commit[:12]}): releases/{env}.json")
    else:
        print(f"{env} already runs this content as {record.release_id}; record unchanged")
    for key in result.pruned:
        print(f"pruned {key}")


@task(
    help={
        "from": "environment to promote from (e.g. dev)",
        "to": "environment to pin (e.g. prod)",
        "release": "pin this earlier release id instead (rollback); see `invoke releases`",
        "bucket": f"artifacts bucket (default: ${BUCKET_ENV})",
        "expect_commit": "refuse unless the release was built from this commit (CI passes its sha)",
        "deep": "also download every object and hash its bytes",
        "check": "run every check, pin nothing",
        "keep": f"release records kept per environment (default: {core.DEFAULT_KEEP})",
        "strategy": "how `invoke shift` moves traffic after the apply: all-at-once (default), "
        "canary<P>-<M>m (e.g. canary10-5m) or linear<P>-<M>m (e.g. linear10-1m)",
    },
)
def promote(
    c: Context,
    to: str,
    from_: str = "",
    release: str = "",
    bucket: str = "",
    expect_commit: str = "",
    deep: bool = False,
    check: bool = False,
    keep: int = core.DEFAULT_KEEP,
    strategy: str = shifting.ALL_AT_ONCE,
) -> None:
    """Pin an env to the exact release another env runs (--from dev --to prod), or --release ID."""
    name = _bucket(bucket)
    with _user_errors("promote"):
        shifting.strategy_steps(strategy)  # refuse a bad name before anything is pinned
        result = core.promote(
            _s3(),
            name,
            target=to,
            source=from_ or None,
            release_id=release or None,
            expect_commit=expect_commit or None,
            now=_now(),
            keep=keep,
            deep=deep,
            check_only=check,
            strategy=strategy,
        )
    already = result.previous is not None and result.previous.release_id == result.record.release_id
    if check and not already:
        print(f"check passed: {to} can be pinned to {result.record.release_id}; nothing pinned")
    if not result.pinned:
        return
    before = result.previous.release_id if result.previous else "(none)"
    record = result.record
    verb = "rolled back" if result.action == "rollback" else "promoted"
    print(
        f"{verb}: {to} {before} → {record.release_id} (commit {record.git_commit[:12]}, "
        f"created {record.created_at}); all {len(record.artifacts)} objects verified"
    )
    for key in result.pruned:
        print(f"pruned {key}")


@task(
    help={
        "env": "show this environment's kept history instead of every environment",
        "bucket": f"artifacts bucket (default: ${BUCKET_ENV})",
        "traffic": "with --env: each function's traffic split on its live alias (needs Lambda "
        "read access in the environment's account)",
    }
)
def releases(c: Context, env: str = "", bucket: str = "", traffic: bool = False) -> None:
    """List what each environment runs, or one environment's release history (--env)."""
    name = _bucket(bucket)
    with _user_errors("releases"):
        s3 = _s3()
        if env and traffic:
            pinned = core.current(s3, name, env)
            if pinned is None:
                raise core.ReleaseNotFound(f"{env} has no release yet")
            print(f"{env} runs {pinned.release_id}; traffic on the live aliases:")
            for split in shifting.traffic(_client("lambda"), pinned, f"parley-{env}"):
                print(f"  {split.name:<22} {split.describe()}")
            return
        if env:
            now = core.current(s3, name, env)
            records = core.history(s3, name, env)
            if not records:
                raise core.ReleaseNotFound(f"{env} has no release history in s3://{name}")
            print(f"{env} history (newest first; * = current):")
            for record in records:
                mark = "*" if now and record.release_id == now.release_id else " "
                _row(mark, env, record)
            return
        envs = core.environments(s3, name)
        if not envs:
            print(f"no releases in s3://{name} yet: run `invoke publish`")
            return
        for each in envs:
            pinned = core.current(s3, name, each)
            if pinned:
                _row(" ", each, pinned)


def _row(mark: str, env: str, record: core.ReleaseRecord) -> None:
    s = core.record_summary(record)
    print(
        f"{mark} {env:<6} {s['release_id']}  commit {s['git_commit']:<12}"
        f"  created {s['created_at']}  {s['artifacts']} artifacts  {s['pinned']}"
    )


def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    retries = Config(retries={"mode": "standard", "max_attempts": 5})
    return boto3.client(service, config=retries)  # type: ignore[call-overload]


@task(
    help={
        "env": "environment whose functions to move (default: dev)",
        "strategy": "all-at-once, canary<P>-<M>m or linear<P>-<M>m; default: the one the "
        "release was promoted with, else all-at-once",
        "bucket": f"artifacts bucket (default: ${BUCKET_ENV})",
        "name_prefix": "prefix of the environment's function names (default: parley-<env>)",
    }
)
def shift(
    c: Context, env: str = "dev", strategy: str = "", bucket: str = "", name_prefix: str = ""
) -> None:
    """After terraform apply: move each changed function's live alias to the release's version,
    watching the rollback alarms (an alarm puts every alias back; docs/release.md)."""
    name = _bucket(bucket)
    with _user_errors("shift"):
        record = core.current(_s3(), name, env)
        if record is None:
            raise core.ReleaseNotFound(
                f"{env} has no release yet: run `invoke publish --env {env}`"
            )
        chosen = strategy or (record.pin.strategy if record.pin else None) or shifting.ALL_AT_ONCE
        print(f"shifting {env} to {record.release_id} ({chosen})")
        shifting.shift(
            _client("lambda"),
            _client("cloudwatch"),
            record,
            name_prefix=name_prefix or f"parley-{env}",
            strategy=chosen,
        )


@task(
    help={
        "env": "environment whose release to deploy (default: dev)",
        "site_bucket": f"the web app's bucket (default: ${SITE_BUCKET_ENV}; a Terraform output)",
        "distribution": "CloudFront distribution id: invalidate /index.html, / and /config.json",
        "bucket": f"artifacts bucket (default: ${BUCKET_ENV})",
        "config_file": "the environment's config.json (`terraform output -raw app_config`)",
    }
)
def sync_frontend(
    c: Context,
    env: str = "dev",
    site_bucket: str = "",
    bucket: str = "",
    distribution: str = "",
    config_file: str = "",
) -> None:
    """Copy the env's pinned web app bundle and its config.json to its site bucket (hashed
    assets immutable, config.json and index.html last), then invalidate only the entry points
    on CloudFront (--distribution)."""
    name = _bucket(bucket)
    site = _bucket(site_bucket, SITE_BUCKET_ENV, "--site-bucket")
    if not config_file:
        raise Exit(
            "no config: pass --config-file PATH, the environment's config.json "
            "(terraform -chdir=terraform/envs/<env> output -raw app_config > PATH)",
            code=1,
        )
    try:
        config = Path(config_file).read_bytes()
    except OSError as exc:
        raise Exit(f"--config-file {config_file}: {exc.strerror}", code=1) from None
    with _user_errors("sync-frontend"):
        s3 = _s3()
        record = core.current(s3, name, env)
        if record is None:
            raise core.ReleaseNotFound(
                f"{env} has no release yet: run `invoke publish --env {env}`"
            )
        core.sync_frontend(s3, name, record, site_bucket=site, config=config)
        if distribution:
            core.invalidate_entry_points(_client("cloudfront"), distribution, record.release_id)
