"""Publish, promote and roll back against moto's S3 in server mode, with synthetic builds.

Each test gets its own bucket on one moto server; the builds are small zips made here with the
same manifest shape `invoke build` writes, so these tests never depend on a real build.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import boto3
import pytest

from tasks.core import release as core
from tests.support.moto_server import MotoServer

REGION: Final = "eu-west-1"
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.slow


@dataclass
class S3:
    url: str
    client: Any
    bucket: str


@pytest.fixture
def s3(moto_server: MotoServer) -> S3:
    """A fresh, empty artifacts bucket (versioned, as the Terraform module makes it)."""
    client = boto3.client(
        "s3",
        endpoint_url=moto_server.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = f"parley-artifacts-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return S3(moto_server.url, client, bucket)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in sorted(files.items()):
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def make_build(root: Path, *, code: str = "v1", layer: str = "deps-1", web: str = "w1") -> Path:
    """Write dist/ with a layer, two functions and a frontend bundle; return the manifest path."""
    zips = {
        "layer:deps": ("layer", "dist/layers/deps-arm64.zip", {"python/dep.py": layer.encode()}),
        "function:chat_api": (
            "function",
            "dist/functions/chat_api.zip",
            {"chat_api/app.py": f"VERSION = {code!r}\n".encode()},
        ),
        "function:post_confirmation": (
            "function",
            "dist/functions/post_confirmation.zip",
            {"post_confirmation/app.py": b"def handler(e, c):\n    return e\n"},
        ),
        "frontend": (
            "frontend",
            "dist/frontend.zip",
            {
                "index.html": f"<script src=/assets/index-{web}AbCd1234.js></script>".encode(),
                f"assets/index-{web}AbCd1234.js": f"console.log({web!r})".encode(),
                "assets/style-9f8e7d6c.css": b"body{}",
                "favicon.svg": b"<svg/>",
                "config.json": b'{"local": true}',
            },
        ),
    }
    artifacts: dict[str, Any] = {}
    for key, (kind, rel, files) in zips.items():
        data = _zip(files)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digest = hashlib.sha256(data).digest()
        artifacts[key] = {
            "kind": kind,
            "path": rel,
            "size": len(data),
            "unzipped_size": sum(len(v) for v in files.values()),
            "sha256": digest.hex(),
            "sha256_base64": base64.b64encode(digest).decode(),
            "s3_key": f"sha256/{digest.hex()}.zip",
        }
    artifacts["function:chat_api"]["entry"] = {"handler": "chat_api.app.handler"}
    manifest = root / "dist" / "manifest.json"
    document = {"version": 1, "runtime": "python3.12", "architecture": "arm64"}
    manifest.write_text(json.dumps({**document, "artifacts": artifacts}, indent=2))
    return manifest


def publish(
    s3: S3, manifest: Path, env: str = "dev", at: datetime = T0, **kw: Any
) -> core.PublishResult:
    build = core.load_manifest(manifest)
    return core.publish(
        s3.client,
        s3.bucket,
        build,
        root=manifest.parent.parent,
        env=env,
        git_commit=kw.pop("git_commit", "a" * 40),
        now=at,
        progress=kw.pop("progress", lambda _: None),
        **kw,
    )


def promote(s3: S3, at: datetime, **kw: Any) -> core.PromoteResult:
    return core.promote(s3.client, s3.bucket, now=at, progress=lambda _: None, **kw)


def stored_record(s3: S3, env: str) -> dict[str, Any]:
    body = s3.client.get_object(Bucket=s3.bucket, Key=f"releases/{env}.json")["Body"].read()
    return dict(json.loads(body))


def artifact_keys(s3: S3) -> set[str]:
    answer = s3.client.list_objects_v2(Bucket=s3.bucket, Prefix="sha256/")
    return {o["Key"] for o in answer.get("Contents", [])}


# -- publish ------------------------------------------------------------------------------


def test_publish_uploads_by_hash_and_writes_the_release_record(s3: S3, tmp_path: Path) -> None:
    manifest = make_build(tmp_path)
    lines: list[str] = []

    result = publish(s3, manifest, progress=lines.append)

    written = json.loads(manifest.read_text())
    assert sorted(result.uploaded) == sorted(written["artifacts"])
    assert artifact_keys(s3) == {a["s3_key"] for a in written["artifacts"].values()}
    assert len(lines) == 4
    assert all(line.endswith("uploaded") for line in lines)
    for artifact in written["artifacts"].values():
        head = s3.client.head_object(
            Bucket=s3.bucket, Key=artifact["s3_key"], ChecksumMode="ENABLED"
        )
        assert head["ChecksumSHA256"] == artifact["sha256_base64"]
        assert head["ContentLength"] == artifact["size"]
    record = stored_record(s3, "dev")
    # The record is the manifest, unchanged, plus the release's identity.
    for key, value in written.items():
        assert record[key] == value
    assert record["release_id"] == result.record.release_id
    assert record["release_id"].startswith("20261127T090000Z-")
    assert record["git_commit"] == "a" * 40
    assert record["created_at"] == "2026-11-27T09:00:00.000Z"
    history_key = f"releases/dev/history/{record['release_id']}.json"
    history = json.loads(s3.client.get_object(Bucket=s3.bucket, Key=history_key)["Body"].read())
    assert history == record


def test_publish_twice_uploads_once(s3: S3, tmp_path: Path) -> None:
    manifest = make_build(tmp_path)
    first = publish(s3, manifest)

    second = publish(s3, manifest, at=T0 + timedelta(minutes=5))

    assert len(first.uploaded) == 4
    assert second.uploaded == []
    assert second.replaced == []
    assert sorted(second.reused) == sorted(first.uploaded)
    assert second.bytes_uploaded == 0
    assert second.bytes_reused == first.bytes_uploaded
    assert not second.pinned
    assert stored_record(s3, "dev")["release_id"] == first.record.release_id


def test_the_same_content_from_a_new_commit_is_a_new_release(s3: S3, tmp_path: Path) -> None:
    manifest = make_build(tmp_path)
    first = publish(s3, manifest)

    second = publish(s3, manifest, at=T0 + timedelta(hours=1), git_commit="b" * 40)

    assert second.uploaded == []
    assert second.pinned
    assert second.record.release_id != first.record.release_id
    assert stored_record(s3, "dev")["git_commit"] == "b" * 40


def test_publish_of_a_changed_build_uploads_only_what_changed(s3: S3, tmp_path: Path) -> None:
    first = publish(s3, make_build(tmp_path / "one"))

    second = publish(s3, make_build(tmp_path / "two", code="v2"), at=T0 + timedelta(hours=1))

    assert second.uploaded == ["function:chat_api"]
    assert len(second.reused) == 3
    assert second.pinned
    assert second.record.release_id != first.record.release_id
    assert stored_record(s3, "dev")["release_id"] == second.record.release_id


def test_publish_refuses_a_local_file_changed_since_the_build(s3: S3, tmp_path: Path) -> None:
    manifest = make_build(tmp_path)
    (tmp_path / "dist/functions/chat_api.zip").write_bytes(b"edited after the build")

    with pytest.raises(
        core.IntegrityError, match=r"function:chat_api: dist/functions/chat_api\.zip"
    ):
        publish(s3, manifest)

    assert artifact_keys(s3) == set()


def test_publish_replaces_an_object_whose_checksum_is_wrong(s3: S3, tmp_path: Path) -> None:
    manifest = make_build(tmp_path)
    key = json.loads(manifest.read_text())["artifacts"]["layer:deps"]["s3_key"]
    s3.client.put_object(
        Bucket=s3.bucket, Key=key, Body=b"not the layer", ChecksumAlgorithm="SHA256"
    )

    result = publish(s3, manifest)

    assert result.replaced == ["layer:deps"]
    assert core.verify_release(s3.client, s3.bucket, result.record) == []


# -- verification -------------------------------------------------------------------------


def test_a_corrupted_object_is_detected(s3: S3, tmp_path: Path) -> None:
    record = publish(s3, make_build(tmp_path)).record
    key = record.artifacts["function:chat_api"].s3_key
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"corrupted", ChecksumAlgorithm="SHA256")

    problems = core.verify_release(s3.client, s3.bucket, record)

    assert len(problems) == 1
    assert problems[0].startswith(f"function:chat_api (s3://{s3.bucket}/{key}): size 9")


def test_an_object_without_a_sha256_checksum_is_not_trusted(s3: S3, tmp_path: Path) -> None:
    manifest = make_build(tmp_path)
    record = publish(s3, manifest).record
    artifact = record.artifacts["frontend"]
    # Same bytes, but stored by a tool that sent no SHA-256 (S3 then keeps only a CRC).
    body = (tmp_path / artifact.path).read_bytes()
    s3.client.put_object(Bucket=s3.bucket, Key=artifact.s3_key, Body=body)

    problems = core.verify_release(s3.client, s3.bucket, record)

    assert problems == [
        f"frontend (s3://{s3.bucket}/{artifact.s3_key}): stored without a SHA-256 checksum "
        "(publish again)"
    ]


def test_deep_verification_hashes_the_bytes(s3: S3, tmp_path: Path) -> None:
    record = publish(s3, make_build(tmp_path)).record
    artifact = record.artifacts["layer:deps"]
    # Same size and a checksum header claiming the recorded hash, different bytes.
    forged = bytes(artifact.size)
    s3.client.put_object(
        Bucket=s3.bucket,
        Key=artifact.s3_key,
        Body=forged,
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=artifact.sha256_base64,
    )
    stored = core.head(s3.client, s3.bucket, artifact.s3_key)
    if stored is None or stored.sha256_base64 != artifact.sha256_base64:
        pytest.skip("this S3 checks the SHA-256 it is sent, so the forgery cannot be stored")

    assert core.verify_release(s3.client, s3.bucket, record) == []
    problems = core.verify_release(s3.client, s3.bucket, record, deep=True)
    assert problems == [
        f"layer:deps (s3://{s3.bucket}/{artifact.s3_key}): content does not hash to the "
        "recorded SHA-256"
    ]


# -- promote ------------------------------------------------------------------------------


def test_promote_pins_prod_to_the_exact_dev_release(s3: S3, tmp_path: Path) -> None:
    dev = publish(s3, make_build(tmp_path)).record
    uploaded = artifact_keys(s3)

    result = promote(s3, T0 + timedelta(hours=1), source="dev", target="prod")

    prod = stored_record(s3, "prod")
    assert result.action == "promote"
    assert result.previous is None
    assert prod["release_id"] == dev.release_id
    assert prod["artifacts"] == stored_record(s3, "dev")["artifacts"]
    assert prod["created_at"] == dev.created_at
    assert prod["git_commit"] == dev.git_commit
    assert prod["pin"] == {
        "action": "promote",
        "source": "dev",
        "at": "2026-11-27T10:00:00.000Z",
        "strategy": None,
    }
    assert artifact_keys(s3) == uploaded  # a pointer was copied, no bytes


def test_promote_refuses_a_missing_artifact(s3: S3, tmp_path: Path) -> None:
    dev = publish(s3, make_build(tmp_path)).record
    key = dev.artifacts["function:post_confirmation"].s3_key
    s3.client.delete_object(Bucket=s3.bucket, Key=key)

    with pytest.raises(core.IntegrityError) as refused:
        promote(s3, T0, source="dev", target="prod")

    assert str(refused.value).startswith(
        f"refusing to pin prod to {dev.release_id}: 1 of 4 objects failed verification"
    )
    assert refused.value.problems == [
        f"function:post_confirmation (s3://{s3.bucket}/{key}): missing"
    ]
    assert core.current(s3.client, s3.bucket, "prod") is None


def test_promote_refuses_a_corrupted_artifact_and_keeps_prod(s3: S3, tmp_path: Path) -> None:
    first = publish(s3, make_build(tmp_path / "one")).record
    promote(s3, T0, source="dev", target="prod")
    second = publish(s3, make_build(tmp_path / "two", code="v2"), at=T0 + timedelta(hours=1)).record
    key = second.artifacts["function:chat_api"].s3_key
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"tampered", ChecksumAlgorithm="SHA256")

    with pytest.raises(core.IntegrityError, match=r"function:chat_api .*: size 8, recorded"):
        promote(s3, T0 + timedelta(hours=2), source="dev", target="prod")

    assert stored_record(s3, "prod")["release_id"] == first.release_id


def test_promote_refuses_a_source_older_than_the_target(s3: S3, tmp_path: Path) -> None:
    old = publish(s3, make_build(tmp_path / "one")).record
    new = publish(s3, make_build(tmp_path / "two", code="v2"), at=T0 + timedelta(hours=1)).record
    promote(s3, T0 + timedelta(hours=2), source="dev", target="prod")
    promote(s3, T0 + timedelta(hours=3), target="dev", release_id=old.release_id)  # dev goes back

    with pytest.raises(
        core.PromotionRefused, match=f"dev runs {old.release_id} .* older than prod's"
    ):
        promote(s3, T0 + timedelta(hours=4), source="dev", target="prod")

    assert stored_record(s3, "prod")["release_id"] == new.release_id


def test_promote_of_the_release_already_pinned_changes_nothing(s3: S3, tmp_path: Path) -> None:
    publish(s3, make_build(tmp_path))
    promote(s3, T0, source="dev", target="prod")
    before = s3.client.head_object(Bucket=s3.bucket, Key="releases/prod.json")["ETag"]

    result = promote(s3, T0 + timedelta(hours=1), source="dev", target="prod")

    assert not result.pinned
    assert s3.client.head_object(Bucket=s3.bucket, Key="releases/prod.json")["ETag"] == before


def test_promote_refuses_a_release_from_another_commit(s3: S3, tmp_path: Path) -> None:
    publish(s3, make_build(tmp_path), git_commit="1234567890abcdef" * 2 + "12345678")

    with pytest.raises(
        core.PromotionRefused, match=r"built from 1234567890abcdef.*not the expected"
    ):
        promote(s3, T0, source="dev", target="prod", expect_commit="fedcba0987654321")

    result = promote(s3, T0, source="dev", target="prod", expect_commit="1234567890ab")
    assert result.pinned


def test_a_check_verifies_everything_and_pins_nothing(s3: S3, tmp_path: Path) -> None:
    dev = publish(s3, make_build(tmp_path)).record

    checked = promote(s3, T0, source="dev", target="prod", check_only=True)

    assert checked.record.release_id == dev.release_id
    assert not checked.pinned
    assert core.current(s3.client, s3.bucket, "prod") is None
    s3.client.delete_object(Bucket=s3.bucket, Key=dev.artifacts["layer:deps"].s3_key)
    with pytest.raises(core.IntegrityError, match=r"layer:deps .*: missing"):
        promote(s3, T0, source="dev", target="prod", check_only=True)


def test_expect_commit_must_be_a_commit_id(s3: S3, tmp_path: Path) -> None:
    publish(s3, make_build(tmp_path))

    for wrong in ("a", "main", "HEAD~1", "$(id)"):
        with pytest.raises(core.PromotionRefused, match="is not a commit id"):
            promote(s3, T0, source="dev", target="prod", expect_commit=wrong)


def test_promote_loses_no_race_with_another_writer(s3: S3, tmp_path: Path) -> None:
    publish(s3, make_build(tmp_path / "one"))
    promote(s3, T0, source="dev", target="prod")
    publish(s3, make_build(tmp_path / "two", code="v2"), at=T0 + timedelta(hours=1))
    other = b'{"written": "by another pipeline"}'

    def meanwhile(_: str) -> None:  # runs after promote has read prod's record
        s3.client.put_object(Bucket=s3.bucket, Key="releases/prod.json", Body=other)

    with pytest.raises(core.ConcurrentChange, match="changed while this ran"):
        core.promote(s3.client, s3.bucket, source="dev", target="prod", now=T0, progress=meanwhile)

    assert s3.client.get_object(Bucket=s3.bucket, Key="releases/prod.json")["Body"].read() == other


def test_promote_from_an_environment_without_release(s3: S3) -> None:
    with pytest.raises(core.ReleaseNotFound, match="dev has no release yet"):
        promote(s3, T0, source="dev", target="prod")


def test_environment_names_cannot_escape_the_releases_prefix(s3: S3) -> None:
    with pytest.raises(core.ReleaseError, match="not a valid name"):
        promote(s3, T0, source="../sha256", target="prod")


# -- rollback and history -----------------------------------------------------------------


def test_rollback_restores_the_previous_record(s3: S3, tmp_path: Path) -> None:
    first = publish(s3, make_build(tmp_path / "one")).record
    promote(s3, T0 + timedelta(minutes=1), source="dev", target="prod")
    first_prod = stored_record(s3, "prod")
    second = publish(s3, make_build(tmp_path / "two", code="v2"), at=T0 + timedelta(hours=1)).record
    promote(s3, T0 + timedelta(hours=1, minutes=1), source="dev", target="prod")
    assert stored_record(s3, "prod")["release_id"] == second.release_id

    result = promote(s3, T0 + timedelta(hours=2), target="prod", release_id=first.release_id)

    restored = stored_record(s3, "prod")
    assert result.action == "rollback"
    assert result.previous is not None
    assert result.previous.release_id == second.release_id
    assert {k: v for k, v in restored.items() if k != "pin"} == {
        k: v for k, v in first_prod.items() if k != "pin"
    }
    assert restored["pin"]["action"] == "rollback"
    ids = [r.release_id for r in core.history(s3.client, s3.bucket, "prod")]
    assert ids == [second.release_id, first.release_id]  # newest first, both kept

    forward = promote(s3, T0 + timedelta(hours=3), target="prod", release_id=second.release_id)
    assert forward.action == "promote"  # pinned by id, but forwards in time
    assert stored_record(s3, "prod")["release_id"] == second.release_id


def test_rollback_to_an_unknown_release_is_refused(s3: S3, tmp_path: Path) -> None:
    publish(s3, make_build(tmp_path))

    with pytest.raises(core.ReleaseNotFound, match="not in the kept history of prod"):
        promote(s3, T0, target="prod", release_id="20250101T000000Z-0123456789ab")
    with pytest.raises(core.ReleaseNotFound, match="is not a release id"):
        promote(s3, T0, target="prod", release_id="../../dev")


def test_history_keeps_the_last_n_releases(s3: S3, tmp_path: Path) -> None:
    ids = []
    for n in range(4):
        manifest = make_build(tmp_path / str(n), code=f"v{n}")
        ids.append(publish(s3, manifest, at=T0 + timedelta(hours=n), keep=2).record.release_id)

    kept = [r.release_id for r in core.history(s3.client, s3.bucket, "dev")]

    assert kept == [ids[3], ids[2]]
    assert core.environments(s3.client, s3.bucket) == ["dev"]


# -- frontend -----------------------------------------------------------------------------


def _site_bucket(s3: S3) -> str:
    name = f"parley-site-{uuid.uuid4().hex[:12]}"
    s3.client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


SITE_CONFIG = {
    "region": REGION,
    "cognito": {"userPoolId": f"{REGION}_AbCdEf123", "clientId": "4example5client6id"},
    "httpApiUrl": "https://api.chat.example.com",
    "wsUrl": "wss://ws.chat.example.com",
}


def test_sync_frontend_sets_cache_headers_and_writes_the_environments_config(
    s3: S3, tmp_path: Path
) -> None:
    record = publish(s3, make_build(tmp_path)).record
    site = _site_bucket(s3)
    config = json.dumps(SITE_CONFIG).encode()

    result = core.sync_frontend(
        s3.client, s3.bucket, record, site_bucket=site, config=config, progress=print
    )

    def headers(key: str) -> tuple[str, str]:
        answer = s3.client.head_object(Bucket=site, Key=key)
        return answer["CacheControl"], answer["ContentType"]

    assert headers("assets/index-w1AbCd1234.js") == (core.IMMUTABLE, "text/javascript")
    assert headers("assets/style-9f8e7d6c.css") == (core.IMMUTABLE, "text/css")
    assert headers("index.html") == (core.NO_CACHE, "text/html")
    assert headers("favicon.svg")[0] == core.NO_CACHE
    assert headers("config.json") == (core.NO_CACHE, "application/json")
    # The environment's config, not the one the local build carried, live and in the version.
    for key in ("config.json", f"versions/{record.release_id}/config.json"):
        assert json.loads(s3.client.get_object(Bucket=site, Key=key)["Body"].read()) == SITE_CONFIG
    assert (result.files, result.immutable, result.no_cache) == (5, 2, 3)


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not an object"),
        (json.dumps({**SITE_CONFIG, "wsUrl": None}).encode(), "wsUrl"),
        (json.dumps({**SITE_CONFIG, "httpApiUrl": "http://api.example.com"}).encode(), "https"),
        (json.dumps({k: v for k, v in SITE_CONFIG.items() if k != "cognito"}).encode(), "cognito"),
        (
            json.dumps(
                {**SITE_CONFIG, "oauth": {"domain": "http://x.example", "providers": []}}
            ).encode(),
            "oauth.domain",
        ),
        (
            json.dumps(
                {
                    **SITE_CONFIG,
                    "oauth": {
                        "domain": "https://x.example",
                        "providers": [{"name": "-", "label": "X"}],
                    },
                }
            ).encode(),
            "oauth.providers.0.name",
        ),
        (
            json.dumps(
                {
                    **SITE_CONFIG,
                    "oauth": {
                        "domain": "https://x.example",
                        "providers": [{"name": "corp", "label": ""}],
                    },
                }
            ).encode(),
            "oauth.providers.0.label",
        ),
    ],
)
def test_sync_frontend_refuses_a_config_the_app_would_not_start_with(
    s3: S3, tmp_path: Path, config: bytes, reason: str
) -> None:
    record = publish(s3, make_build(tmp_path)).record
    site = _site_bucket(s3)

    with pytest.raises(core.ReleaseError, match=reason):
        core.sync_frontend(s3.client, s3.bucket, record, site_bucket=site, config=config)

    assert "Contents" not in s3.client.list_objects_v2(Bucket=site)  # nothing half-written


def test_sync_frontend_refuses_a_bundle_that_does_not_match(s3: S3, tmp_path: Path) -> None:
    record = publish(s3, make_build(tmp_path)).record
    key = record.artifacts["frontend"].s3_key
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=_zip({"index.html": b"evil"}))
    site = _site_bucket(s3)

    with pytest.raises(core.IntegrityError, match="refusing to sync"):
        core.sync_frontend(
            s3.client, s3.bucket, record, site_bucket=site, config=json.dumps(SITE_CONFIG).encode()
        )

    assert "Contents" not in s3.client.list_objects_v2(Bucket=site)
