"""`invoke cost`: the monthly bill's arithmetic on hand-computed cases (round prices)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmarks.cost import Price, PriceTable
from tests.benchmarks.monthly import MODEL_FILE, UsageModel, monthly_bill, render


def _price(name: str, price: float, per: float = 1_000_000) -> Price:
    return Price(name, price, per, "unit", "test", "test")


PRICES = PriceTable(
    region="us-east-1",
    as_of="test",
    usage={
        "dynamodb_write_request_units": _price("w", 1.0),  # $1 a million
        "dynamodb_read_request_units": _price("r", 0.5),
        "websocket_messages": _price("m", 1.0),
        "websocket_connection_minutes": _price("c", 0.25),
        "http_api_requests": _price("h", 1.0),
        "lambda_requests": _price("l", 0.2),
        "lambda_gb_seconds_arm64": _price("g", 0.00001, 1),
        "cloudwatch_logs_ingestion": _price("logs", 0.5, 1),  # per GB
        "cognito_plus_mau": _price("mau", 0.02, 1),
    },
    idle={},
    no_idle_cost={},
)

MODEL = UsageModel(
    days_per_month=30,
    monthly_active_per_daily=2,
    per_user_per_day={
        "replies": 10,
        "room_messages": 0,
        "http_requests": 0,
        "connection_minutes": 0,
        "connects": 0,
    },
    replies_by_audience={"solo": 0.5, "room": 0.5},
    per_request={
        "http_lambda_gb_seconds": 0.0,
        "http_read_units": 0.0,
        "room_message_write_units": 0.0,
        "room_message_read_units": 0.0,
        "room_message_posts": 0.0,
        "connect_write_units": 0.0,
        "connect_lambda_gb_seconds": 0.0,
    },
)

ONE = {
    "write_units": 40,
    "read_units": 20,
    "websocket_units": 10,
    "lambda_requests": 2,
    "lambda_gb_seconds": 2.0,
    "log_bytes": 1024**3 / 1_000_000,  # a GB per million replies
}
REPLIES = {"solo": {"coalesced": ONE}, "room": {"coalesced": {**ONE, "websocket_units": 100}}}


def test_a_month_of_replies_by_hand() -> None:
    """1,000 users × 30 days × 10 replies = 300,000 replies, half solo, half in a room."""
    bill = monthly_bill(MODEL, REPLIES, PRICES, daily_users=1000, mode="coalesced", idle=5.6)
    n = 300_000
    assert bill["DynamoDB"] == pytest.approx(n * (40 * 1e-6 + 20 * 0.5e-6))  # $15.00
    assert bill["DynamoDB"] == pytest.approx(15.0)
    assert bill["WebSocket messages"] == pytest.approx(n / 2 * 10e-6 + n / 2 * 100e-6)  # 16.50
    assert bill["Lambda"] == pytest.approx(n * (2 * 0.2e-6 + 2.0 * 0.00001))  # 0.12 + 6.00
    assert bill["CloudWatch Logs"] == pytest.approx(0.3 * 0.5)  # 0.3 GB
    assert bill["Cognito"] == pytest.approx(2000 * 0.02)  # 2,000 monthly active users
    assert bill["idle (dashboard, alarms, keys)"] == 5.6
    assert sum(bill.values()) == pytest.approx(15 + 16.5 + 6.12 + 0.15 + 40 + 5.6)


def test_requests_connections_and_room_messages_by_hand() -> None:
    model = UsageModel(
        days_per_month=10,
        monthly_active_per_daily=1,
        per_user_per_day={
            "replies": 0,
            "room_messages": 2,
            "http_requests": 5,
            "connection_minutes": 60,
            "connects": 1,
        },
        replies_by_audience={"solo": 1.0},
        per_request={
            "http_lambda_gb_seconds": 0.1,
            "http_read_units": 2,
            "room_message_write_units": 10,
            "room_message_read_units": 4,
            "room_message_posts": 9,
            "connect_write_units": 4,
            "connect_lambda_gb_seconds": 0.05,
        },
    )
    bill = monthly_bill(
        model, {"solo": {"coalesced": ONE}}, PRICES, daily_users=100_000, mode="coalesced"
    )
    user_days = 1_000_000
    http, room, connects = 5 * user_days, 2 * user_days, user_days
    assert bill["HTTP API requests"] == pytest.approx(http * 1e-6)  # $5
    assert bill["DynamoDB"] == pytest.approx(
        http * 2 * 0.5e-6 + room * (10e-6 + 4 * 0.5e-6) + connects * 4e-6
    )  # 5 + 24 + 4 = $33
    assert bill["DynamoDB"] == pytest.approx(33.0)
    assert bill["WebSocket messages"] == pytest.approx(room * 10e-6)  # 9 posts + the one sent
    assert bill["WebSocket connection minutes"] == pytest.approx(60 * user_days * 0.25e-6)
    assert bill["Lambda"] == pytest.approx(
        http * (0.2e-6 + 0.1 * 0.00001) + room * 0.2e-6 + connects * (3 * 0.2e-6 + 0.05 * 0.00001)
    )


def test_the_shares_of_replies_must_add_up(tmp_path: Path) -> None:
    text = MODEL_FILE.read_text(encoding="utf-8").replace(
        "one-person chat: 0.80", "one-person chat: 0.9"
    )
    bad = tmp_path / "model.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="add up to 1"):
        UsageModel.load(bad)


def test_the_printed_bill_compares_the_two_modes() -> None:
    both = {
        "solo": {"coalesced": ONE, "per-token": {**ONE, "websocket_units": 1000}},
        "room": {"coalesced": ONE, "per-token": {**ONE, "websocket_units": 1000}},
    }
    text = render(MODEL, {"scenarios": both, "tokens": 1000}, PRICES, 1000, MODEL_FILE)
    assert "300,000 replies a month" in text
    coalesced = sum(monthly_bill(MODEL, both, PRICES, daily_users=1000, mode="coalesced").values())
    per_token = sum(monthly_bill(MODEL, both, PRICES, daily_users=1000, mode="per-token").values())
    assert per_token - coalesced == pytest.approx(300_000 * 990e-6)  # 990 more frames a reply
    assert f"{per_token / coalesced:.1f}× as much" in text
