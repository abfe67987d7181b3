"""The local stack's moto (`tasks.local.aws`) against moto as shipped, side by side.

Two moto processes, one tuned and one as shipped (the baseline), each with the chat table
holding a conversation of 20 messages among other conversations' messages (200, then 5,000
items). Timed on each: the TransactWriteItems that stores a chat message (message + idempotency
marker, both conditional) and the Query that reads one conversation's 20 messages. Prints ms per
call and the baseline ÷ tuned ratio.

Run: `python -m tests.benchmarks.bench_moto` (or `invoke bench --only moto`).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from tasks.local.aws import MotoProcess
from tasks.local.bootstrap import FAKE_CREDENTIALS, bootstrap

REGION = "us-east-1"
SIZES = (200, 5_000)
CALLS = 30


def _seed(dynamodb: Any, table: str, items: int) -> None:
    rows = [("C#timed", f"MSG#{n:04}") for n in range(20)]
    rows += [(f"C#other{n // 50}", f"MSG#{n:05}") for n in range(items - len(rows))]
    for start in range(0, len(rows), 25):
        dynamodb.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {"pk": {"S": pk}, "sk": {"S": sk}, "text": {"S": "x" * 120}}
                        }
                    }
                    for pk, sk in rows[start : start + 25]
                ]
            }
        )


def _transaction(dynamodb: Any, table: str) -> None:
    message = uuid.uuid4().hex
    condition = "attribute_not_exists(pk)"
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table,
                    "Item": {"pk": {"S": "C#timed"}, "sk": {"S": f"MSG#z{message}"}},
                    "ConditionExpression": condition,
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": {"pk": {"S": "C#timed"}, "sk": {"S": f"CLIENT#{message}"}},
                    "ConditionExpression": condition,
                }
            },
        ]
    )


def _query(dynamodb: Any, table: str) -> None:
    answer = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :p AND begins_with(sk, :m)",
        ExpressionAttributeValues={":p": {"S": "C#timed"}, ":m": {"S": "MSG#0"}},
    )
    assert len(answer["Items"]) == 20


def _ms_per_call(call: Callable[[], None]) -> float:
    call()  # warm
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(process: MotoProcess, items: int) -> dict[str, float]:
    resources = bootstrap(process.url, region=REGION, prefix=f"bench-{items}-")
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=process.url, region_name=REGION, **FAKE_CREDENTIALS
    )
    table = resources.table_names["chat"]
    _seed(dynamodb, table, items)
    return {
        "TransactWriteItems": _ms_per_call(lambda: _transaction(dynamodb, table)),
        "Query (one conversation)": _ms_per_call(lambda: _query(dynamodb, table)),
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-moto-") as tmp:
        shipped = MotoProcess("127.0.0.1", 0, Path(tmp) / "shipped", tuned=False)
        tuned = MotoProcess("127.0.0.1", 0, Path(tmp) / "tuned")
        try:
            shipped.start()
            tuned.start()
            print(f"{'call':26} {'items':>6} {'as shipped':>11} {'tuned':>9} {'ratio':>7}")
            for items in SIZES:
                base, ours = measure(shipped, items), measure(tuned, items)
                for name in base:
                    print(
                        f"{name:26} {items:>6} {base[name]:>8.1f} ms {ours[name]:>6.1f} ms "
                        f"{base[name] / ours[name]:>6.1f}×"
                    )
        finally:
            shipped.stop()
            tuned.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
