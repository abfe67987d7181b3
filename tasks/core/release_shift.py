"""Traffic shifting: move each function's `live` alias to the version a release published —
all at once, as a canary or linearly — watching the alarms and rolling back on the first one.

Terraform publishes a version whenever a function's code (the artifact's hash) or configuration
changes and leaves the alias where it is; the pipeline then runs `invoke shift`, which finds, per
function, the newest version whose CodeSha256 is the release's artifact hash. Functions whose
alias already serves that version are left alone. Every changed function moves in the same
steps (a release is one unit); during each step's wait the rollback alarms (errors, throttles,
p99 duration of the shifted functions, the HTTP API's 5xx) are polled, and one in ALARM puts
every alias back on its previous version, with no weights.

Everything takes boto3 clients and plain values, so it runs under invoke, in CI and in tests
against moto alike.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tasks.core.release import Progress, ReleaseError, ReleaseRecord

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

CloudWatchClient = Any  # no stubs for CloudWatch in the environment

ALIAS = "live"
ALL_AT_ONCE = "all-at-once"
_STRATEGY = re.compile(r"^(canary|linear)(\d{1,2})-(\d{1,3})m$")
ALARM_SUFFIXES = ("errors", "throttles", "duration-p99")
"""The per-function alarms of terraform/modules/observability that stop a release."""
POLL_SECONDS = 15.0


class ShiftRefused(ReleaseError):
    """The shift cannot start (no published version for the release, an alarm already on)."""


class RolledBack(ReleaseError):
    """An alarm went off during the shift; every alias is back on its previous version."""

    def __init__(self, message: str, alarms: list[str]) -> None:
        self.alarms = alarms
        super().__init__(message)


@dataclass(frozen=True)
class Step:
    weight: int
    """Percent of traffic on the new version during this step (100 = done)."""
    wait_seconds: float
    """How long the alarms are watched before the next step."""


def strategy_steps(name: str) -> list[Step]:
    """`all-at-once`, `canary<P>-<M>m` (P% for M minutes, then all) or `linear<P>-<M>m` (P%
    more every M minutes)."""
    if name == ALL_AT_ONCE:
        return [Step(100, 0)]
    match = _STRATEGY.match(name)
    if not match:
        raise ReleaseError(
            f"strategy {name!r} is not all-at-once, canary<percent>-<minutes>m or "
            "linear<percent>-<minutes>m (e.g. canary10-5m, linear10-1m)"
        )
    kind, percent, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if not 1 <= percent <= 99 or minutes < 1:
        raise ReleaseError(f"strategy {name!r}: the percent must be 1-99 and the minutes ≥ 1")
    wait = minutes * 60.0
    if kind == "canary":
        return [Step(percent, wait), Step(100, 0)]
    weights = list(range(percent, 100, percent))
    return [*(Step(w, wait) for w in weights), Step(100, 0)]


@dataclass
class FunctionShift:
    name: str
    """Manifest name (chat_api)."""
    function_name: str
    previous: str
    """The version the alias served before (where a rollback returns)."""
    target: str
    """The version the release published."""


@dataclass
class Split:
    """What an alias serves right now."""

    name: str
    function_name: str
    version: str
    extra: dict[str, float] = field(default_factory=dict)
    """Another version => its share of traffic (0-1), during a canary or linear shift."""

    def describe(self) -> str:
        if not self.extra:
            return f"v{self.version} 100%"
        rest = 1 - sum(self.extra.values())
        parts = [f"v{self.version} {rest:.0%}"] + [f"v{v} {w:.0%}" for v, w in self.extra.items()]
        return " / ".join(parts)


def function_names(record: ReleaseRecord, name_prefix: str) -> dict[str, str]:
    """Manifest name => deployed function name, for every function the release carries."""
    return {
        key.partition(":")[2]: f"{name_prefix}-{key.partition(':')[2]}"
        for key, artifact in sorted(record.artifacts.items())
        if artifact.kind == "function"
    }


def split(lam: LambdaClient, name: str, function_name: str, alias: str = ALIAS) -> Split | None:
    try:
        answer = lam.get_alias(FunctionName=function_name, Name=alias)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    weights = (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return Split(name, function_name, answer["FunctionVersion"], dict(weights))


def traffic(
    lam: LambdaClient, record: ReleaseRecord, name_prefix: str, alias: str = ALIAS
) -> list[Split]:
    """Each function's split, for `invoke releases --traffic`."""
    found = []
    for name, fn in function_names(record, name_prefix).items():
        got = split(lam, name, fn, alias)
        if got is not None:
            found.append(got)
    return found


def _versions(lam: LambdaClient, function_name: str) -> list[dict[str, Any]]:
    versions: list[dict[str, Any]] = []
    paginator = lam.get_paginator("list_versions_by_function")
    for page in paginator.paginate(FunctionName=function_name):
        versions.extend(dict(v) for v in page["Versions"] if v["Version"] != "$LATEST")
    return versions


def plan(
    lam: LambdaClient, record: ReleaseRecord, name_prefix: str, alias: str = ALIAS
) -> tuple[list[FunctionShift], list[str]]:
    """The functions to move (and from/to which version), and those already on the release.

    The target is the newest published version whose CodeSha256 is the release's hash of that
    function's zip: Terraform published it; a newer configuration of the same code wins.
    """
    moves: list[FunctionShift] = []
    unchanged: list[str] = []
    problems: list[str] = []
    for name, fn in function_names(record, name_prefix).items():
        wanted = record.artifacts[f"function:{name}"].sha256_base64
        now = split(lam, name, fn, alias)
        if now is None:
            problems.append(f"{fn}: no alias {alias!r} (has terraform apply run?)")
            continue
        matching = [v for v in _versions(lam, fn) if v.get("CodeSha256") == wanted]
        if not matching:
            problems.append(
                f"{fn}: no published version has the release's code ({wanted[:12]}…); "
                "run terraform apply for this release first"
            )
            continue
        target = max(matching, key=lambda v: int(v["Version"]))["Version"]
        if now.version == target and not now.extra:
            unchanged.append(name)
            continue
        # A shift interrupted halfway left weights: the stable version is where it returns.
        previous = now.version if now.version != target else next(iter(now.extra), target)
        moves.append(FunctionShift(name, fn, previous, target))
    if problems:
        raise ShiftRefused("cannot shift traffic:\n  " + "\n  ".join(problems))
    return moves, unchanged


def rollback_alarms(moves: Iterable[FunctionShift], name_prefix: str) -> list[str]:
    names = [f"{m.function_name}-{suffix}" for m in moves for suffix in ALARM_SUFFIXES]
    return [*names, f"{name_prefix}-http-5xx"]


def alarms_on(cw: CloudWatchClient, names: list[str]) -> tuple[list[str], int]:
    """The named alarms in ALARM, and how many of the names exist."""
    firing: list[str] = []
    found = 0
    for start in range(0, len(names), 100):
        answer = cw.describe_alarms(AlarmNames=names[start : start + 100])
        for alarm in answer.get("MetricAlarms", []):
            found += 1
            if alarm["StateValue"] == "ALARM":
                firing.append(alarm["AlarmName"])
    return sorted(firing), found


def _route(lam: LambdaClient, move: FunctionShift, alias: str, weight: int) -> None:
    if weight >= 100:
        lam.update_alias(
            FunctionName=move.function_name,
            Name=alias,
            FunctionVersion=move.target,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )
    else:
        lam.update_alias(
            FunctionName=move.function_name,
            Name=alias,
            FunctionVersion=move.previous,
            RoutingConfig={"AdditionalVersionWeights": {move.target: weight / 100}},
        )


def _restore(lam: LambdaClient, moves: list[FunctionShift], alias: str) -> None:
    for move in moves:
        lam.update_alias(
            FunctionName=move.function_name,
            Name=alias,
            FunctionVersion=move.previous,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )


@dataclass
class ShiftResult:
    moved: list[FunctionShift]
    unchanged: list[str]
    strategy: str


def shift(
    lam: LambdaClient,
    cw: CloudWatchClient,
    record: ReleaseRecord,
    *,
    name_prefix: str,
    strategy: str = ALL_AT_ONCE,
    alias: str = ALIAS,
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Progress = print,
) -> ShiftResult:
    """Move every changed function's alias to the release's version, step by step.

    Refuses to start while a rollback alarm is already on (it could not tell this release's
    harm from what was there). Between steps the alarms are polled every `poll_seconds`; the
    first one in ALARM restores every alias to its previous version and raises RolledBack.
    """
    steps = strategy_steps(strategy)
    moves, unchanged = plan(lam, record, name_prefix, alias)
    if not moves:
        progress(f"every function already serves {record.release_id}; nothing to shift")
        return ShiftResult([], unchanged, strategy)
    watched = rollback_alarms(moves, name_prefix)
    firing, found = alarms_on(cw, watched)
    if firing:
        raise ShiftRefused(
            f"refusing to shift while alarms are on: {', '.join(firing)} "
            "(resolve them, or roll back with `invoke promote --release <previous>`)"
        )
    if found == 0 and len(steps) > 1:
        progress("warning: none of the rollback alarms exist; nothing can stop this shift")
    for move in moves:
        progress(f"{move.name:<20} v{move.previous} → v{move.target}")
    for step in steps:
        for move in moves:
            _route(lam, move, alias, step.weight)
        progress(f"{step.weight}% of traffic on the new versions ({strategy})")
        deadline = clock() + step.wait_seconds
        while clock() < deadline:
            sleep(min(poll_seconds, max(deadline - clock(), 0)))
            firing, _ = alarms_on(cw, watched)
            if firing:
                _restore(lam, moves, alias)
                back = ", ".join(f"{m.name} v{m.previous}" for m in moves)
                raise RolledBack(
                    f"rolled back: {', '.join(firing)} went off at {step.weight}%; every alias "
                    f"is back on its previous version ({back})",
                    firing,
                )
    progress(f"shifted {len(moves)} functions to {record.release_id}; {len(unchanged)} unchanged")
    return ShiftResult(moves, unchanged, strategy)
