"""Releases: publish build artifacts by content hash, pin environments, promote and roll back.

The artifacts bucket holds immutable objects under `sha256/<hex>.zip` and, per environment, a
release record `releases/<env>.json` — the build manifest plus `release_id`, `git_commit` and
`created_at` — that Terraform for that environment reads. Promotion copies a record, never the
bytes, and only after checking that every object it names is in the bucket with the recorded
SHA-256 (S3's own stored checksum), so prod runs exactly what dev ran. The last N records of
each environment are kept under `releases/<env>/history/` for rollback.

Everything here takes an S3 client and plain values, so it runs under invoke, in CI and in tests
against moto alike; user-facing failures raise `ReleaseError` with a message that says what to do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import mimetypes
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Literal

from botocore.exceptions import ClientError, FlexibleChecksumError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tasks.core.artifacts import sha256_file

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Progress = Callable[[str], None]

ARTIFACT_PREFIX = "sha256/"
RELEASES_PREFIX = "releases/"
DEFAULT_KEEP = 10
"""Release records kept per environment (the current one is never pruned)."""

ENV_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"
RELEASE_ID_PATTERN = r"^\d{8}T\d{6}Z-[0-9a-f]{12}$"
_SHA256_HEX = r"^[0-9a-f]{64}$"

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
_HASHED_ASSET = re.compile(r"[.-][A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$")
"""Vite names built assets `<name>-<content hash>.<ext>`: such a file never changes."""
VERSIONS_PREFIX = "versions/"
"""Each synced release's complete web app under versions/<release_id>/ in the site bucket."""
ENTRY_POINTS = ("/index.html", "/", "/config.json")
"""What CloudFront is told to forget after a deploy: the files that are not content-hashed."""
SITE_CONFIG = "config.json"
"""The app's runtime config: the environment's (Terraform's `app_config` output), written by the
sync next to last, before index.html; a config.json inside the bundle is the build's and is
never deployed."""


class ReleaseError(Exception):
    """A release step refused or failed for a reason the user can act on; the message says which."""


class IntegrityError(ReleaseError):
    """Objects a release names are missing from the bucket or differ from the recorded hash."""

    def __init__(self, summary: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n  ".join([summary, *problems]))


class PromotionRefused(ReleaseError):
    """Promotion would move an environment backwards or pin something unexpected."""


class ReleaseNotFound(ReleaseError):
    """No release record where one was asked for."""


class ConcurrentChange(ReleaseError):
    """Another publish or promote changed the environment's record while this one ran."""


# -- records ------------------------------------------------------------------------------


class Artifact(BaseModel):
    """One entry of `dist/manifest.json`; unknown fields (entry, unzipped_size…) are kept."""

    model_config = ConfigDict(extra="allow")

    kind: Annotated[str, Field(min_length=1)]
    path: Annotated[str, Field(min_length=1)]
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=_SHA256_HEX)]
    sha256_base64: str
    s3_key: str

    @model_validator(mode="after")
    def _consistent(self) -> Artifact:
        """The three spellings of the hash must agree, or verification would check a wrong one."""
        if self.s3_key != f"{ARTIFACT_PREFIX}{self.sha256}.zip":
            raise ValueError(f"s3_key {self.s3_key!r} is not {ARTIFACT_PREFIX}<sha256>.zip")
        try:
            raw = base64.b64decode(self.sha256_base64, validate=True)
        except binascii.Error:
            raise ValueError("sha256_base64 is not base64") from None
        if raw.hex() != self.sha256:
            raise ValueError("sha256_base64 does not encode sha256")
        return self


class BuildManifest(BaseModel):
    """`dist/manifest.json` as `invoke build` writes it (docs/contracts.md, Build artefacts)."""

    model_config = ConfigDict(extra="allow")

    version: Literal[1]
    runtime: str
    architecture: str
    artifacts: Annotated[dict[str, Artifact], Field(min_length=1)]

    def digest(self) -> str:
        """Identity of the deployable content: the same artifacts give the same digest."""
        content = {
            "runtime": self.runtime,
            "architecture": self.architecture,
            "artifacts": {k: a.sha256 for k, a in sorted(self.artifacts.items())},
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class Pin(BaseModel):
    """How the record came to be the environment's current one (for `invoke releases`)."""

    action: Literal["publish", "promote", "rollback"]
    source: str | None = None
    at: str
    strategy: str | None = None
    """How `invoke shift` moves traffic to this release (all-at-once, canary…, linear…)."""


class ReleaseRecord(BuildManifest):
    """`releases/<env>.json`: the manifest plus the release's identity (docs/contracts.md)."""

    release_id: Annotated[str, Field(pattern=RELEASE_ID_PATTERN)]
    git_commit: Annotated[str, Field(min_length=1)]
    created_at: str
    pin: Pin | None = None

    @property
    def created(self) -> datetime:
        return parse_time(self.created_at)

    def document(self) -> bytes:
        return (json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n").encode()


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with `Z` and milliseconds, the project's one timestamp format."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def new_release_id(manifest: BuildManifest, now: datetime) -> str:
    """Sortable by time, and naming the content: `<yyyymmddThhmmssZ>-<12 hex of digest>`."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{manifest.digest()[:12]}"


def check_env(env: str) -> str:
    if not re.fullmatch(ENV_PATTERN, env):
        raise ReleaseError(
            f"environment {env!r} is not a valid name (lower-case letters, digits, '-')"
        )
    return env


def record_key(env: str) -> str:
    return f"{RELEASES_PREFIX}{check_env(env)}.json"


def history_prefix(env: str) -> str:
    return f"{RELEASES_PREFIX}{check_env(env)}/history/"


def load_manifest(path: Path) -> BuildManifest:
    """Read and validate a build manifest; every fault is one clear message."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ReleaseError(f"{path} not found: run `invoke build` first") from None
    except json.JSONDecodeError as exc:
        raise ReleaseError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    try:
        return BuildManifest.model_validate(data)
    except ValidationError as exc:
        raise ReleaseError(f"{path} is not a build manifest:\n{_errors(exc)}") from None


def _errors(exc: ValidationError) -> str:
    return "\n".join(
        f"  {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
    )


# -- bucket access ------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What S3 says about one object: its size and its stored SHA-256 checksum (if any)."""

    size: int
    sha256_base64: str | None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def head(s3: S3Client, bucket: str, key: str) -> Stored | None:
    """The object's size and S3-computed SHA-256, or None when there is no such object."""
    try:
        answer = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return Stored(size=answer["ContentLength"], sha256_base64=answer.get("ChecksumSHA256"))


def _read_record(s3: S3Client, bucket: str, key: str) -> tuple[ReleaseRecord, str] | None:
    """A release record and its ETag (for a conditional overwrite), or None."""
    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    body = answer["Body"].read()
    try:
        return ReleaseRecord.model_validate_json(body), answer["ETag"]
    except ValidationError as exc:
        raise ReleaseError(
            f"s3://{bucket}/{key} is not a release record:\n{_errors(exc)}"
        ) from None


def current(s3: S3Client, bucket: str, env: str) -> ReleaseRecord | None:
    """The release an environment is pinned to, or None before its first publish."""
    found = _read_record(s3, bucket, record_key(env))
    return found[0] if found else None


def history(s3: S3Client, bucket: str, env: str) -> list[ReleaseRecord]:
    """The environment's kept release records, newest first."""
    records = []
    for key in _history_keys(s3, bucket, env):
        found = _read_record(s3, bucket, key)
        if found:
            records.append(found[0])
    return sorted(records, key=lambda r: (r.created, r.release_id), reverse=True)


def _history_keys(s3: S3Client, bucket: str, env: str) -> list[str]:
    keys: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=history_prefix(env)):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def environments(s3: S3Client, bucket: str) -> list[str]:
    """Every environment that has a release record, sorted."""
    envs: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=RELEASES_PREFIX, Delimiter="/"):
        for obj in page.get("Contents", []):
            name = obj["Key"].removeprefix(RELEASES_PREFIX)
            if name.endswith(".json") and re.fullmatch(ENV_PATTERN, name[:-5]):
                envs.append(name[:-5])
    return sorted(envs)


def _pin(
    s3: S3Client,
    bucket: str,
    env: str,
    record: ReleaseRecord,
    etag: str | None,
    keep: int,
) -> list[str]:
    """Make `record` the environment's current release; return the history keys pruned.

    History is written first and the pointer last, so a failure halfway leaves the environment
    on its old release. The pointer write is conditional on the record read before (If-Match,
    or If-None-Match for a first release): two pipelines can never silently overwrite each other.
    """
    body = record.document()
    s3.put_object(
        Bucket=bucket,
        Key=f"{history_prefix(env)}{record.release_id}.json",
        Body=body,
        ContentType="application/json",
        ChecksumAlgorithm="SHA256",
    )
    condition: dict[str, str] = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    try:
        s3.put_object(
            Bucket=bucket,
            Key=record_key(env),
            Body=body,
            ContentType="application/json",
            CacheControl=NO_CACHE,
            ChecksumAlgorithm="SHA256",
            **condition,  # type: ignore[arg-type]
        )
    except ClientError as exc:
        if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
            raise ConcurrentChange(
                f"{env}'s release record changed while this ran (another publish or promote?); "
                "nothing was pinned — run `invoke releases` and try again"
            ) from None
        raise
    return _prune(s3, bucket, env, keep, record.release_id)


def _prune(s3: S3Client, bucket: str, env: str, keep: int, current_id: str) -> list[str]:
    """Delete all but the newest `keep` records of the history, never the current one.

    Release ids start with their creation time, so the keys sort newest-first without reading
    a single record.
    """
    prefix = history_prefix(env)
    keys = sorted(_history_keys(s3, bucket, env), reverse=True)
    doomed = [k for k in keys[max(keep, 1) :] if k != f"{prefix}{current_id}.json"]
    if not doomed:
        return []
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in doomed]})
    return [d["Key"] for d in answer.get("Deleted", []) if "Key" in d]


# -- publish ------------------------------------------------------------------------------


@dataclass
class PublishResult:
    record: ReleaseRecord
    uploaded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    """Objects found with a wrong or missing checksum and uploaded again."""
    bytes_uploaded: int = 0
    bytes_reused: int = 0
    pinned: bool = True
    """False when the environment already ran this content from this commit."""
    pruned: list[str] = field(default_factory=list)


def _local_file(root: Path, artifact: Artifact) -> Path:
    path = (root / artifact.path).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ReleaseError(f"artifact path {artifact.path!r} points outside {root}")
    return path


def verify_local(manifest: BuildManifest, root: Path) -> None:
    """Every file of the manifest exists with its recorded size and hash (nothing changed since)."""
    problems = []
    for name, artifact in sorted(manifest.artifacts.items()):
        path = _local_file(root, artifact)
        if not path.is_file():
            problems.append(f"{name}: {artifact.path} is missing")
        elif path.stat().st_size != artifact.size or sha256_file(path) != artifact.sha256:
            problems.append(f"{name}: {artifact.path} differs from the manifest")
    if problems:
        raise IntegrityError(
            "local artifacts do not match the manifest (run `invoke build`):", problems
        )


def publish(
    s3: S3Client,
    bucket: str,
    manifest: BuildManifest,
    *,
    root: Path,
    env: str,
    git_commit: str,
    now: datetime,
    keep: int = DEFAULT_KEEP,
    progress: Progress = print,
) -> PublishResult:
    """Upload what the bucket lacks, verify every object, and pin `env` to a new release record.

    Objects are content-addressed, so an object that is already there with the right SHA-256 is
    reused as is; one with a wrong or absent checksum is uploaded again. S3 checks each upload
    against the SHA-256 we send (ChecksumSHA256) and rejects bytes that do not match.
    """
    check_env(env)
    verify_local(manifest, root)
    found = _read_record(s3, bucket, record_key(env))
    result = PublishResult(record=_new_record(manifest, git_commit, now))
    unique: dict[str, tuple[str, Artifact]] = {}
    for name, artifact in sorted(manifest.artifacts.items()):
        unique.setdefault(artifact.s3_key, (name, artifact))
    total = len(unique)
    for index, (key, (name, artifact)) in enumerate(unique.items(), 1):
        stored = head(s3, bucket, key)
        step = f"[{index}/{total}] {name:<28} {human_size(artifact.size):>9}  {key[:19]}…"
        if stored and _matches(stored, artifact):
            result.reused.append(name)
            result.bytes_reused += artifact.size
            progress(f"{step}  reused")
            continue
        _upload(s3, bucket, key, _local_file(root, artifact), artifact)
        after = head(s3, bucket, key)
        if after is None or not _matches(after, artifact):
            raise IntegrityError(f"s3://{bucket}/{key} did not verify after upload:", [name])
        (result.replaced if stored else result.uploaded).append(name)
        result.bytes_uploaded += artifact.size
        progress(f"{step}  {'replaced (bad checksum)' if stored else 'uploaded'}")
    if found and found[0].digest() == manifest.digest() and found[0].git_commit == git_commit:
        # A re-run: same content from the same commit. (Same content from a new commit is a new
        # release, so a tag of that commit finds it in dev.)
        result.record = found[0]
        result.pinned = False
        return result
    result.record.pin = Pin(action="publish", at=iso(now))
    result.pruned = _pin(s3, bucket, env, result.record, found[1] if found else None, keep)
    return result


def _new_record(manifest: BuildManifest, git_commit: str, now: datetime) -> ReleaseRecord:
    return ReleaseRecord.model_validate(
        {
            **manifest.model_dump(mode="json"),
            "release_id": new_release_id(manifest, now),
            "git_commit": git_commit,
            "created_at": iso(now),
        }
    )


def _matches(stored: Stored, artifact: Artifact) -> bool:
    return stored.size == artifact.size and stored.sha256_base64 == artifact.sha256_base64


def _upload(s3: S3Client, bucket: str, key: str, path: Path, artifact: Artifact) -> None:
    with path.open("rb") as body:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/zip",
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=artifact.sha256_base64,
            Metadata={"kind": artifact.kind},
        )


def human_size(n: int) -> str:
    """Bytes as a person reads them in a progress line."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


# -- verify, promote, rollback -----------------------------------------------------------


def verify_release(
    s3: S3Client, bucket: str, record: ReleaseRecord, *, deep: bool = False
) -> list[str]:
    """Problems with the objects a release names: missing, wrong size, wrong or no checksum.

    The default compares S3's stored SHA-256 (head_object, ChecksumMode) with the record; `deep`
    also downloads each object and hashes its bytes, for a bucket whose checksums are in doubt.
    """
    problems = []
    for name, artifact in sorted(record.artifacts.items()):
        where = f"{name} (s3://{bucket}/{artifact.s3_key})"
        stored = head(s3, bucket, artifact.s3_key)
        if stored is None:
            problems.append(f"{where}: missing")
        elif stored.size != artifact.size:
            problems.append(f"{where}: size {stored.size}, recorded {artifact.size}")
        elif stored.sha256_base64 is None:
            problems.append(f"{where}: stored without a SHA-256 checksum (publish again)")
        elif stored.sha256_base64 != artifact.sha256_base64:
            problems.append(
                f"{where}: SHA-256 {stored.sha256_base64}, recorded {artifact.sha256_base64}"
            )
        elif deep and _download_sha256(s3, bucket, artifact.s3_key) != artifact.sha256:
            problems.append(f"{where}: content does not hash to the recorded SHA-256")
    return problems


def _download_sha256(s3: S3Client, bucket: str, key: str) -> str | None:
    """The SHA-256 of the object's bytes; None when botocore finds they contradict S3's checksum."""
    digest = hashlib.sha256()
    body = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")["Body"]
    try:
        for chunk in iter(lambda: body.read(1 << 20), b""):
            digest.update(chunk)
    except FlexibleChecksumError:
        return None
    return digest.hexdigest()


@dataclass
class PromoteResult:
    record: ReleaseRecord
    previous: ReleaseRecord | None
    action: Literal["promote", "rollback"]
    pinned: bool = True
    """False when the target already ran this release."""
    pruned: list[str] = field(default_factory=list)


def find_release(s3: S3Client, bucket: str, release_id: str, envs: Iterable[str]) -> ReleaseRecord:
    """A release record by id from the given environments' current records and histories."""
    if not re.fullmatch(RELEASE_ID_PATTERN, release_id):
        raise ReleaseNotFound(f"{release_id!r} is not a release id (see `invoke releases`)")
    searched = []
    for env in envs:
        searched.append(env)
        record = current(s3, bucket, env)
        if record and record.release_id == release_id:
            return record
        found = _read_record(s3, bucket, f"{history_prefix(env)}{release_id}.json")
        if found:
            return found[0]
    raise ReleaseNotFound(
        f"release {release_id} is not in the kept history of {', '.join(searched)} "
        "(see `invoke releases --env <env>`)"
    )


def promote(
    s3: S3Client,
    bucket: str,
    *,
    target: str,
    source: str | None = None,
    release_id: str | None = None,
    expect_commit: str | None = None,
    now: datetime,
    keep: int = DEFAULT_KEEP,
    deep: bool = False,
    check_only: bool = False,
    strategy: str | None = None,
    progress: Progress = print,
) -> PromoteResult:
    """Pin `target` to the release `source` runs, or to an earlier release by id (rollback).

    Refuses when an object is missing or differs from its recorded hash, when the source release
    is older than the target's (moving backwards must be asked for with a release id), and when
    `expect_commit` is given and the release was built from another commit. `check_only` runs
    every check and pins nothing (a pipeline can show the outcome before its approval gate).
    """
    check_env(target)
    if source is not None:
        check_env(source)
        if source == target:
            raise PromotionRefused(f"--from and --to are both {target}")
    if source is None and release_id is None:
        raise PromotionRefused(
            "say what to pin: --from <env> to promote, or --release <id> to roll back"
        )
    found = _read_record(s3, bucket, record_key(target))
    previous, etag = found if found else (None, None)

    if release_id is not None:
        envs = [target] + ([source] if source else [])
        record = find_release(s3, bucket, release_id, envs)
        # Re-pinning by id is a rollback when it moves the environment back in time.
        backwards = previous is not None and record.created < previous.created
        action: Literal["promote", "rollback"] = "rollback" if backwards else "promote"
    else:
        assert source is not None
        record_or_none = current(s3, bucket, source)
        if record_or_none is None:
            raise ReleaseNotFound(
                f"{source} has no release yet: run `invoke publish --env {source}`"
            )
        record = record_or_none
        action = "promote"
        if (
            previous
            and previous.release_id != record.release_id
            and record.created < previous.created
        ):
            raise PromotionRefused(
                f"{source} runs {record.release_id} (created {record.created_at}), older than "
                f"{target}'s {previous.release_id} (created {previous.created_at}); to go back on "
                f"purpose run `invoke promote --to {target} --release {record.release_id}`"
            )
    if expect_commit is not None and not re.fullmatch(r"[0-9a-f]{7,40}", expect_commit):
        raise PromotionRefused(f"--expect-commit {expect_commit!r} is not a commit id (7-40 hex)")
    if expect_commit and not record.git_commit.startswith(expect_commit):
        raise PromotionRefused(
            f"release {record.release_id} was built from {record.git_commit}, "
            f"not the expected {expect_commit}: deploy that commit to {source or target} first"
        )
    if previous and previous.release_id == record.release_id:
        progress(f"{target} already runs {record.release_id}; nothing to do")
        return PromoteResult(record=previous, previous=previous, action=action, pinned=False)

    progress(f"verifying {len(record.artifacts)} objects of {record.release_id}…")
    problems = verify_release(s3, bucket, record, deep=deep)
    if problems:
        raise IntegrityError(
            f"refusing to pin {target} to {record.release_id}: "
            f"{len(problems)} of {len(record.artifacts)} objects failed verification",
            problems,
        )
    if check_only:
        return PromoteResult(record=record, previous=previous, action=action, pinned=False)
    pin = Pin(action=action, source=source, at=iso(now), strategy=strategy)
    pinned = record.model_copy(update={"pin": pin})
    pruned = _pin(s3, bucket, target, pinned, etag, keep)
    return PromoteResult(record=pinned, previous=previous, action=action, pruned=pruned)


# -- frontend -----------------------------------------------------------------------------


def cache_control_for(name: str) -> str:
    """Hashed build assets are immutable for a year; everything else is revalidated each time."""
    path = PurePosixPath(name)
    if "assets" in path.parts[:-1] and _HASHED_ASSET.search(path.name):
        return IMMUTABLE
    return NO_CACHE


@dataclass
class SyncResult:
    files: int = 0
    immutable: int = 0

    @property
    def no_cache(self) -> int:
        return self.files - self.immutable


class _CognitoConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    userPoolId: Annotated[str, Field(min_length=1)]  # the app's field names
    clientId: Annotated[str, Field(min_length=1)]


class _OAuthProvider(BaseModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]$")]
    label: Annotated[str, Field(min_length=1)]


class _OAuthConfig(BaseModel):
    """Federated sign-in: the pool's hosted origin and a button per identity provider."""

    domain: Annotated[str, Field(pattern=r"^https://[^/?#]+$")]
    providers: list[_OAuthProvider]


class SiteConfig(BaseModel):
    """What the app needs of `config.json` to start (frontend/src/config/config.ts validates
    all of it in the browser); other fields pass through."""

    model_config = ConfigDict(extra="allow")

    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]
    cognito: _CognitoConfig
    httpApiUrl: Annotated[str, Field(pattern=r"^https://")]
    wsUrl: Annotated[str, Field(pattern=r"^wss://")]
    oauth: _OAuthConfig | None = None


def site_config(raw: bytes) -> bytes:
    """The environment's config.json, checked before anything is written (ReleaseError)."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise ReleaseError("refusing to sync: config.json is not JSON") from None
    if not isinstance(data, dict):
        raise ReleaseError("refusing to sync: config.json is not an object")
    try:
        SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ReleaseError(f"refusing to sync: config.json: {problems}") from None
    return json.dumps(data, separators=(",", ":")).encode()


def sync_frontend(
    s3: S3Client,
    bucket: str,
    record: ReleaseRecord,
    *,
    site_bucket: str,
    config: bytes,
    artifact_name: str = "frontend",
    progress: Progress = print,
) -> SyncResult:
    """Copy the release's web app bundle, verified, from the artifacts bucket to the site bucket,
    with the environment's `config` as its config.json.

    Assets go first, then `config.json` and `index.html` last, so a browser never loads a page
    whose assets or config are not there yet; old hashed assets stay, so pages already open
    keep working.
    """
    config = site_config(config)
    artifact = record.artifacts.get(artifact_name)
    if artifact is None:
        raise ReleaseNotFound(f"release {record.release_id} has no {artifact_name} bundle")
    try:
        data = s3.get_object(Bucket=bucket, Key=artifact.s3_key, ChecksumMode="ENABLED")[
            "Body"
        ].read()
    except FlexibleChecksumError:
        data = b""
    if hashlib.sha256(data).hexdigest() != artifact.sha256:
        raise IntegrityError(
            f"refusing to sync: s3://{bucket}/{artifact.s3_key} does not match the release",
            [artifact_name],
        )
    result = SyncResult()
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        names = [n for n in bundle.namelist() if not n.endswith("/")]
        for name in names:
            if not _safe_member(name):
                raise IntegrityError("refusing to sync: the bundle has an unsafe path", [name])
        files = {name: bundle.read(name) for name in names if name != SITE_CONFIG}
    files[SITE_CONFIG] = config

    def put(key: str, name: str, cache: str) -> None:
        s3.put_object(
            Bucket=site_bucket,
            Key=key,
            Body=files[name],
            ContentType=mimetypes.guess_type(name)[0] or "application/octet-stream",
            CacheControl=cache,
            ChecksumAlgorithm="SHA256",
        )

    # The whole release first under its own prefix (what a rollback or an audit reads), then
    # the live copy: hashed assets, other files, config.json, and index.html last.
    for name in sorted(files):
        put(f"{VERSIONS_PREFIX}{record.release_id}/{name}", name, NO_CACHE)
    for name in sorted(files, key=_live_order):
        cache = cache_control_for(name)
        put(name, name, cache)
        result.files += 1
        if cache == IMMUTABLE:
            result.immutable += 1
    progress(
        f"synced {result.files} files to s3://{site_bucket} "
        f"({result.immutable} immutable, {result.no_cache} no-cache)"
    )
    return result


def _live_order(name: str) -> tuple[bool, bool, bool, str]:
    """Hashed assets, then the other files, then config.json, then index.html."""
    return (name == "index.html", name == SITE_CONFIG, cache_control_for(name) != IMMUTABLE, name)


def invalidate_entry_points(
    cloudfront: Any, distribution_id: str, release_id: str, progress: Progress = print
) -> str:
    """Make CloudFront fetch the entry points again — and only them: hashed assets never change,
    so invalidating them would cost requests and throw away warm caches for nothing."""
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(ENTRY_POINTS), "Items": list(ENTRY_POINTS)},
            "CallerReference": f"parley-{release_id}",
        },
    )
    invalidation: str = answer["Invalidation"]["Id"]
    progress(
        f"CloudFront {distribution_id}: invalidating {', '.join(ENTRY_POINTS)} ({invalidation})"
    )
    return invalidation


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and bool(path.parts)


def record_summary(record: ReleaseRecord) -> dict[str, Any]:
    """The few fields a person reads first (for listings and logs)."""
    pin = record.pin
    return {
        "release_id": record.release_id,
        "git_commit": record.git_commit[:12],
        "created_at": record.created_at,
        "artifacts": len(record.artifacts),
        "pinned": f"{pin.action}{f' from {pin.source}' if pin.source else ''} at {pin.at}"
        if pin
        else "",
    }
