"""Fan-out to big rooms: one chunk to 1,000 and 10,000 subscribers, sequential, from the worker's
own pool, and sharded through `fanout` functions (parley/realtime/shards.py).

1. The CPU floor: what one PostToConnection costs botocore here (a real client posting to the
   loopback @connections endpoint), and one synchronous Lambda invoke of a slice; from them,
   the CPU-bound time of a slice on a `fanout` of the manifest's memory and of the worker's
   invokes at its memory (a function has memory/1,769 of a vCPU).
2. Simulation: every post takes 20 ms (API Gateway's round trip) and costs no CPU here; each
   `fanout` invoke adds 15 ms. The real `Broadcaster` and `ShardPoster` run, the slices on
   threads as separate functions would. Prints the wall time of one chunk to every subscriber,
   the shard count, and the speed-up over sequential posting (measured on 200 posts, scaled).
   Goals: ≥ 10× over sequential at 1,000; all 10,000 within 1 s.

Run: `python -m tests.benchmarks.bench_fanout` (or `invoke bench --only fanout`).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "functions"))

from parley.realtime.fanout import (  # noqa: E402
    DEFAULT_POOL_SIZE,
    Broadcaster,
    RoomMembers,
    post_frame,
)
from parley.realtime.protocol import MessageDelta, encode_event  # noqa: E402
from parley.realtime.shards import (  # noqa: E402
    SHARD_SIZE,
    SHARD_THRESHOLD,
    ShardPoster,
    post_slice,
    shard_count,
)
from parley.store.connections import Subscriber  # noqa: E402
from tasks.core.manifest import load_manifest  # noqa: E402

POST_SECONDS = 0.020
INVOKE_SECONDS = 0.015
FULL_VCPU_MB = 1769
WINDOW_SECONDS = 1.0
ROOM = "01JDX3Z8N4Q7RM2V5K6B9C1T0E"
REPLY = "01JDX40C3D4E5F6G7H8J9K0M1N"


class SlowClient:
    """PostToConnection that takes POST_SECONDS and always succeeds."""

    def post_to_connection(self, **_: Any) -> None:
        time.sleep(POST_SECONDS)


class NoConnections:
    """The broadcast's table side: nobody is stale, nobody is an outsider."""

    def remove_stale(self, conversation_id: str, connection_id: str) -> None:  # pragma: no cover
        raise AssertionError("no post answers 410 here")

    def unsubscribe(self, connection_id: str, conversation_id: str) -> None:  # pragma: no cover
        raise AssertionError("every subscriber is a member here")


def room(n: int) -> list[Subscriber]:
    return [Subscriber(connection_id=f"c{i:05d}=", user_id=f"u{i}", name="") for i in range(n)]


def chunk() -> MessageDelta:
    return MessageDelta(conversation_id=ROOM, message_id=REPLY, seq=7, delta="x" * 400)


_SLICE_POOL: ThreadPoolExecutor | None = None


def _slice_in_process(payload: dict[str, Any]) -> dict[str, Any]:
    """One simulated `fanout` invocation, in a process of its own (as a function would be):
    its own posting pool and a slow client; the invoke's latency first."""
    global _SLICE_POOL
    if _SLICE_POOL is None:
        _SLICE_POOL = ThreadPoolExecutor(DEFAULT_POOL_SIZE)
    time.sleep(INVOKE_SECONDS)
    client: Any = SlowClient()
    return post_slice(payload, lambda c, d: post_frame(client, c, d), _SLICE_POOL)


def _warm(_: int) -> int:
    """A warm container: the slice's pool started, nothing posted."""
    global _SLICE_POOL
    if _SLICE_POOL is None:
        _SLICE_POOL = ThreadPoolExecutor(DEFAULT_POOL_SIZE)
    time.sleep(0.2)  # every process gets one
    return os.getpid()


class FanoutFunctions:
    """`fanout` functions as warm processes: each slice runs apart from the worker's GIL."""

    def __init__(self, count: int) -> None:
        self.pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"))
        warm = set(self.pool.map(_warm, range(count)))
        assert len(warm) == count, (len(warm), count)

    def invoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.pool.submit(_slice_in_process, payload).result()

    def close(self) -> None:
        self.pool.shutdown()


def one_chunk(subscribers: list[Subscriber], *, functions: FanoutFunctions | None = None) -> float:
    shards = ShardPoster(functions.invoke) if functions is not None else None
    broadcaster = Broadcaster(NoConnections(), SlowClient(), shards=shards)  # type: ignore[arg-type]
    members = RoomMembers.fixed({s.user_id for s in subscribers})
    started = time.perf_counter()
    result = broadcaster.broadcast("room", chunk(), members=members, subscribers=subscribers)
    elapsed = time.perf_counter() - started
    assert result.delivered == len(subscribers), result
    return elapsed


def sequential(n: int, sample: int = 200) -> float:
    client = SlowClient()
    started = time.perf_counter()
    for _ in range(sample):
        client.post_to_connection()
    return (time.perf_counter() - started) / sample * n


def cpu_floor() -> tuple[float, float]:
    """botocore's CPU for one PostToConnection and one RequestResponse invoke, here."""
    import boto3

    from tests.support.connections_endpoint import ConnectionsEndpoint

    endpoint = ConnectionsEndpoint().start()
    try:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        management = session.client("apigatewaymanagementapi", endpoint_url=endpoint.url)
        functions = session.client("lambda", endpoint_url=endpoint.origin)
        data = encode_event(chunk())
        payload = json.dumps(
            {"data": data.decode(), "connections": [f"c{i:05d}=" for i in range(SHARD_SIZE)]}
        ).encode()
        management.post_to_connection(ConnectionId="warm=", Data=data)
        functions.invoke(FunctionName="fanout", InvocationType="Event", Payload=payload)
        best_post = best_invoke = float("inf")
        for _ in range(3):
            started = time.thread_time()
            for i in range(100):
                management.post_to_connection(ConnectionId=f"c{i:05d}=", Data=data)
            best_post = min(best_post, (time.thread_time() - started) / 100)
            started = time.thread_time()
            for _ in range(20):
                functions.invoke(FunctionName="fanout", InvocationType="Event", Payload=payload)
            best_invoke = min(best_invoke, (time.thread_time() - started) / 20)
        return best_post, best_invoke
    finally:
        endpoint.stop()


def main() -> int:
    manifest = load_manifest()
    fanout_mb = manifest.memory(manifest.functions["fanout"])
    worker_mb = manifest.memory(manifest.functions["bot_worker"])
    post_cpu, invoke_cpu = cpu_floor()
    print(
        f"1. CPU floor here: {post_cpu * 1000:.2f} ms a PostToConnection, "
        f"{invoke_cpu * 1000:.2f} ms a fanout invoke (botocore, best of 3)"
    )
    fanout_share = min(1.0, fanout_mb / FULL_VCPU_MB)
    worker_share = min(1.0, worker_mb / FULL_VCPU_MB)
    print(
        f"   a slice of {SHARD_SIZE} on a {fanout_mb} MB fanout ({fanout_share:.2f} vCPU): "
        f"{SHARD_SIZE * post_cpu / fanout_share:.2f} s of CPU-bound posting; one worker of "
        f"{worker_mb} MB ({worker_share:.2f} vCPU) posting alone: "
        f"{post_cpu / worker_share * 1000:.1f} ms a post"
    )
    print("2. one chunk to every subscriber (simulated posts of 20 ms, invokes of 15 ms)")
    print(
        f"   {'subscribers':>11} {'sequential':>11} {'worker pool':>12} {'sharded':>9} "
        f"{'shards':>7} {'speed-up':>9} {'CPU floor':>10}  goal"
    )
    figures: dict[str, Any] = {"post_cpu_ms": round(post_cpu * 1000, 3)}
    for n in (1000, 10_000):
        subscribers = room(n)
        alone = sequential(n)
        pooled = one_chunk(subscribers)
        shards = shard_count(n) if n > SHARD_THRESHOLD else 0
        functions = FanoutFunctions(shards)
        try:
            one_chunk(subscribers, functions=functions)  # the slices' pools warm up
            sharded = min(one_chunk(subscribers, functions=functions) for _ in range(3))
        finally:
            functions.close()
        # CPU-bound: the worker's invokes on its share, then the slowest slice on its own
        floor = shards * invoke_cpu / worker_share + min(n, SHARD_SIZE) * post_cpu / fanout_share
        speedup = alone / sharded
        goal = (
            f"≥ 10× over sequential: {'met' if speedup >= 10 else 'NOT met'}"
            if n == 1000
            else f"all within {WINDOW_SECONDS:.0f} s: "
            f"{'met' if sharded <= WINDOW_SECONDS else 'NOT met'}"
            f" (CPU floor {'within' if floor <= WINDOW_SECONDS else 'beyond'} it)"
        )
        print(
            f"   {n:>11,} {alone:>10.2f}s {pooled:>11.2f}s {sharded:>8.2f}s {shards:>7} "
            f"{speedup:>8.0f}× {floor:>9.2f}s  {goal}"
        )
        figures[str(n)] = {
            "sequential_s": round(alone, 2),
            "sharded_s": round(sharded, 3),
            "shards": shards,
            "cpu_floor_s": round(floor, 3),
        }
    print(
        f"   sharded above {SHARD_THRESHOLD} recipients, {SHARD_SIZE} a slice; the worker "
        "waits for every slice before the next chunk (order per connection)"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
