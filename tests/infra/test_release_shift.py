"""Traffic shifting against moto (in process): versions, aliases and their routing config are
moto's real implementation; CloudWatch alarms are moto's too, but moto never evaluates an
alarm from Lambda's metrics, so a bad canary is stood in for by `set_alarm_state` — what the
alarm would do when the new version's errors, throttles or p99 duration cross its threshold.
No test sleeps: the shift's clock and sleep are injected, and each "sleep" is a moment where
the test looks at (or breaks) the world.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tasks.core import release_shift as rs
from tasks.core.release import ReleaseError, ReleaseRecord

REGION = "eu-west-1"
PREFIX = "parley-test"
ROLE = "arn:aws:iam::123456789012:role/parley-test-fn"


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", text)
    return buffer.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class World:
    """Two functions at v1 behind `live`; `release(...)` publishes new code as Terraform would."""

    def __init__(self) -> None:
        self.lam = boto3.client("lambda", region_name=REGION)
        self.cw = boto3.client("cloudwatch", region_name=REGION)
        iam = boto3.client("iam", region_name=REGION)
        iam.create_role(RoleName="parley-test-fn", AssumeRolePolicyDocument="{}")
        self.code: dict[str, bytes] = {}
        for name in ("chat_api", "ws_authorizer"):
            data = _zip(f"# {name} v1")
            self.lam.create_function(
                FunctionName=f"{PREFIX}-{name}", Runtime="python3.12", Role=ROLE,
                Handler="app.handler", Code={"ZipFile": data}, Publish=True,
            )  # fmt: skip
            self.lam.create_alias(FunctionName=f"{PREFIX}-{name}", Name="live", FunctionVersion="1")
            self.code[name] = data
            for suffix in rs.ALARM_SUFFIXES:
                self.alarm(f"{PREFIX}-{name}-{suffix}")
        self.alarm(f"{PREFIX}-http-5xx")

    def alarm(self, name: str) -> None:
        self.cw.put_metric_alarm(
            AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
            Period=300, EvaluationPeriods=1, Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )  # fmt: skip

    def publish(self, name: str, text: str) -> str:
        data = _zip(text)
        self.lam.update_function_code(FunctionName=f"{PREFIX}-{name}", ZipFile=data)
        version = self.lam.publish_version(FunctionName=f"{PREFIX}-{name}")["Version"]
        self.code[name] = data
        return version

    def record(self) -> ReleaseRecord:
        artifacts: dict[str, Any] = {}
        for name, data in self.code.items():
            digest = hashlib.sha256(data).hexdigest()
            artifacts[f"function:{name}"] = {
                "kind": "function", "path": f"dist/functions/{name}.zip", "size": len(data),
                "sha256": digest, "sha256_base64": _b64(data), "s3_key": f"sha256/{digest}.zip",
            }  # fmt: skip
        return ReleaseRecord.model_validate(
            {"version": 1, "runtime": "python3.12", "architecture": "arm64",
             "artifacts": artifacts, "release_id": "20260101T000000Z-0123456789ab",
             "git_commit": "0" * 40, "created_at": "2026-01-01T00:00:00.000Z"}
        )  # fmt: skip

    def alias(self, name: str) -> tuple[str, dict[str, float]]:
        got = self.lam.get_alias(FunctionName=f"{PREFIX}-{name}", Name="live")
        return got["FunctionVersion"], dict(
            (got.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        )


class Clock:
    """Time that moves only when the shift sleeps; `during` runs at each sleep."""

    def __init__(self, during: Any = None) -> None:
        self.now = 0.0
        self.during = during
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.during:
            self.during(self.now)
        self.now += seconds


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


def _shift(world: World, clock: Clock, strategy: str, lines: list[str] | None = None) -> Any:
    return rs.shift(
        world.lam, world.cw, world.record(), name_prefix=PREFIX, strategy=strategy,
        poll_seconds=60, sleep=clock.sleep, clock=clock.time,
        progress=(lines.append if lines is not None else lambda _: None),
    )  # fmt: skip


def test_a_canary_serves_ten_percent_then_everything(world: World) -> None:
    new = world.publish("chat_api", "# chat_api v2")
    seen: list[Any] = []
    clock = Clock(during=lambda _: seen.append(
        [s.describe() for s in rs.traffic(world.lam, world.record(), PREFIX)]
    ))  # fmt: skip
    result = _shift(world, clock, "canary10-5m")
    # During the canary `invoke releases --traffic` shows the split of the changed function only.
    assert seen[0] == ["v1 90% / v2 10%", "v1 100%"]
    assert sum(clock.sleeps) == 300
    assert len(seen) == 5
    assert world.alias("chat_api") == (new, {})
    assert [m.name for m in result.moved] == ["chat_api"]
    assert result.unchanged == ["ws_authorizer"]  # the artifact hash decides
    assert world.alias("ws_authorizer") == ("1", {})


def test_linear_moves_ten_percent_a_minute(world: World) -> None:
    world.publish("chat_api", "# v2")
    world.publish("ws_authorizer", "# v2")
    weights: list[float] = []
    clock = Clock(during=lambda _: weights.append(world.alias("chat_api")[1].get("2", 0)))
    _shift(world, clock, "linear10-1m")
    assert sorted(set(weights)) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert world.alias("chat_api") == ("2", {})
    assert world.alias("ws_authorizer") == ("2", {})


def test_an_alarm_during_the_canary_restores_the_previous_version(world: World) -> None:
    world.publish("chat_api", "# v2 (bad)")
    world.publish("ws_authorizer", "# v2")

    def bad_canary(now: float) -> None:
        if now >= 120:  # two minutes in, the new version's errors cross the threshold
            world.cw.set_alarm_state(AlarmName=f"{PREFIX}-chat_api-errors",
                                     StateValue="ALARM", StateReason="canary errors")  # fmt: skip

    lines: list[str] = []
    with pytest.raises(rs.RolledBack) as caught:
        _shift(world, Clock(during=bad_canary), "canary10-5m", lines)
    assert caught.value.alarms == [f"{PREFIX}-chat_api-errors"]
    # Every function of the release goes back, with no weights left behind.
    assert world.alias("chat_api") == ("1", {})
    assert world.alias("ws_authorizer") == ("1", {})
    assert "10% of traffic on the new versions (canary10-5m)" in lines


def test_a_shift_does_not_start_while_an_alarm_is_on(world: World) -> None:
    world.publish("chat_api", "# v2")
    world.cw.set_alarm_state(AlarmName=f"{PREFIX}-http-5xx", StateValue="ALARM", StateReason="x")
    with pytest.raises(rs.ShiftRefused, match="http-5xx"):
        _shift(world, Clock(), "all-at-once")
    assert world.alias("chat_api") == ("1", {})


def test_a_release_terraform_has_not_published_is_refused(world: World) -> None:
    record = world.record()
    world.code["chat_api"] = _zip("# never published")
    with pytest.raises(rs.ShiftRefused, match="run terraform apply"):
        _shift(world, Clock(), "all-at-once")
    assert record  # the published record still shifts nothing: both on v1
    assert world.alias("chat_api") == ("1", {})


def test_an_interrupted_shift_is_finished_or_rolled_back_from_the_stable_version(
    world: World,
) -> None:
    world.publish("chat_api", "# v2")
    # A runner died mid-canary: v1 serves 90%, v2 10%.
    world.lam.update_alias(FunctionName=f"{PREFIX}-chat_api", Name="live", FunctionVersion="1",
                           RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})  # fmt: skip
    moves, _ = rs.plan(world.lam, world.record(), PREFIX)
    assert [(m.previous, m.target) for m in moves] == [("1", "2")]
    _shift(world, Clock(), "all-at-once")
    assert world.alias("chat_api") == ("2", {})


def test_nothing_to_shift_when_every_alias_serves_the_release(world: World) -> None:
    lines: list[str] = []
    result = _shift(world, Clock(), "canary10-5m", lines)
    assert result.moved == []
    assert "nothing to shift" in lines[0]


@pytest.mark.parametrize(
    ("name", "steps"),
    [
        ("all-at-once", [(100, 0)]),
        ("canary10-5m", [(10, 300), (100, 0)]),
        ("canary25-15m", [(25, 900), (100, 0)]),
        ("linear50-2m", [(50, 120), (100, 0)]),
    ],
)
def test_strategies(name: str, steps: list[tuple[int, float]]) -> None:
    assert [(s.weight, s.wait_seconds) for s in rs.strategy_steps(name)] == steps


@pytest.mark.parametrize("name", ["canary", "canary0-5m", "canary100-5m", "linear10-0m", "blue"])
def test_unknown_strategies_are_refused(name: str) -> None:
    with pytest.raises(ReleaseError):
        rs.strategy_steps(name)


# ── the web app, after the functions ────────────────────────────────────────────────────────


def test_the_web_app_deploys_whole_then_its_entry_points_and_only_they_are_invalidated() -> None:
    from tasks.core import release as core

    files = {"assets/app-3f9a8b7c6d.js": b"js", "favicon.svg": b"<svg/>", "index.html": b"<html>",
             "config.json": b"{}"}  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artifacts")
        s3.create_bucket(Bucket="site")
        s3.put_object(Bucket="artifacts", Key=f"sha256/{digest}.zip", Body=data)
        record = ReleaseRecord.model_validate(
            {"version": 1, "runtime": "python3.12", "architecture": "arm64",
             "release_id": "20260101T000000Z-0123456789ab", "git_commit": "0" * 40,
             "created_at": "2026-01-01T00:00:00.000Z",
             "artifacts": {"frontend": {"kind": "frontend", "path": "dist/frontend.zip",
                                        "size": len(data), "sha256": digest,
                                        "sha256_base64": _b64(data),
                                        "s3_key": f"sha256/{digest}.zip"}}}
        )  # fmt: skip
        written: list[str] = []
        original = s3.put_object

        def recording(**kwargs: Any) -> Any:
            written.append(kwargs["Key"])
            return original(**kwargs)

        s3.put_object = recording  # type: ignore[method-assign]
        config = {
            "region": "us-east-1",
            "cognito": {"userPoolId": "p", "clientId": "c"},
            "httpApiUrl": "https://api.example.com",
            "wsUrl": "wss://ws.example.com",
        }
        core.sync_frontend(
            s3, "artifacts", record, site_bucket="site", config=json.dumps(config).encode(),
            progress=lambda _: None,
        )  # fmt: skip
        live = [k for k in written if not k.startswith("versions/")]
        # The versioned copy is complete before anything live changes (the environment's
        # config in it, not the build's); then the assets, and config.json and index.html last.
        assert written[: len(files)] == [f"versions/{record.release_id}/{n}" for n in sorted(files)]
        assert live == ["assets/app-3f9a8b7c6d.js", "favicon.svg", "config.json", "index.html"]
        body = s3.get_object(Bucket="site", Key="config.json")["Body"].read()
        assert json.loads(body) == config

        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        origin = {
            "Id": "site",
            "DomainName": "site.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }
        behaviour = {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        }
        distribution = cloudfront.create_distribution(
            DistributionConfig={"CallerReference": "x", "Comment": "", "Enabled": True,
                                "Origins": {"Quantity": 1, "Items": [origin]},
                                "DefaultCacheBehavior": behaviour}
        )["Distribution"]["Id"]  # fmt: skip
        made = core.invalidate_entry_points(
            cloudfront, distribution, record.release_id, progress=lambda _: None
        )
        got = cloudfront.get_invalidation(DistributionId=distribution, Id=made)["Invalidation"]
        assert sorted(got["InvalidationBatch"]["Paths"]["Items"]) == [
            "/",
            "/config.json",
            "/index.html",
        ]
