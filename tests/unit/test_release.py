"""Release records, manifests and cache rules: the parts of tasks/core/release.py without S3."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tasks.core import release as core

NOW = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)


def artifact(
    data: bytes, path: str = "dist/functions/chat_api.zip", **extra: Any
) -> dict[str, Any]:
    digest = hashlib.sha256(data).digest()
    return {
        "kind": "function",
        "path": path,
        "size": len(data),
        "sha256": digest.hex(),
        "sha256_base64": base64.b64encode(digest).decode(),
        "s3_key": f"sha256/{digest.hex()}.zip",
        **extra,
    }


def manifest(**artifacts: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "runtime": "python3.12", "architecture": "arm64", "artifacts": artifacts}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    return path


def test_a_valid_manifest_keeps_every_field(tmp_path: Path) -> None:
    entry = {"handler": "chat_api.app.handler", "memory": 512}
    document = manifest(**{"function:chat_api": artifact(b"zip", entry=entry, unzipped_size=9)})

    loaded = core.load_manifest(write(tmp_path, document))
    record = core._new_record(loaded, "abc123", NOW)

    assert json.loads(record.document())["artifacts"] == document["artifacts"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"s3_key": "sha256/elsewhere.zip"}, "is not sha256/<sha256>.zip"),
        ({"sha256_base64": base64.b64encode(b"x" * 32).decode()}, "does not encode sha256"),
        ({"sha256_base64": "***"}, "is not base64"),
        ({"sha256": "ABC"}, "String should match pattern"),
        ({"size": -1}, "greater than or equal to 0"),
    ],
)
def test_an_inconsistent_artifact_is_rejected_with_its_name(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    document = manifest(**{"layer:deps": {**artifact(b"layer"), **change}})

    with pytest.raises(core.ReleaseError, match="is not a build manifest") as refused:
        core.load_manifest(write(tmp_path, document))

    assert "artifacts.layer:deps" in str(refused.value)
    assert message in str(refused.value)


def test_unreadable_manifests_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(core.ReleaseError, match="not found: run `invoke build` first"):
        core.load_manifest(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(core.ReleaseError, match="is not valid JSON"):
        core.load_manifest(tmp_path / "bad.json")
    with pytest.raises(core.ReleaseError, match="artifacts: Field required"):
        core.load_manifest(write(tmp_path, {"version": 1, "runtime": "x", "architecture": "y"}))
    with pytest.raises(core.ReleaseError, match="artifacts: Dictionary should have at least 1"):
        core.load_manifest(write(tmp_path, manifest()))


def test_the_digest_names_the_content_not_the_paths() -> None:
    a = core.BuildManifest.model_validate(manifest(**{"function:x": artifact(b"1", "dist/a.zip")}))
    moved = core.BuildManifest.model_validate(manifest(**{"function:x": artifact(b"1", "b.zip")}))
    other = core.BuildManifest.model_validate(manifest(**{"function:x": artifact(b"2")}))

    assert a.digest() == moved.digest()
    assert a.digest() != other.digest()


def test_release_ids_sort_by_time_and_name_the_content() -> None:
    build = core.BuildManifest.model_validate(manifest(**{"function:x": artifact(b"1")}))

    early = core.new_release_id(build, NOW)
    later = core.new_release_id(build, NOW + timedelta(seconds=1))
    elsewhere = core.new_release_id(build, NOW.astimezone(timezone(timedelta(hours=2))))

    assert early == f"20261127T093015Z-{build.digest()[:12]}"
    assert early < later
    assert elsewhere == early


def test_timestamps_are_utc_with_milliseconds() -> None:
    assert core.iso(NOW) == "2026-11-27T09:30:15.123Z"
    assert core.parse_time(core.iso(NOW)) == NOW.replace(microsecond=123000)


@pytest.mark.parametrize("env", ["", "Prod", "../sha256", "dev/x", "a" * 33, "1dev"])
def test_environment_names_are_checked(env: str) -> None:
    with pytest.raises(core.ReleaseError, match="not a valid name"):
        core.record_key(env)


def test_environment_keys() -> None:
    assert core.record_key("prod") == "releases/prod.json"
    assert core.history_prefix("dev-eu") == "releases/dev-eu/history/"


@pytest.mark.parametrize(
    ("name", "cache"),
    [
        ("assets/index-BdF3x9aZ.js", core.IMMUTABLE),
        ("assets/index-B_dF3x9-.css", core.IMMUTABLE),
        ("assets/fonts/inter-4f2a9c1e.woff2", core.IMMUTABLE),
        ("index.html", core.NO_CACHE),
        ("config.json", core.NO_CACHE),
        ("assets/logo.svg", core.NO_CACHE),  # not hashed: may change under the same name
        ("favicon-BdF3x9aZ.ico", core.NO_CACHE),  # hashed-looking, but outside assets/
        ("robots.txt", core.NO_CACHE),
    ],
)
def test_cache_control(name: str, cache: str) -> None:
    assert core.cache_control_for(name) == cache


def test_local_files_must_match_and_stay_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "a.zip").write_bytes(b"built")
    good = core.BuildManifest.model_validate(manifest(**{"f": artifact(b"built", "dist/a.zip")}))
    core.verify_local(good, tmp_path)

    (tmp_path / "dist" / "a.zip").write_bytes(b"tampered")
    with pytest.raises(core.IntegrityError, match=r"f: dist/a\.zip differs from the manifest"):
        core.verify_local(good, tmp_path)

    outside = core.BuildManifest.model_validate(manifest(**{"f": artifact(b"x", "../etc.zip")}))
    with pytest.raises(core.ReleaseError, match="points outside"):
        core.verify_local(outside, tmp_path)

    gone = core.BuildManifest.model_validate(manifest(**{"f": artifact(b"x", "dist/gone.zip")}))
    with pytest.raises(core.IntegrityError, match=r"f: dist/gone\.zip is missing"):
        core.verify_local(gone, tmp_path)


def test_unsafe_bundle_members_are_recognised() -> None:
    assert core._safe_member("assets/a.js")
    assert not core._safe_member("../index.html")
    assert not core._safe_member("/etc/passwd")
    assert not core._safe_member("assets/../../x")


def test_the_manifest_invoke_build_writes_is_what_publish_reads(tmp_path: Path) -> None:
    """Contract with tasks/core/artifacts.py: its manifest loads and verifies unchanged."""
    from tasks.core.artifacts import Builder
    from tasks.core.manifest import load_manifest as load_functions

    bundle = tmp_path / "app"
    (bundle / "assets").mkdir(parents=True)
    (bundle / "index.html").write_text("<!doctype html>")
    (bundle / "assets" / "index-BdF3x9aZ.js").write_text("export {}")
    builder = Builder(load_functions(), dist=tmp_path / "dist", log=lambda _: None)
    builder._write([builder.frontend(bundle)])

    build = core.load_manifest(tmp_path / "dist" / "manifest.json")

    assert list(build.artifacts) == ["frontend"]
    assert build.artifacts["frontend"].path == "dist/frontend.zip"
    core.verify_local(build, tmp_path)  # paths are relative to the folder holding dist/
