"""Lambda's DynamoDB event source mapping, on moto: poll a table's stream, invoke a function.

The local stack runs one `StreamPoller` per manifest `triggers.stream` (`stream_processor` on
the `chat` table). It does what Lambda's mapping does, with the manifest's settings:

* polls every shard (Lambda polls each shard about four times a second; so does this);
* drops records whose partition key lacks `key_prefix` (Lambda's event filter) before batching;
* gathers up to `batch_size` records, waiting at most `batching_window_seconds` after the first;
* invokes the function with Lambda's event shape and reads its partial batch response
  (`batchItemFailures`): the batch is done up to the first failed record, and from that record
  on it is retried; a function error fails the whole batch;
* with `bisect_on_error`, splits a failing batch in two before retrying (splits do not count as
  retries); a batch that keeps failing after `max_retries`, or whose oldest record is older
  than `max_record_age_seconds`, goes to the on-failure destination as Lambda sends it — the
  batch's shard and sequence numbers, not the records (`invoke redrive` fetches them again);
* one batch at a time per shard, in order: a failing batch holds its shard, as in Lambda.

Differences from AWS (docs/local-stack.md): retries wait 0.2 s × attempt (at most 2 s) instead
of Lambda's backoff; moto keeps one shard per table and never splits it; the stream keeps records
as long as moto runs (AWS: 24 h).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("parley.local.streams")

POLL_INTERVAL = 0.25
"""Seconds between polls of a shard (Lambda: about 4 polls per second)."""

Invoke = Callable[[dict[str, Any]], Any]
"""Runs the function on an event: returns its response, raises when it fails."""
DeadLetter = Callable[[dict[str, Any]], None]
"""Sends one on-failure record (Lambda's format) to the destination."""


@dataclass(frozen=True)
class Mapping:
    """An event source mapping's settings (manifest `triggers.stream`)."""

    batch_size: int = 100
    batching_window_seconds: float = 0.0
    max_retries: int = 5
    max_record_age_seconds: int = 3600
    bisect_on_error: bool = True
    key_prefix: str | None = None
    starting_position: str = "TRIM_HORIZON"

    @classmethod
    def from_manifest(cls, config: Any, *, window: float | None = None) -> Mapping:
        return cls(
            batch_size=config.batch_size,
            batching_window_seconds=(config.batching_window_seconds if window is None else window),
            max_retries=config.max_retries,
            max_record_age_seconds=config.max_record_age_seconds,
            bisect_on_error=config.bisect_on_error,
            key_prefix=config.key_prefix,
            starting_position=config.starting_position,
        )


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it to the function (JSON, epoch seconds)."""
    stream = dict(record["dynamodb"])
    stream["ApproximateCreationDateTime"] = _epoch(stream["ApproximateCreationDateTime"])
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }


def matches(record: dict[str, Any], key_prefix: str | None) -> bool:
    """Lambda's filter `{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": …}]}}}}`."""
    if key_prefix is None:
        return True
    key = record.get("dynamodb", {}).get("Keys", {}).get("pk", {}).get("S", "")
    return str(key).startswith(key_prefix)


def failure_record(
    batch: list[dict[str, Any]],
    *,
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    condition: str,
    attempts: int,
    error: str,
) -> dict[str, Any]:
    """The on-failure destination's message for a batch, in Lambda's format."""
    first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": error,
        },
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": datetime.fromtimestamp(
                first["ApproximateCreationDateTime"], UTC
            ).isoformat(),
            "approximateArrivalOfLastRecord": datetime.fromtimestamp(
                last["ApproximateCreationDateTime"], UTC
            ).isoformat(),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    }


def failed_from(response: Any, batch: list[dict[str, Any]]) -> int | None:
    """The index in `batch` the retry starts from, per the partial batch response; None when
    every record succeeded. An unknown or empty identifier fails the whole batch (Lambda)."""
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return None
    positions = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(batch)}
    found = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            return 0
        found.append(positions[identifier])
    return min(found)


@dataclass
class Shard:
    shard_id: str
    iterator: str | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    first_buffered: float = 0.0


class StreamPoller:
    """One event source mapping: a stream, a function, its settings and failure destination."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        *,
        function_arn: str,
        mapping: Mapping,
        invoke: Invoke,
        dead_letter: DeadLetter | None = None,
        region: str = "us-east-1",
        retry_delay: float = 0.2,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.function_arn = function_arn
        self.mapping = mapping
        self.invoke = invoke
        self.dead_letter = dead_letter
        self.region = region
        self.retry_delay = retry_delay
        self.shards: dict[str, Shard] = {}
        self.invocations = 0
        self.dead_lettered = 0
        self.dead_letter_queue_url: str | None = None
        """Where `dead_letter` sends (for the stack's summary and `invoke redrive`)."""
        self.lags: list[float] = []
        """Seconds from each record's creation to the end of the invocation that took it."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._discover()

    # -- shards ---------------------------------------------------------------------------------
    def _discover(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self.shards:
                iterator = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType=self.mapping.starting_position,
                )["ShardIterator"]
                self.shards[shard_id] = Shard(shard_id, iterator)

    # -- polling --------------------------------------------------------------------------------
    def poll_once(self, *, flush: bool = False) -> int:
        """Read every shard once and deliver the batches that are due (all of them when
        `flush`); the number of records read and delivered."""
        with self._lock:
            work = 0
            for shard in self.shards.values():
                work += self._read(shard)
                work += self._deliver_due(shard, flush=flush)
            return work

    def _read(self, shard: Shard) -> int:
        if shard.iterator is None:
            return 0
        response = self.streams.get_records(ShardIterator=shard.iterator, Limit=1000)
        shard.iterator = response.get("NextShardIterator")
        records = response.get("Records", [])
        kept = [
            lambda_record(r, self.stream_arn, self.region)
            for r in records
            if matches(r, self.mapping.key_prefix)
        ]
        if kept and not shard.buffer:
            shard.first_buffered = time.monotonic()
        shard.buffer.extend(kept)
        return len(records)

    def _deliver_due(self, shard: Shard, *, flush: bool) -> int:
        size, delivered = self.mapping.batch_size, 0
        while shard.buffer:
            waited = time.monotonic() - shard.first_buffered
            if not (
                flush or len(shard.buffer) >= size or waited >= self.mapping.batching_window_seconds
            ):
                break
            batch, shard.buffer = shard.buffer[:size], shard.buffer[size:]
            shard.first_buffered = time.monotonic()
            self._deliver(shard.shard_id, batch)
            delivered += len(batch)
        return delivered

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        """Invoke until the batch is done, bisecting and retrying as the mapping says."""
        pending: list[tuple[list[dict[str, Any]], int]] = [(batch, 0)]
        while pending and not self._stop.is_set():
            records, retries = pending.pop(0)
            error = ""
            try:
                self.invocations += 1
                response = self.invoke({"Records": records})
                start = failed_from(response, records)
            except Exception as exc:  # noqa: BLE001 - a function error: the whole batch is retried
                log.warning("stream batch of %d failed: %s", len(records), exc)
                start, error = 0, "Unhandled"
            done = time.time()
            succeeded = records if start is None else records[:start]
            self.lags.extend(done - r["dynamodb"]["ApproximateCreationDateTime"] for r in succeeded)
            if start is None:
                continue
            remaining = records[start:]
            oldest = remaining[0]["dynamodb"]["ApproximateCreationDateTime"]
            if time.time() - oldest > self.mapping.max_record_age_seconds:
                self._dead_letter(shard_id, remaining, "RecordAgeExceeded", retries + 1, error)
                continue
            if self.mapping.bisect_on_error and len(remaining) > 1:
                half = len(remaining) // 2
                pending[:0] = [(remaining[:half], retries), (remaining[half:], retries)]
                continue
            if retries >= self.mapping.max_retries:
                self._dead_letter(shard_id, remaining, "RetryAttemptsExhausted", retries + 1, error)
                continue
            time.sleep(min(2.0, self.retry_delay * (retries + 1)))
            pending.insert(0, (remaining, retries + 1))

    def _dead_letter(
        self, shard_id: str, batch: list[dict[str, Any]], condition: str, attempts: int, error: str
    ) -> None:
        self.dead_lettered += len(batch)
        log.error("stream batch of %d sent to the dead-letter queue (%s)", len(batch), condition)
        if self.dead_letter is not None:
            self.dead_letter(
                failure_record(
                    batch,
                    shard_id=shard_id,
                    stream_arn=self.stream_arn,
                    function_arn=self.function_arn,
                    condition=condition,
                    attempts=attempts,
                    error=error,
                )
            )

    def drain(self, timeout: float = 30.0) -> None:
        """Deliver everything written so far (ignoring the batching window): tests call this
        where Lambda would have caught up, instead of sleeping."""
        deadline = time.monotonic() + timeout
        while self.poll_once(flush=True):
            if time.monotonic() > deadline:
                raise TimeoutError("the change feed did not catch up")

    # -- background -----------------------------------------------------------------------------
    def start(self) -> StreamPoller:
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        polls = 0
        while not self._stop.wait(POLL_INTERVAL):
            try:
                polls += 1
                if polls % 40 == 0:
                    with self._lock:
                        self._discover()
                self.poll_once()
            except Exception:
                log.exception("stream poll failed; polling again")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
