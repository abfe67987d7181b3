"""Deletes expired items of the connections table, the job DynamoDB TTL does (moto never does)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

log = logging.getLogger("parley.local.sweeper")


def sweep_once(client: Any, table: str, attribute: str = "expires_at") -> int:
    """Delete every item whose TTL attribute is in the past; return how many went."""
    now = int(time.time())
    removed = 0
    paginator = client.get_paginator("scan")
    pages = paginator.paginate(
        TableName=table,
        FilterExpression="#ttl < :now",
        ExpressionAttributeNames={"#ttl": attribute},
        ExpressionAttributeValues={":now": {"N": str(now)}},
        ProjectionExpression="pk, sk",
    )
    for page in pages:
        for item in page.get("Items", []):
            client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
            removed += 1
    return removed


async def sweep_forever(client: Any, table: str, interval: float) -> None:
    """Sweep every `interval` seconds until cancelled; a failed sweep is logged and retried."""
    while True:
        await asyncio.sleep(interval)
        try:
            removed = await asyncio.to_thread(sweep_once, client, table)
        except Exception:
            log.exception("sweeping %s failed", table)
            continue
        if removed:
            log.info("swept %d expired connection items", removed)
