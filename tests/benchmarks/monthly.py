"""The monthly AWS bill of Parley at N daily users: a usage model (YAML) times what one reply,
one request and one connection cost in the cost benchmark, times the price table.

`invoke cost --daily-users N [--model-file …]` prints it, for Parley's coalesced streaming and
for the same load posted one frame per token. The arithmetic is here, small and pure, so the
unit tests check it on hand-computed cases (tests/unit/test_monthly_bill.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.benchmarks.cost import PriceTable

HERE = Path(__file__).resolve().parent
MODEL_FILE = HERE / "usage_model.yaml"
REPLY_USAGE_FILE = HERE / "reply_usage.json"
"""Written by the cost benchmark: what one reply of each scenario used, per mode."""

REPLY_FIELDS = (
    "write_units",
    "read_units",
    "websocket_units",
    "lambda_requests",
    "lambda_gb_seconds",
    "log_bytes",
)


@dataclass(frozen=True)
class UsageModel:
    days_per_month: float
    monthly_active_per_daily: float
    per_user_per_day: Mapping[str, float]
    replies_by_audience: Mapping[str, float]
    per_request: Mapping[str, float]

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> UsageModel:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        model = cls(
            days_per_month=float(data["days_per_month"]),
            monthly_active_per_daily=float(data["monthly_active_per_daily"]),
            per_user_per_day={k: float(v) for k, v in data["per_user_per_day"].items()},
            replies_by_audience={k: float(v) for k, v in data["replies_by_audience"].items()},
            per_request={k: float(v) for k, v in data["per_request"].items()},
        )
        shares = sum(model.replies_by_audience.values())
        if abs(shares - 1) > 1e-6:
            raise ValueError(f"{path}: replies_by_audience must add up to 1, not {shares:g}")
        return model


def load_reply_usage(path: Path = REPLY_USAGE_FILE) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `invoke bench --only cost` to write it")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def monthly_bill(
    model: UsageModel,
    replies: Mapping[str, Mapping[str, Mapping[str, float]]],
    prices: PriceTable,
    *,
    daily_users: float,
    mode: str,
    idle: float = 0.0,
) -> dict[str, float]:
    """Dollars a month by line. `replies`: scenario → mode → one reply's usage (REPLY_FIELDS);
    `idle`: the deployment's fixed monthly cost."""
    p = {name: price.each for name, price in prices.usage.items()}
    user_days = daily_users * model.days_per_month
    day = model.per_user_per_day
    req = model.per_request
    lines = dict.fromkeys(
        (
            "DynamoDB",
            "WebSocket messages",
            "WebSocket connection minutes",
            "HTTP API requests",
            "Lambda",
            "CloudWatch Logs",
            "Cognito",
            "idle (dashboard, alarms, keys)",
        ),
        0.0,
    )
    reply_count = user_days * day["replies"]
    for scenario, share in model.replies_by_audience.items():
        one = replies[scenario][mode]
        n = reply_count * share
        lines["DynamoDB"] += n * (
            one["write_units"] * p["dynamodb_write_request_units"]
            + one["read_units"] * p["dynamodb_read_request_units"]
        )
        lines["WebSocket messages"] += n * one["websocket_units"] * p["websocket_messages"]
        lines["Lambda"] += n * (
            one["lambda_requests"] * p["lambda_requests"]
            + one["lambda_gb_seconds"] * p["lambda_gb_seconds_arm64"]
        )
        lines["CloudWatch Logs"] += n * one["log_bytes"] / 1024**3 * p["cloudwatch_logs_ingestion"]
    http = user_days * day["http_requests"]
    lines["HTTP API requests"] += http * p["http_api_requests"]
    lines["Lambda"] += http * (
        p["lambda_requests"] + req["http_lambda_gb_seconds"] * p["lambda_gb_seconds_arm64"]
    )
    lines["DynamoDB"] += http * req["http_read_units"] * p["dynamodb_read_request_units"]
    room = user_days * day["room_messages"]
    lines["DynamoDB"] += room * (
        req["room_message_write_units"] * p["dynamodb_write_request_units"]
        + req["room_message_read_units"] * p["dynamodb_read_request_units"]
    )
    lines["WebSocket messages"] += room * (req["room_message_posts"] + 1) * p["websocket_messages"]
    lines["Lambda"] += room * p["lambda_requests"]
    connects = user_days * day["connects"]
    lines["DynamoDB"] += connects * req["connect_write_units"] * p["dynamodb_write_request_units"]
    lines["Lambda"] += connects * (
        3 * p["lambda_requests"]  # the authorizer, $connect and $disconnect
        + req["connect_lambda_gb_seconds"] * p["lambda_gb_seconds_arm64"]
    )
    lines["WebSocket connection minutes"] += (
        user_days * day["connection_minutes"] * p["websocket_connection_minutes"]
    )
    lines["Cognito"] += daily_users * model.monthly_active_per_daily * p["cognito_plus_mau"]
    lines["idle (dashboard, alarms, keys)"] += idle
    return lines


def replies_a_month(model: UsageModel, daily_users: float) -> float:
    return daily_users * model.days_per_month * model.per_user_per_day["replies"]


def render(
    model: UsageModel,
    reply_usage: Mapping[str, Any],
    prices: PriceTable,
    daily_users: float,
    model_path: Path,
) -> str:
    """The bill as printed by `invoke cost`: each line for both modes, then the totals."""
    scenarios = reply_usage["scenarios"]
    idle = float(reply_usage.get("idle_monthly", {}).get("prod", 0.0))
    modes = [m for m in ("coalesced", "per-token") if all(m in s for s in scenarios.values())]
    bills = {
        m: monthly_bill(model, scenarios, prices, daily_users=daily_users, mode=m, idle=idle)
        for m in modes
    }
    day = model.per_user_per_day
    out = [
        f"Parley at {daily_users:,.0f} daily users, a {model.days_per_month:g}-day month "
        f"({model_path.name}; {prices.region} list prices of {prices.as_of}; model excluded)",
        f"  per user a day: {day['replies']:g} assistant replies of "
        f"{reply_usage.get('tokens', 1000):,} tokens, {day['room_messages']:g} other room "
        f"messages, {day['http_requests']:g} HTTP requests, {day['connection_minutes']:g} "
        f"connected minutes; replies heard by "
        + ", ".join(f"{k} {v:.0%}" for k, v in model.replies_by_audience.items()),
        f"  {replies_a_month(model, daily_users):,.0f} replies a month, "
        f"{daily_users * model.monthly_active_per_daily:,.0f} monthly active users",
        f"  {'':<32}" + "".join(f"{m:>16}" for m in modes),
    ]
    for line in next(iter(bills.values())):
        out.append(f"  {line:<32}" + "".join(f"{bills[m][line]:>16,.2f}" for m in modes))
    totals = {m: sum(b.values()) for m, b in bills.items()}
    out.append(
        f"  {'total (dollars a month)':<32}" + "".join(f"{totals[m]:>16,.2f}" for m in modes)
    )
    if "per-token" in totals and totals["coalesced"]:
        out.append(
            f"  per-token posting would cost {totals['per-token'] / totals['coalesced']:.1f}× "
            "as much"
        )
    return "\n".join(out)
