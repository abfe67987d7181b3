"""Sharded fan-out: a big room's chunk posted by `fanout` functions, each to a slice of it.

PostToConnection costs a few milliseconds of CPU in botocore, and a Lambda function has
memory/1,769 of a vCPU: one `bot_worker` cannot post a chunk to thousands of sockets within a
window. Above `SHARD_THRESHOLD` recipients the broadcaster hands the chunk to `ShardPoster`,
which cuts the recipient list into slices of `SHARD_SIZE` and invokes the `fanout` function
once per slice, synchronously and all at once; each `fanout` posts its slice on its own thread
pool (`post_slice`) and answers what happened to each connection.

Order and seq: `post` returns only when every slice has answered, and the writer posts chunk
n + 1 only after chunk n's `post` returned — so every connection gets the chunks in seq order,
as from one worker; a slice whose invoke failed twice counts as failed posts (the subscriber
resumes from its snapshot, as after any failed post). The chunk's frame is encoded once, by the
worker; the fan-out functions never read DynamoDB (410s go back to the worker, which forgets
those connections).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

logger = logging.getLogger(__name__)

SHARD_THRESHOLD = 200
"""Recipients above which a broadcast is sharded (below, the worker's own pool posts it)."""
SHARD_SIZE = 250
"""Connections per `fanout` invoke: at ~3 ms of CPU a post, 250 posts are ~0.75 s of one full
vCPU — a `fanout` of 1,769 MB finishes its slice within a chunk's window."""
MAX_SHARDS = 64
"""Slices invoked at once (the worker's invoke pool); 64 × 250 = 16,000 connections a round."""

Outcome = str
""""ok", "gone" (410: the connection is forgotten) or "failed"."""
Invoke = Callable[[dict[str, Any]], dict[str, Any]]
"""Invoke the `fanout` function synchronously with a payload; its answer."""


def shard_count(recipients: int, size: int = SHARD_SIZE) -> int:
    return math.ceil(recipients / size) if recipients > 0 else 0


class ShardPoster:
    """Posts one encoded frame to many connections through `fanout` invokes, in order."""

    def __init__(
        self,
        invoke: Invoke,
        *,
        threshold: int = SHARD_THRESHOLD,
        size: int = SHARD_SIZE,
        max_shards: int = MAX_SHARDS,
    ) -> None:
        self._send = invoke
        self.threshold = threshold
        self.size = size
        self._pool = ThreadPoolExecutor(max_shards, thread_name_prefix="shards")

    def wanted(self, recipients: int) -> bool:
        return recipients > self.threshold

    def post(self, connection_ids: Sequence[str], data: bytes) -> list[Outcome]:
        """Every connection's outcome, in `connection_ids` order; returns once all slices
        have answered (the ordering guarantee rests on this)."""
        text = data.decode()
        slices = [
            list(connection_ids[i : i + self.size])
            for i in range(0, len(connection_ids), self.size)
        ]
        answers = list(self._pool.map(lambda s: self._slice(s, text), slices))
        return [outcome for answer in answers for outcome in answer]

    def _slice(self, connection_ids: list[str], text: str) -> list[Outcome]:
        payload = {"data": text, "connections": connection_ids}
        for attempt in (1, 2):
            try:
                outcomes = self._send(payload)["outcomes"]
            except Exception as exc:  # noqa: BLE001 - a throttle, a crashed fan-out: once more
                logger.warning(
                    "fanout invoke failed",
                    extra={"attempt": attempt, "error": type(exc).__name__},
                )
                continue
            if isinstance(outcomes, list) and len(outcomes) == len(connection_ids):
                return [o if o in ("ok", "gone") else "failed" for o in outcomes]
            logger.warning("fanout answered %s outcomes for %s", len(outcomes), len(connection_ids))
        return ["failed"] * len(connection_ids)


def post_slice(
    event: dict[str, Any], post: Callable[[str, bytes], Outcome], pool: ThreadPoolExecutor
) -> dict[str, Any]:
    """The `fanout` function's work: post the frame to each connection of the slice."""
    data = str(event["data"]).encode()
    connections = [str(c) for c in event["connections"]]
    outcomes = list(pool.map(lambda c: post(c, data), connections))
    return {"outcomes": outcomes}


def sync_invoker(client: LambdaClient, function_name: str) -> Invoke:
    """Invoke `function_name` and wait for its answer (a function error raises)."""

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        answer = client.invoke(
            FunctionName=function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        body = answer["Payload"].read()
        if answer.get("FunctionError"):
            raise RuntimeError(f"fanout failed: {answer['FunctionError']}")
        result: dict[str, Any] = json.loads(body)
        return result

    return invoke
