"""What AWS would bill for what the functions really do: a meter on boto3's calls, and prices.

`Meter` hooks botocore's ``before-call`` / ``after-call`` events on a boto3 session, so every
client the functions build from it is observed without a line of theirs changing:

- **DynamoDB**: each call's read and write request units, computed by DynamoDB's own rules
  from the sizes of the items involved (moto's ``ReturnConsumedCapacity`` is a constant, so it
  is not used). Writes cost 1 unit per 1 KB of the larger of the item before and after (a
  refused conditional write: of the item as it stands; at least 1), transactional writes twice
  that, and each global secondary index the item is in (or leaves, or moves within) one more
  write of the index entry. Reads cost 1 unit per 4 KB when strongly consistent and 0.5 when
  eventually consistent (at least one), transactional reads twice; a Query or Scan sums the
  sizes of every item it read, before any filter or projection. The sizes come from the
  items themselves: the meter reads the item before a write and after it (or takes it from
  the request), and reads a projected or filtered Query again in full, through a client of
  its own that it does not meter.
- **API Gateway management API**: each PostToConnection is a WebSocket message billed in
  32 KB units. The meter answers these calls itself (200, nothing sent), so a room of a
  hundred costs no HTTP round trip per subscriber; it keeps the frames of the connections it
  is asked to watch.
- **Lambda**: `invocation` times a handler call (nested ones are taken out of their caller's
  time) and bills requests and GB-seconds at the manifest's memory, with the log bytes the
  invocation printed (CloudWatch Logs ingestion) when stdout goes through `LogCounter`.
- Inbound WebSocket frames, HTTP API requests and connection minutes are counted by whoever
  plays API Gateway (`ws_inbound`, `http_request`, `connection_minutes`).

`PriceTable` turns the counts into dollars with `prices.yaml`, whose every price names its
source. Units are computed by pure functions (`item_size`, `write_units`, `read_units`,
`websocket_units`…) that `tests/unit/test_cost_model.py` checks on hand-computed cases.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import inspect
import json
import math
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TextIO
from urllib.parse import unquote

import yaml
from botocore.parsers import create_parser

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
PRICES_FILE = Path(__file__).with_name("prices.yaml")

KB = 1024
WRITE_UNIT_BYTES = 1 * KB
READ_UNIT_BYTES = 4 * KB
WEBSOCKET_UNIT_BYTES = 32 * KB
HTTP_UNIT_BYTES = 512 * KB
PLATFORM_LOG_BYTES = 300
"""Lambda's own log lines per invocation (start and report records, JSON format): an estimate."""

# --- DynamoDB's units, from item sizes -----------------------------------------------------------


def number_size(text: str) -> int:
    """A number's stored size: 1 byte per two significant digits, plus 1 (DynamoDB's rule;
    leading and trailing zeros are not stored)."""
    significant = len(Decimal(text).normalize().as_tuple().digits)
    return math.ceil(significant / 2) + 1


def _binary_size(value: Any) -> int:
    """Raw bytes, whether botocore parsed them (bytes) or they are still base64 on the wire."""
    if isinstance(value, bytes | bytearray):
        return len(value)
    return len(base64.b64decode(value))


def value_size(value: Mapping[str, Any]) -> int:
    """The size of one attribute value in DynamoDB's wire form (``{"S": "abc"}``)."""
    [(kind, inner)] = value.items()
    match kind:
        case "S":
            return len(str(inner).encode())
        case "N":
            return number_size(str(inner))
        case "B":
            return _binary_size(inner)
        case "BOOL" | "NULL":
            return 1
        case "SS":
            return sum(len(str(s).encode()) for s in inner)
        case "NS":
            return sum(number_size(str(n)) for n in inner)
        case "BS":
            return sum(_binary_size(b) for b in inner)
        case "L":
            return 3 + sum(value_size(v) + 1 for v in inner)
        case "M":
            return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Mapping[str, Any] | None) -> int:
    """An item's size: the UTF-8 length of each attribute name plus its value's size."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(*sizes: int, transactional: bool = False) -> int:
    """Write request units of one item write: 1 per started KB of the largest size given (the
    item before and after), at least 1; twice that inside a transaction."""
    units = max(1, math.ceil(max(sizes, default=0) / WRITE_UNIT_BYTES))
    return 2 * units if transactional else units


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """Read request units for `size` bytes read by one request (or one item of a batch): 1 per
    started 4 KB when strongly consistent, 0.5 when eventually consistent, at least one 4 KB
    step; twice the consistent price inside a transaction."""
    steps = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * steps
    return float(steps) if consistent else steps / 2


def websocket_units(payload_bytes: int) -> int:
    """API Gateway bills WebSocket messages in 32 KB steps: a 33 KB frame is 2 messages."""
    return max(1, math.ceil(payload_bytes / WEBSOCKET_UNIT_BYTES))


def http_request_units(payload_bytes: int) -> int:
    """HTTP API requests are metered in 512 KB steps."""
    return max(1, math.ceil(payload_bytes / HTTP_UNIT_BYTES))


def gb_seconds(billed_ms: int, memory_mb: int) -> float:
    """Lambda compute: the billed duration (whole milliseconds) times the memory in GB."""
    return billed_ms / 1000 * memory_mb / 1024


def billed_ms(seconds: float) -> int:
    """Lambda rounds every invocation's duration up to the millisecond."""
    return max(1, math.ceil(seconds * 1000 - 1e-9))


_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)
_ASSIGN = re.compile(r"^\s*(#?\w+)\s*=\s*(:\w+)\s*$")
_NAME_ONLY = re.compile(r"^\s*(#?\w+)\s*$")


def apply_update(
    item: Mapping[str, Any] | None, key: Mapping[str, Any], request: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The item after an UpdateItem made only of ``SET name = :value`` and ``REMOVE name``
    (what most of Parley's updates are), or None for anything more (the meter then reads the
    item instead). An update of a missing item creates it, with its key."""
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    parts = _CLAUSE.split(str(request.get("UpdateExpression", "")))
    if len(parts) < 3 or parts[0].strip():
        return None
    after = {**key, **(item or {})}
    for keyword, body in zip(parts[1::2], parts[2::2], strict=True):
        for piece in body.split(","):
            if keyword.upper() == "SET" and (assign := _ASSIGN.match(piece)):
                if assign[2] not in values:
                    return None
                after[names.get(assign[1], assign[1])] = values[assign[2]]
            elif keyword.upper() == "REMOVE" and (name := _NAME_ONLY.match(piece)):
                after.pop(names.get(name[1], name[1]), None)
            else:
                return None
    return after


# --- tables: keys and indexes --------------------------------------------------------------------


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None
    projection: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """What the meter must know of a table: its key and its global secondary indexes."""

    hash_key: str
    range_key: str | None = None
    indexes: tuple[IndexSpec, ...] = ()

    def key_of(self, item: Mapping[str, Any]) -> dict[str, Any]:
        names = [self.hash_key] + ([self.range_key] if self.range_key else [])
        return {n: item[n] for n in names if n in item}

    def index_entry(self, index: IndexSpec, item: Mapping[str, Any] | None) -> dict[str, Any]:
        """The item as the index holds it, or {} when the item is not in the index."""
        if not item or index.hash_key not in item:
            return {}
        if index.range_key and index.range_key not in item:
            return {}
        if index.projection == "ALL":
            return dict(item)
        keep = {self.hash_key, index.hash_key}
        keep |= {k for k in (self.range_key, index.range_key) if k}
        if index.projection == "INCLUDE":
            keep |= set(index.non_key_attributes)
        return {k: v for k, v in item.items() if k in keep}


def table_specs(tables_yaml: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, TableSpec]:
    """Specs keyed by the real table names, from `functions/tables.yaml` and the deployed names
    (logical name → table name)."""
    specs = {}
    for logical, spec in tables_yaml.items():
        indexes = tuple(
            IndexSpec(
                name=name,
                hash_key=index["hash_key"],
                range_key=index.get("range_key"),
                projection=index.get("projection", "ALL"),
                non_key_attributes=tuple(index.get("non_key_attributes", ())),
            )
            for name, index in (spec.get("global_secondary_indexes") or {}).items()
        )
        specs[names[logical]] = TableSpec(spec["hash_key"], spec.get("range_key"), indexes)
    return specs


def index_write_units(spec: TableSpec, before: Mapping[str, Any] | None, after: Any) -> int:
    """Writes a table write causes in its global secondary indexes (DynamoDB's rules): entering
    or leaving an index is one write, changing an entry in place one, moving it to another index
    key two (a delete and a put); each rounded to 1 KB on its own."""
    units = 0
    for index in spec.indexes:
        old, new = spec.index_entry(index, before), spec.index_entry(index, after)
        if not old and not new:
            continue
        keys = [index.hash_key] + ([index.range_key] if index.range_key else [])
        if old and new and any(old[k] != new[k] for k in keys):
            units += write_units(item_size(old)) + write_units(item_size(new))
        elif old != new:
            units += write_units(item_size(old), item_size(new))
    return units


# --- what the meter records ----------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One DynamoDB request as billed."""

    function: str
    scope: str
    operation: str
    table: str
    index: str | None
    target: str
    """The keys or the key condition, ids masked (``CONV#… / MSG#…``)."""
    consistent: bool
    read_units: float
    write_units: int
    index_write_units: int
    items: int
    code: str
    """The code that made the call: ``Repository.method ← caller``."""
    purpose: str
    """The first sentence of the docstring of the method that made the call."""
    error: str = ""

    def signature(self) -> tuple[str, ...]:
        return (self.operation, self.table, self.index or "", self.target, self.code, self.error)


@dataclass
class Invocation:
    function: str
    scope: str
    memory_mb: int
    measured_ms: float
    billed_ms: int
    log_bytes: int = 0


@dataclass
class Usage:
    """Billable quantities, summed over some recorded activity."""

    read_units: float = 0.0
    write_units: int = 0
    dynamodb_calls: int = 0
    websocket_out: int = 0
    """PostToConnection calls."""
    websocket_out_units: int = 0
    websocket_in_units: int = 0
    connection_minutes: float = 0.0
    http_requests: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: float = 0.0
    log_bytes: int = 0
    other_calls: Counter[str] = field(default_factory=Counter)

    @property
    def websocket_units(self) -> int:
        return self.websocket_out_units + self.websocket_in_units

    def scaled(self, factor: float) -> Usage:
        return Usage(
            read_units=self.read_units * factor,
            write_units=round(self.write_units * factor),
            dynamodb_calls=round(self.dynamodb_calls * factor),
            websocket_out=round(self.websocket_out * factor),
            websocket_out_units=round(self.websocket_out_units * factor),
            websocket_in_units=round(self.websocket_in_units * factor),
            connection_minutes=self.connection_minutes * factor,
            http_requests=round(self.http_requests * factor),
            lambda_requests=round(self.lambda_requests * factor),
            lambda_gb_seconds=self.lambda_gb_seconds * factor,
            log_bytes=round(self.log_bytes * factor),
            other_calls=Counter({k: round(v * factor) for k, v in self.other_calls.items()}),
        )


class ItemSource(Protocol):
    """Reads the meter does for itself (never metered): whole items, whole Query pages."""

    def get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None: ...

    def query(self, operation: str, request: Mapping[str, Any]) -> list[dict[str, Any]]: ...


class ClientItemSource:
    """`ItemSource` over a DynamoDB client from a session the meter does not hook."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        answer = self.client.get_item(TableName=table, Key=dict(key), ConsistentRead=True)
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def query(self, operation: str, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        call = self.client.query if operation == "Query" else self.client.scan
        items: list[dict[str, Any]] = call(**request).get("Items", [])
        return items


_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
_REPLAYABLE = {"GetItem", "Query", "Scan"}


@dataclass
class _Open:
    """An invocation under way: its own time excludes the invocations nested in it."""

    function: str
    started: float
    nested: float = 0.0
    log_bytes: int = 0


@dataclass
class _Pending:
    operation: str
    request: dict[str, Any]
    function: str
    scope: str
    code: str
    purpose: str
    before: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    """Items before the write, by (table, key) cache key."""
    body: bytes | None = None
    """The request as sent, for a read that may be replayed."""


class Meter:
    """Counts what AWS would bill for the boto3 calls of every client built after `install`."""

    def __init__(
        self,
        *,
        tables: Mapping[str, TableSpec],
        items: ItemSource,
        memory_mb: Mapping[str, int],
        answer_management_api: bool = True,
        replay_reads: bool = False,
    ) -> None:
        self.tables = dict(tables)
        self.items = items
        self.memory_mb = dict(memory_mb)
        self.answer_management_api = answer_management_api
        self.replay_reads = replay_reads
        """Answer a read repeated since its table was last written with DynamoDB's earlier
        answer (the same bytes; billed all the same): moto's Query walks the whole table, and a
        hundred subscribers read per token would make the benchmark take many minutes."""
        self.replayed = 0
        self._answers: dict[str, dict[bytes, bytes | dict[str, Any]]] = defaultdict(dict)
        self.calls: list[Call] = []
        self.invocations: list[Invocation] = []
        self.frames: dict[str, list[bytes]] = defaultdict(list)
        """Frames posted to the watched connections, in order."""
        self.watched: set[str] = set()
        self._usage: dict[str, Usage] = defaultdict(Usage)
        self._lock = threading.RLock()
        self._scope: str | None = None
        self._stack: list[_Open] = []
        self._cache: dict[str, dict[str, Any] | None] = {}
        self._query_cache: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
        """Whole Query pages by table and request, until that table is written."""
        self._installed: list[tuple[Any, str, Callable[..., Any]]] = []
        self._purposes: dict[Any, tuple[str, str]] = {}

    # installing ------------------------------------------------------------------------------
    def install(self, session: Any) -> Meter:
        """Hook a boto3 (or botocore) session: clients created from it afterwards are metered.

        The hooks go first on the most specific level (``before-call.*.*``), so they see every
        request before a stub answers it and every response before boto3 converts it."""
        events = getattr(session, "events", None) or session.get_component("event_emitter")
        for name, handler in (("before-call", self._before), ("after-call", self._after)):
            events.register_first(f"{name}.*.*", handler, unique_id=self._hook_id(name))
            self._installed.append((events, name, handler))
        return self

    def install_client(self, client: Any) -> Meter:
        """Hook one client (tests; clients built before `install`)."""
        return self.install(client.meta)

    def uninstall(self) -> None:
        for events, name, _ in self._installed:
            events.unregister(f"{name}.*.*", unique_id=self._hook_id(name))
        self._installed.clear()

    def _hook_id(self, name: str) -> str:
        return f"cost-meter-{name}-{id(self)}"

    # what is being measured ------------------------------------------------------------------
    @contextlib.contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Attribute what happens inside to `name`; nothing outside a scope is recorded."""
        previous, self._scope = self._scope, name
        self.forget_items()  # whatever happened unmetered may have changed items
        try:
            yield
        finally:
            self._scope = previous

    @contextlib.contextmanager
    def invocation(self, function: str, *, floor_seconds: float = 0.0) -> Iterator[None]:
        """One Lambda invocation of `function`: a request, and its duration at the manifest's
        memory. `floor_seconds` bills at least that long (the time it waits on a model that the
        benchmark streams instantly). An invocation inside another is taken out of the outer
        one's time, as it would run in its own function."""
        frame = _Open(function, time.perf_counter())
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            spent = time.perf_counter() - frame.started
            if self._stack:
                self._stack[-1].nested += spent
            own = spent - frame.nested
            billed = billed_ms(max(own, floor_seconds))
            scope = self._scope
            if scope is not None:
                memory = self.memory_mb[function]
                log_bytes = frame.log_bytes + PLATFORM_LOG_BYTES
                with self._lock:
                    self.invocations.append(
                        Invocation(function, scope, memory, own * 1000, billed, log_bytes)
                    )
                    usage = self._usage[scope]
                    usage.lambda_requests += 1
                    usage.lambda_gb_seconds += gb_seconds(billed, memory)
                    usage.log_bytes += log_bytes

    def log_written(self, size: int) -> bool:
        """`LogCounter` reports bytes printed; True when they belong to an open invocation."""
        if not self._stack:
            return False
        self._stack[-1].log_bytes += size
        return True

    def ws_inbound(self, payload: str | bytes) -> None:
        """A frame a client sent (a WebSocket message, billed in 32 KB steps)."""
        units = websocket_units(len(payload.encode() if isinstance(payload, str) else payload))

        def count(u: Usage) -> None:
            u.websocket_in_units += units

        self._add(count)

    def http_request(self, payload_bytes: int = 0) -> None:
        """One HTTP API request (billed in 512 KB steps)."""
        units = http_request_units(payload_bytes)

        def count(u: Usage) -> None:
            u.http_requests += units

        self._add(count)

    def connection_minutes(self, minutes: float) -> None:
        def count(u: Usage) -> None:
            u.connection_minutes += minutes

        self._add(count)

    def _add(self, change: Callable[[Usage], None]) -> None:
        if self._scope is None:
            return
        with self._lock:
            change(self._usage[self._scope])

    # reading what was recorded -----------------------------------------------------------
    def usage(self, scope: str) -> Usage:
        with self._lock:
            return self._usage[scope]

    def scope_calls(self, scope: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.scope == scope]

    def forget_items(self) -> None:
        """Drop the cached items and answers (the next write reads its item again)."""
        with self._lock:
            self._cache.clear()
            self._query_cache.clear()
            self._answers.clear()

    # botocore hooks ----------------------------------------------------------------------------
    def _function(self) -> str:
        return self._stack[-1].function if self._stack else "-"

    def _before(
        self, model: Any, params: dict[str, Any], context: dict[str, Any], **kwargs: Any
    ) -> Any:
        service = model.service_model.service_id.hyphenize()
        operation = model.name
        if service == "apigatewaymanagementapi":
            return self._management(operation, params)
        if self._scope is None:
            return None
        if service != "dynamodb":
            name = f"{service}:{operation}"

            def count(u: Usage) -> None:
                u.other_calls.update([name])

            self._add(count)
            return None
        body = params.get("body") or b"{}"
        request = json.loads(body)
        code, purpose = self._caller()
        pending = _Pending(operation, request, self._function(), self._scope or "", code, purpose)
        context["cost_meter"] = pending
        if operation in _WRITES:
            for table, key, _ in self._written(operation, request):
                pending.before[self._cache_key(table, key)] = self._item(table, key)
                with self._lock:
                    self._answers.pop(table, None)
        elif self.replay_reads and operation in _REPLAYABLE:
            pending.body = body
            with self._lock:
                stored = self._answers[str(request.get("TableName"))].get(body)
            if stored is not None:
                self.replayed += 1
                return _Answer(200, stored), _parse(model, stored)
        return None

    def _after(
        self, http_response: Any, parsed: Mapping[str, Any], context: dict[str, Any], **kwargs: Any
    ) -> None:
        pending: _Pending | None = context.get("cost_meter")
        if pending is None:
            return
        try:  # the bytes DynamoDB sent (a stub's answer has none: its parsed form is wire-typed)
            raw: bytes | None = http_response.content
        except AttributeError:
            raw = None
        answer = json.loads(raw or b"{}") if raw else copy.deepcopy(dict(parsed))
        error = ""
        if http_response.status_code >= 300:
            error = str(parsed.get("Error", {}).get("Code", "error"))
        elif pending.body is not None and not isinstance(http_response, _Answer):
            with self._lock:
                table = str(pending.request.get("TableName"))
                self._answers[table][pending.body] = raw or answer
        calls = self._bill(pending, answer, error)
        if pending.scope:
            with self._lock:
                self.calls.extend(calls)
                usage = self._usage[pending.scope]
                for call in calls:
                    usage.dynamodb_calls += 1
                    usage.read_units += call.read_units
                    usage.write_units += call.write_units + call.index_write_units

    def _management(self, operation: str, params: Mapping[str, Any]) -> Any:
        connection_id = unquote(str(params.get("url_path", "")).rsplit("/", 1)[-1])
        if operation == "PostToConnection":
            body = params.get("body") or b""
            data = body if isinstance(body, bytes) else str(body).encode()
            if connection_id in self.watched:
                with self._lock:
                    self.frames[connection_id].append(data)

            def count(u: Usage) -> None:
                u.websocket_out += 1
                u.websocket_out_units += websocket_units(len(data))

            self._add(count)
        else:
            name = f"apigatewaymanagementapi:{operation}"

            def other(u: Usage) -> None:
                u.other_calls.update([name])

            self._add(other)
        if not self.answer_management_api:
            return None
        return _Answer(204 if operation == "DeleteConnection" else 200), {}

    # billing one DynamoDB request ----------------------------------------------------------
    def _bill(self, pending: _Pending, answer: Mapping[str, Any], error: str) -> list[Call]:
        op, request = pending.operation, pending.request
        bill = functools.partial(self._call, pending, error=error)
        if op in _WRITES:
            return self._bill_writes(pending, answer, error)
        consistent = bool(request.get("ConsistentRead"))
        if op == "GetItem":
            table, key = request["TableName"], request["Key"]
            projected = "ProjectionExpression" in request or "AttributesToGet" in request
            item = self._item(table, key) if projected or error else answer.get("Item")
            units = read_units(item_size(item), consistent=consistent)
            return [bill(table, _key_text(key), consistent, rru=units, items=int(bool(item)))]
        if op in ("Query", "Scan"):
            table, index = request["TableName"], request.get("IndexName")
            items = self._items_read(op, request, answer)
            units = read_units(sum(item_size(i) for i in items), consistent=consistent)
            target = _condition_text(request)
            return [bill(table, target, consistent, index=index, rru=units, items=len(items))]
        if op == "BatchGetItem":
            calls = []
            for table, spec in request.get("RequestItems", {}).items():
                strong = bool(spec.get("ConsistentRead"))
                key_of = self._spec(table).key_of
                found = {
                    self._cache_key(table, key_of(i)): i
                    for i in answer.get("Responses", {}).get(table, [])
                }
                units = sum(
                    read_units(item_size(found.get(self._cache_key(table, k))), consistent=strong)
                    for k in spec["Keys"]
                )
                target = f"{len(spec['Keys'])} keys"
                calls.append(bill(table, target, strong, rru=units, items=len(found)))
            return calls
        if op == "TransactGetItems":
            gets = [entry["Get"] for entry in request.get("TransactItems", [])]
            units = sum(
                read_units(
                    item_size(self._item(g["TableName"], g["Key"])),
                    consistent=True,
                    transactional=True,
                )
                for g in gets
            )
            tables = ",".join(sorted({g["TableName"] for g in gets}))
            return [bill(tables, f"{len(gets)} items", True, rru=units, items=len(gets))]
        return []  # control plane (DescribeTable…): not billed per request

    def _written(
        self, operation: str, request: Mapping[str, Any]
    ) -> list[tuple[str, dict[str, Any], str]]:
        """(table, key, action) of every item a write request touches."""
        if operation in ("PutItem",):
            table = request["TableName"]
            return [(table, self._spec(table).key_of(request["Item"]), "Put")]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(request["TableName"], request["Key"], operation.removesuffix("Item"))]
        if operation == "TransactWriteItems":
            out = []
            for entry in request.get("TransactItems", []):
                [(action, body)] = entry.items()
                key = body.get("Key") or self._spec(body["TableName"]).key_of(body["Item"])
                out.append((body["TableName"], key, action))
            return out
        out = []
        for table, writes in request.get("RequestItems", {}).items():
            for write in writes:
                if "PutRequest" in write:
                    out.append(
                        (table, self._spec(table).key_of(write["PutRequest"]["Item"]), "Put")
                    )
                else:
                    out.append((table, write["DeleteRequest"]["Key"], "Delete"))
        return out

    def _bill_writes(self, pending: _Pending, answer: Mapping[str, Any], error: str) -> list[Call]:
        op, request = pending.operation, pending.request
        transactional = op == "TransactWriteItems"
        written = self._written(op, request)
        bodies: list[Mapping[str, Any]]
        if op == "TransactWriteItems":
            bodies = [next(iter(e.values())) for e in request.get("TransactItems", [])]
        elif op == "BatchWriteItem":
            bodies = [
                next(iter(w.values()))
                for ws in request.get("RequestItems", {}).values()
                for w in ws
            ]
        else:
            bodies = [request]
        refused = bool(error)
        total_units, total_index, tables, targets = 0, 0, [], []
        for (table, key, action), body in zip(written, bodies, strict=True):
            cache_key = self._cache_key(table, key)
            before = pending.before.get(cache_key)
            if refused or action == "ConditionCheck":
                after = before
            elif action == "Put":
                after = dict(body["Item"])
            elif action == "Delete":
                after = None
            elif op == "UpdateItem" and request.get("ReturnValues") == "ALL_NEW":
                after = dict(answer.get("Attributes") or {})
            elif (simple := apply_update(before, key, body)) is not None:
                after = simple
            else:
                with self._lock:
                    self._cache.pop(cache_key, None)
                after = self._item(table, key)
            with self._lock:
                self._cache[cache_key] = after
                if not refused and action != "ConditionCheck":
                    self._query_cache.pop(table, None)
            sizes = (
                (item_size(before),)
                if refused or action == "ConditionCheck"
                else (item_size(before), item_size(after))
            )
            total_units += write_units(*sizes, transactional=transactional)
            if not refused and action != "ConditionCheck":
                total_index += index_write_units(self._spec(table), before, after)
            tables.append(table)
            targets.append((action if len(written) > 1 else "") + " " + _key_text(key))
        target = (
            "; ".join(t.strip() for t in targets) if len(targets) <= 3 else f"{len(targets)} items"
        )
        return [
            self._call(
                pending,
                ",".join(sorted(set(tables))),
                target,
                True,
                wru=total_units,
                index_wru=total_index,
                items=len(written),
                error=error,
            )
        ]

    def _items_read(
        self, op: str, request: Mapping[str, Any], answer: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Every item a Query or Scan read (before its filter and projection)."""
        trimmed = (
            any(
                k in request
                for k in (
                    "ProjectionExpression",
                    "AttributesToGet",
                    "FilterExpression",
                    "QueryFilter",
                    "ScanFilter",
                )
            )
            or request.get("Select") == "COUNT"
        )
        if not trimmed:
            items: list[dict[str, Any]] = answer.get("Items", [])
            return items
        full = {
            k: v
            for k, v in request.items()
            if k
            not in (
                "ProjectionExpression",
                "AttributesToGet",
                "FilterExpression",
                "QueryFilter",
                "ScanFilter",
                "Select",
                "ReturnConsumedCapacity",
            )
        }
        used = str(full.get("KeyConditionExpression", ""))
        for section in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            kept = {k: v for k, v in full.get(section, {}).items() if re.search(_token(k), used)}
            if kept:
                full[section] = kept
            else:
                full.pop(section, None)
        signature = json.dumps([op, full], sort_keys=True)
        table = str(request["TableName"])
        with self._lock:
            cached = self._query_cache[table].get(signature)
        if cached is None:
            cached = self.items.query(op, full)
            with self._lock:
                self._query_cache[table][signature] = cached
        return cached

    def _call(
        self,
        pending: _Pending,
        table: str,
        target: str,
        consistent: bool,
        *,
        index: str | None = None,
        rru: float = 0.0,
        wru: int = 0,
        index_wru: int = 0,
        items: int = 0,
        error: str = "",
    ) -> Call:
        return Call(
            function=pending.function,
            scope=pending.scope,
            operation=pending.operation,
            table=table,
            index=index,
            target=target,
            consistent=consistent,
            read_units=rru,
            write_units=wru,
            index_write_units=index_wru,
            items=items,
            code=pending.code,
            purpose=pending.purpose,
            error=error,
        )

    # items, seen or read -------------------------------------------------------------------
    def _spec(self, table: str) -> TableSpec:
        return self.tables.get(table) or TableSpec("pk", "sk")

    @staticmethod
    def _cache_key(table: str, key: Mapping[str, Any]) -> str:
        return json.dumps([table, key], sort_keys=True, default=str)

    def _item(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        cache_key = self._cache_key(table, key)
        with self._lock:
            if cache_key in self._cache:
                return self._cache[cache_key]
        item = self.items.get(table, key)
        with self._lock:
            self._cache[cache_key] = item
        return item

    # who called ----------------------------------------------------------------------------
    def _caller(self) -> tuple[str, str]:
        """``module.Class.method ← module.Class.caller``: the function of ours that made the call
        and the nearest one outside its module that called it; and the first one's purpose."""
        frame: FrameType | None = sys._getframe(2)
        found: list[FrameType] = []
        while frame is not None and len(found) < 2:
            path = frame.f_code.co_filename
            if path.startswith(str(FUNCTIONS)) and (
                not found or path != found[0].f_code.co_filename
            ):
                found.append(frame)
            frame = frame.f_back
        if not found:
            return "-", ""
        names = [f"{_module_name(f)}.{f.f_code.co_qualname}" for f in found]
        return " ← ".join(names), self._purpose(found[0])

    def _purpose(self, frame: FrameType) -> str:
        code = frame.f_code
        if code not in self._purposes:
            target: Any = sys.modules.get(str(frame.f_globals.get("__name__")))
            for part in code.co_qualname.split("."):
                target = getattr(target, part, None) if part != "<locals>" else None
            doc = inspect.getdoc(target) if target is not None else None
            first = " ".join((doc or "").split("\n\n")[0].split())
            self._purposes[code] = (code.co_qualname, first.split(". ")[0].rstrip("."))
        return self._purposes[code][1]


def _token(name: str) -> str:
    """A pattern for an expression's placeholder (``#n`` but not ``#name``)."""
    return re.escape(name) + r"(?!\w)"


def _module_name(frame: FrameType) -> str:
    name = str(frame.f_globals.get("__name__", ""))
    return name.removeprefix("parley.").removeprefix("store.").rsplit(".", 1)[-1]


class _Answer:
    """An answer the meter gives itself: in API Gateway's place, or a read replayed."""

    def __init__(self, status_code: int, content: bytes | dict[str, Any] = b"") -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = content if isinstance(content, bytes) else None
        """The bytes (None: only a parsed answer is known, as from a stub)."""
        self.parsed = content if isinstance(content, dict) else None


def _parse(model: Any, stored: bytes | dict[str, Any]) -> dict[str, Any]:
    """A fresh parsed answer (boto3 converts it in place) from the bytes or a parsed answer."""
    if isinstance(stored, dict):
        return copy.deepcopy(stored)
    parsed: dict[str, Any] = create_parser(model.service_model.protocol).parse(
        {"status_code": 200, "headers": {}, "body": stored}, model.output_shape
    )
    return parsed


_ID = re.compile(r"(?<=#)[^#\s]+")


def _mask(text: str) -> str:
    """Ids out of a key (``CONV#01J…`` → ``CONV#…``), so equal calls read the same."""
    return _ID.sub("…", text)


def _plain(value: Mapping[str, Any]) -> str:
    [(_, inner)] = value.items()
    return _mask(str(inner))


def _key_text(key: Mapping[str, Any]) -> str:
    return " / ".join(_plain(v) for v in key.values())


def _condition_text(request: Mapping[str, Any]) -> str:
    condition = str(request.get("KeyConditionExpression", "scan"))
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    for token, name in names.items():
        condition = re.sub(_token(token), name, condition)
    for token in sorted(values, key=len, reverse=True):
        condition = re.sub(_token(token), _plain(values[token]), condition)
    if "Limit" in request:
        condition += f" (limit {request['Limit']})"
    return condition


# --- logs ---------------------------------------------------------------------------------------


class LogCounter:
    """Stands in for stdout: what a function prints inside an invocation is counted as log
    ingestion and kept off the terminal; everything else passes through."""

    def __init__(self, meter: Meter, out: TextIO) -> None:
        self.meter = meter
        self.out = out

    def write(self, text: str) -> int:
        if not self.meter.log_written(len(text.encode())):
            self.out.write(text)
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.out.fileno()


# --- prices -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    name: str
    price: float
    per: float
    unit: str
    source: str
    confidence: str
    note: str = ""

    @property
    def each(self) -> float:
        return self.price / self.per


@dataclass(frozen=True)
class PriceTable:
    region: str
    as_of: str
    usage: Mapping[str, Price]
    idle: Mapping[str, Price]
    no_idle_cost: Mapping[str, str]

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> PriceTable:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))

        def prices(section: Mapping[str, Any]) -> dict[str, Price]:
            return {
                name: Price(
                    name=name,
                    price=float(entry["price"]),
                    per=float(entry.get("per", 1)),
                    unit=str(entry["unit"]),
                    source=str(entry["source"]),
                    confidence=str(entry["confidence"]),
                    note=" ".join(str(entry.get("note", "")).split()),
                )
                for name, entry in section.items()
            }

        return cls(
            region=str(data["region"]),
            as_of=str(data["as_of"]),
            usage=prices(data["usage"]),
            idle=prices(data["idle"]),
            no_idle_cost={k: " ".join(str(v).split()) for k, v in data["no_idle_cost"].items()},
        )

    def bill(self, usage: Usage, *, architecture: str = "arm64") -> dict[str, float]:
        """Dollars per line of the bill for `usage`."""
        p = self.usage
        return {
            "DynamoDB writes": usage.write_units * p["dynamodb_write_request_units"].each,
            "DynamoDB reads": usage.read_units * p["dynamodb_read_request_units"].each,
            "WebSocket messages": usage.websocket_units * p["websocket_messages"].each,
            "WebSocket connection minutes": usage.connection_minutes
            * p["websocket_connection_minutes"].each,
            "HTTP API requests": usage.http_requests * p["http_api_requests"].each,
            "Lambda requests": usage.lambda_requests * p["lambda_requests"].each,
            "Lambda compute": usage.lambda_gb_seconds * p[f"lambda_gb_seconds_{architecture}"].each,
            "CloudWatch Logs": usage.log_bytes / 1024**3 * p["cloudwatch_logs_ingestion"].each,
        }


def grouped(calls: Sequence[Call]) -> list[tuple[Call, int, float, int]]:
    """Identical calls (same operation, target, code and outcome) together, in first-seen order:
    (call, how many, read units in all, write units in all with the index writes)."""
    order: dict[tuple[str, ...], list[Any]] = {}
    for call in calls:
        entry = order.setdefault(call.signature(), [call, 0, 0.0, 0])
        entry[1] += 1
        entry[2] += call.read_units
        entry[3] += call.write_units + call.index_write_units
    return [(c, n, r, w) for c, n, r, w in order.values()]
