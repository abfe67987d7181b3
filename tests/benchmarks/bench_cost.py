"""Cost benchmark: what AWS would bill for Parley's assistant replies, counted from what the
functions really do, priced with `tests/benchmarks/prices.yaml` (us-east-1 list prices).

1. Per 1,000 replies of 1,000 tokens, model excluded: a one-person chat, a room of 10 with 10
   subscribers, a room of 100 with 100 — as Parley streams them (coalesced) and, in the same
   run, with one frame per token (the coalescer's interval 0) as the baseline. Each reply is
   real: the asker's `sendMessage` frame through `ws_message` (played by `WsClient`), the async
   invoke it makes, then `bot_worker` (`run_worker`) streaming from the scripted model into
   moto. `cost.Meter` counts DynamoDB units from item sizes, WebSocket messages in 32 KB steps,
   Lambda requests and GB-seconds at the manifest's memory, log bytes, and connection minutes.
   Time: the model streams at once and the writer's clock moves 10 ms per token after a 0.5 s
   first token (100 tokens/s), so coalescing sees a real model's cadence and a reply takes the
   machine's time, not 10 s. `bot_worker` is billed for the longer of that model time and the
   work it was measured doing; PostToConnection is answered by the meter (no HTTP), so for
   per-token fan-out to big rooms the real worker would be slower still.
2. DynamoDB calls per HTTP route and per WebSocket action (a warm container: every call is made
   once unmetered first), each call with its units, the code that made it and why.
3. The monthly cost of an idle deployment, read from terraform/ (every resource type must be
   classified in prices.yaml: billed when idle, or not).

Run: `python -m tests.benchmarks.bench_cost [--replies N] [--baseline-replies M]` (or
`invoke bench --only cost`): N coalesced replies per scenario (default 2), M per-token ones
(default 1; every per-token reply is the same 1,000 frames and writes, and takes 10-60 s
here; 0 skips the baseline). About 2-3 minutes on two shared cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "functions"))

import boto3  # noqa: E402

from tasks.core.manifest import load_manifest, load_tables  # noqa: E402
from tasks.local.aws import MotoProcess  # noqa: E402
from tasks.local.bootstrap import FAKE_CREDENTIALS, LocalResources, bootstrap  # noqa: E402
from tasks.local.scripted_model import Reply, ScriptedModel  # noqa: E402
from tests.benchmarks.cost import (  # noqa: E402
    Call,
    ClientItemSource,
    LogCounter,
    Meter,
    PriceTable,
    Usage,
    grouped,
    table_specs,
)
from tests.support.cognito import TestUser, create_user  # noqa: E402
from tests.support.connections_endpoint import ConnectionsEndpoint, WsClient, run_worker  # noqa: E402
from tests.support.environment import (  # noqa: E402
    clear_parley_caches,
    function_env,
    store_scripted_catalog,
)

REGION = "us-east-1"
TOKENS = 1000
TOKENS_PER_SECOND = 100.0
FIRST_TOKEN_SECONDS = 0.5
MODEL_SECONDS = FIRST_TOKEN_SECONDS + (TOKENS - 1) / TOKENS_PER_SECOND
PIECES = ["The"] + [
    f" {chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{i % 10}" for i in range(1, TOKENS)
]
"""1,000 tokens of 4 bytes (the usual ~4 characters a token of English): a 4 KB reply."""
TEXT = "".join(PIECES)
SHORT = "A short answer of a few words for the per-request table."
QUOTA = 200_000
"""terraform/modules/parley's default daily_token_quota: claims carry their condition."""
SCENARIOS = (("one-person chat", 1), ("room of 10", 10), ("room of 100", 100))
MODES = ("coalesced", "per-token")

out = sys.stdout


def say(text: str = "") -> None:
    out.write(text + "\n")
    out.flush()


# --- the stage: moto, the scripted model, the loopback endpoint, the meter ------------------


class Moto:
    """The local stack's moto in a process of its own: it must not share the functions' GIL."""

    def __init__(self, workdir: Path) -> None:
        self.process = MotoProcess("127.0.0.1", 0, workdir)
        self.url = ""

    def start(self) -> Moto:
        self.url = self.process.start()
        return self

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - loopback
            pass

    def stop(self) -> None:
        self.process.stop()


@dataclass
class Stage:
    moto: Moto
    model: ScriptedModel
    endpoint: ConnectionsEndpoint
    meter: Meter
    resources: LocalResources | None = None

    def fresh(self) -> LocalResources:
        """Empty AWS, tables from functions/tables.yaml, and a cold start of every function."""
        self.moto.reset()
        self.resources = bootstrap(self.moto.url, region=REGION)
        env = function_env(self.resources, model_base_url=self.model.base_url, service="parley")
        env.update(
            {
                "WS_MANAGEMENT_ENDPOINT": self.endpoint.url,  # answered by the meter
                "AWS_ENDPOINT_URL_LAMBDA": self.endpoint.origin,  # async invokes recorded
                "DAILY_TOKEN_QUOTA": str(QUOTA),
                "LOG_LEVEL": "INFO",  # as deployed: the manifest sets none
                "MODEL_MAX_RETRIES": "0",
            }
        )
        os.environ.update(env)
        store_scripted_catalog(self.resources, self.model.base_url)
        self.meter.tables = table_specs(load_tables(), self.resources.table_names)
        self.model.reset()
        self.endpoint.reset()
        clear_parley_caches()
        return self.resources


class MeteredClient(WsClient):
    """A browser connection whose every handler call is a metered Lambda invocation."""

    def __init__(self, stage: Stage, user: TestUser) -> None:
        super().__init__(stage.endpoint, user.id_token)
        self.meter = stage.meter

    def authorize(self, protocol: str | None = None) -> dict[str, Any]:
        with self.meter.invocation("ws_authorizer"):
            return super().authorize(protocol)

    def connect(self) -> dict[str, Any]:
        with self.meter.invocation("ws_connect"):
            return super().connect()

    def send_raw(self, body: str) -> dict[str, Any]:
        self.meter.ws_inbound(body)
        with self.meter.invocation("ws_message"):
            return super().send_raw(body)

    def disconnect(self) -> dict[str, Any]:
        with self.meter.invocation("ws_disconnect"):
            return super().disconnect()


def worker(stage: Stage, *, floor_seconds: float = 0.0) -> dict[str, Any]:
    """Run `bot_worker` on the last async invoke, as Lambda would."""
    invoke = stage.endpoint.invokes()[-1]
    with stage.meter.invocation("bot_worker", floor_seconds=floor_seconds):
        return run_worker(stage.endpoint, invoke)


# --- the writer's clock follows the model ---------------------------------------------------


class ModelClock:
    """The reply writer's clock, moved by the model's cadence instead of the machine's."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


CPU_AT_FIRST_TOKEN: list[float] = []
"""`time.thread_time()` when the writer got the model's first delta (one per reply)."""


class PacedProvider:
    """The real provider, its deltas timed as a model streaming at TOKENS_PER_SECOND."""

    def __init__(self, inner: Any, clock: ModelClock) -> None:
        self.inner = inner
        self.clock = clock

    def stream(self, turns: Any, **kwargs: Any) -> Iterator[Any]:
        from parley.bots import Delta

        stream = self.inner.stream(turns, **kwargs)
        gap = FIRST_TOKEN_SECONDS
        try:
            for item in stream:
                if isinstance(item, Delta):
                    if gap == FIRST_TOKEN_SECONDS:
                        CPU_AT_FIRST_TOKEN.append(time.thread_time())
                    self.clock.now += gap
                    gap = 1 / TOKENS_PER_SECOND
                yield item
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                close()


def init_worker() -> None:
    """`bot_worker`'s init for this stage's new environment, before its first reply: its
    handler module run again (the core's caches were cleared with the stage)."""
    import importlib

    import bot_worker.app

    importlib.reload(bot_worker.app)


def pace(*, per_token: bool) -> ModelClock:
    """Give `bot_worker`'s writer (this cold start's) the model clock; per token: no coalescing."""
    from parley import services

    writer: Any = services.reply_writer()
    for name in ("clock", "provider", "provider_for", "interval"):
        if not hasattr(writer, name):
            raise SystemExit(f"ReplyWriter has no attribute {name!r}: update bench_cost.pace")
    clock = ModelClock()
    writer.clock = clock
    # Both ways the writer finds a provider: the default one and the catalog's per model.
    provider, provider_for = writer.provider, writer.provider_for
    writer.provider = lambda: PacedProvider(provider(), clock)
    if provider_for is not None:
        writer.provider_for = lambda entry: PacedProvider(provider_for(entry), clock)
    if per_token:
        writer.interval = 0.0  # every delta released at once: one frame per token
    return clock


# --- 1. cost per reply ---------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    mode: str
    members: int
    replies: int
    usage: Usage
    """Per 1,000 replies."""
    frames: float
    work_seconds: float
    calls: list[Call]
    cpu_seconds: float = 0.0
    """bot_worker's CPU a reply (its thread; posts to rooms run on the pool and are not in it)."""
    cpu_before_model: float = 0.0
    """Of which before the model's first token (setup, history: first-token latency), the
    warm replies' mean."""
    first_before_model: float = 0.0
    """The same for the first reply of a new execution environment (after its init)."""

    @property
    def label(self) -> str:
        return f"{self.name} · {self.mode}"


def run_scenario(stage: Stage, name: str, members: int, mode: str, replies: int) -> Scenario:
    from parley import services
    from parley.store import get_store

    asker = create_user(stage.fresh())
    store = get_store()
    profile = store.profiles.ensure(asker.sub, asker.email, asker.name)
    kind: Literal["assistant", "group"] = "assistant" if members == 1 else "group"
    conversation = store.conversations.create(profile, kind=kind, title="bench")
    record = store.conversations.record(conversation.id)
    connections = services.connections_repository()
    for i in range(members - 1):
        other = store.profiles.ensure(f"member-{i:03d}", f"member{i}@example.com", f"Member {i}")
        store.conversations.add_member(record, other)
        connections.connect(f"member{i:03d}=", other.id, other.name)
        connections.subscribe(f"member{i:03d}=", conversation.id)
    client = MeteredClient(stage, asker)
    client.connect()
    client.send("subscribe", conversationId=conversation.id)
    init_worker()
    clock = pace(per_token=mode == "per-token")
    stage.meter.watched = {client.connection_id}
    stage.meter.frames.clear()
    content = "Count to a thousand, please." if members == 1 else "@assistant count to 1000"
    label = f"{name} · {mode}"
    work = cpu = 0.0
    before_model: list[float] = []
    for n in range(replies):
        stage.model.enqueue(Reply(chunks=tuple(PIECES)))
        before = len(stage.endpoint.invokes())
        with stage.meter.scope(label):
            client.send(
                "sendMessage",
                conversationId=conversation.id,
                clientMessageId=f"bench-{n}-{uuid.uuid4().hex[:8]}",
                content=content,
            )
            if len(stage.endpoint.invokes()) != before + 1:
                raise SystemExit(f"{label}: sendMessage asked for no reply: {client.events()[-1]}")
            started, cpu_started = time.perf_counter(), time.thread_time()
            CPU_AT_FIRST_TOKEN.clear()
            model_started = clock.now
            outcome = worker(stage, floor_seconds=MODEL_SECONDS)
            paced = clock.now - model_started
            if abs(paced - MODEL_SECONDS) > 1e-6:
                raise SystemExit(
                    f"{label}: the writer's model streamed {paced:.2f} s of the model clock, not "
                    f"{MODEL_SECONDS:.2f} s: the benchmark's pacing did not reach the provider "
                    "that wrote the reply (update bench_cost.pace)"
                )
            work += time.perf_counter() - started
            cpu += time.thread_time() - cpu_started
            before_model.append((CPU_AT_FIRST_TOKEN or [cpu_started])[0] - cpu_started)
            stage.meter.connection_minutes(members * MODEL_SECONDS / 60)
        assert outcome == {"outcome": "complete"}, outcome
    frames = _check_stream(stage, client.connection_id, replies)
    usage = stage.meter.usage(label)
    return Scenario(
        name=name,
        mode=mode,
        members=members,
        replies=replies,
        usage=usage.scaled(1000 / replies),
        frames=frames / replies,
        work_seconds=work / replies,
        calls=stage.meter.scope_calls(label),
        cpu_seconds=cpu / replies,
        cpu_before_model=sum(before_model[1:]) / max(1, len(before_model) - 1),
        first_before_model=before_model[0],
    )


def _check_stream(stage: Stage, connection_id: str, replies: int) -> int:
    """Every reply reached the asker whole, in order, gap-free; returns the delta frames."""
    events = [json.loads(f) for f in stage.meter.frames[connection_id]]
    by_reply: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if event["type"] == "message.delta":
            by_reply[event["messageId"]].append(event)
    assert len(by_reply) == replies, (len(by_reply), replies)
    for deltas in by_reply.values():
        assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
        assert "".join(d["delta"] for d in deltas) == TEXT
    return sum(len(d) for d in by_reply.values())


def _money(dollars: float, width: int) -> str:
    return f"{f'${dollars:.3f}':>{width}}"


def result_memory() -> int:
    manifest = load_manifest()
    return manifest.memory(manifest.functions["bot_worker"])


def print_costs(results: list[Scenario], prices: PriceTable, replayed: int) -> dict[str, float]:
    say(
        f"1. cost per 1,000 replies of {TOKENS:,} tokens ({len(TEXT):,} bytes) at "
        f"{TOKENS_PER_SECOND:.0f} tokens/s — AWS only, model excluded; "
        f"{prices.region} list prices of {prices.as_of} (tests/benchmarks/prices.yaml)"
    )
    say(
        f"   {'scenario':<30}{'frames':>7}{'posts':>9}{'DDB calls':>10}{'WRU':>8}{'RRU':>8}"
        f"{'GB-s':>7} {'DynamoDB':>9}{'WebSocket':>10}{'Lambda':>8}{'Logs':>7}{'total':>9}"
        f"  {'vs per-token':<12}"
    )
    totals = {r.label: sum(prices.bill(r.usage).values()) for r in results}
    baseline = {r.name: totals[r.label] for r in results if r.mode == "per-token"}
    for result in results:
        u, bill = result.usage, prices.bill(result.usage)
        total = totals[result.label]
        if result.mode == "per-token":
            versus = "baseline"
        elif result.name in baseline:
            versus = f"{baseline[result.name] / total:.1f}× less"
        else:
            versus = "-"
        say(
            f"   {result.label:<30}{result.frames:>7.0f}{u.websocket_out / 1000:>9,.0f}"
            f"{u.dynamodb_calls / 1000:>10,.0f}{u.write_units / 1000:>8,.0f}"
            f"{u.read_units / 1000:>8,.1f}{u.lambda_gb_seconds / 1000:>7.2f} "
            f"{_money(bill['DynamoDB writes'] + bill['DynamoDB reads'], 9)}"
            f"{_money(bill['WebSocket messages'] + bill['WebSocket connection minutes'], 10)}"
            f"{_money(bill['Lambda requests'] + bill['Lambda compute'], 8)}"
            f"{_money(bill['CloudWatch Logs'], 7)}{_money(total, 9)}  {versus}"
        )
    say(
        "   frames: delta frames a subscriber gets per reply; posts, DDB calls, WRU, RRU, GB-s: "
        "per reply; dollars: per 1,000 replies."
    )
    say(
        "   A reply: its sendMessage frame, ws_message, the async invoke, bot_worker, every "
        "PostToConnection (32 KB steps), the subscribers'"
    )
    say(
        "   connection minutes while it streams, the log bytes printed (+300 B of Lambda's own "
        f"lines per invocation). bot_worker bills max(model time {MODEL_SECONDS:.2f} s,"
    )
    say(
        f"   measured work) at {result_memory()} MB; measured here against moto with posts "
        "answered in process "
        "(real posts cost more CPU: a floor for"
    )
    say(
        "   per-token rooms). Replies per scenario: "
        + ", ".join(sorted({f"{r.mode} {r.replies}" for r in results}))
        + f"; {replayed:,} repeated reads answered from DynamoDB's earlier answer (billed alike)."
    )
    for result in results:
        say(f"   {result.label:<30}bot_worker measured work {result.work_seconds:6.2f} s a reply")
    return totals


def print_breakdown(result: Scenario, prices: PriceTable) -> None:
    """Where one scenario's DynamoDB dollars go, per reply."""
    say(f"   per reply, {result.label}: DynamoDB calls by what made them, costliest first")
    rru_price = prices.usage["dynamodb_read_request_units"].each
    wru_price = prices.usage["dynamodb_write_request_units"].each
    rows = sorted(grouped(result.calls), key=lambda row: -(row[2] * rru_price + row[3] * wru_price))
    for call, count, rru, wru in rows[:8]:
        n = count / result.replies
        say(
            f"     {n:>7.1f} × {call.operation:<18} {_where(call):<48} "
            f"{wru / result.replies:>7.1f} WRU {rru / result.replies:>7.1f} RRU  {call.code}"
        )


def _where(call: Call, width: int = 48) -> str:
    where = f"{_short_table(call.table)}{'/' + call.index if call.index else ''} {call.target}"
    return where if len(where) <= width else where[: width - 1] + "…"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_table(name: str) -> str:
    return name.removeprefix("parley-local-")


FULL_VCPU_MB = 1769
"""Lambda gives a function one full vCPU at 1,769 MB, and CPU in proportion below."""
MEMORY_SIZES = (128, 160, 192, 256, 512)
INIT_SNIPPET = """
import sys, time
sys.path.insert(0, {functions!r})
cpu = time.process_time()
import bot_worker.app  # Lambda's init: the handler's module and what it builds
# VmHWM: this process's own peak. (ru_maxrss would report the benchmark's: Linux carries the
# parent's peak over a fork into the child's, and an exec keeps it.)
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(time.process_time() - cpu, peak_kb)
"""


def measure_init() -> tuple[float, float]:
    """bot_worker's init in a fresh interpreter (its handler's import, which builds the writer,
    its AWS clients and the providers' SDKs): CPU seconds and peak RSS in MB; best of 3."""
    import subprocess

    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "bot_worker", "AWS_REGION": REGION}
    runs = []
    for _ in range(3):
        answer = subprocess.run(
            [sys.executable, "-c", INIT_SNIPPET.format(functions=str(ROOT / "functions"))],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.split()
        runs.append((float(answer[0]), int(answer[1]) / 1024))
    return min(r[0] for r in runs), max(r[1] for r in runs)


def print_memory(results: list[Scenario], prices: PriceTable, manifest_mb: int) -> None:
    """What bot_worker's memory size costs and does, from the CPU it was measured using."""
    init_cpu, rss = measure_init()
    price = prices.usage["lambda_gb_seconds_arm64"].each
    say(
        f"   bot_worker memory (manifest: {manifest_mb} MB): it waits on the model; CPU is "
        f"memory/{FULL_VCPU_MB} of a vCPU. Cold start here: {init_cpu:.2f} s of CPU, peak RSS "
        f"{rss:.0f} MB (handler, provider SDK, AWS clients)."
    )
    say(
        f"   {'scenario':<30}{'CPU/reply':>10}{'/chunk':>8}{'pre-model':>16}"
        + "".join(f"{f'{m} MB':>28}" for m in MEMORY_SIZES)
    )
    for result in results:
        if result.mode != "coalesced":
            continue
        per_chunk = result.cpu_seconds / max(1.0, result.frames)
        cells = []
        for memory in MEMORY_SIZES:
            share = memory / FULL_VCPU_MB
            wall = max(MODEL_SECONDS, result.cpu_seconds / share)
            dollars = memory / 1024 * wall * price * 1000
            first = result.first_before_model / share * 1000
            warm = result.cpu_before_model / share * 1000
            fits = "" if rss < memory * 0.9 else "!"
            cells.append(f"{f'${dollars:.3f} {wall:4.1f}s +{first:.0f}/{warm:.0f}ms{fits}':>28}")
        say(
            f"   {result.label:<30}{result.cpu_seconds:>9.2f}s{per_chunk * 1000:>6.0f}ms"
            f"{result.first_before_model * 1000:>7.0f}/{result.cpu_before_model * 1000:.0f}ms"
            + "".join(cells)
        )
    say(
        "   each size: bot_worker compute per 1,000 replies, the reply's duration (the model's "
        f"{MODEL_SECONDS:.1f} s unless CPU-bound) and the first token's delay from the CPU "
        "spent before the model call (a new environment's first reply, after its init / a warm "
        "one); ! = peak RSS above 90% of the memory. "
        "CPU measured on this shared machine (an upper bound: Graviton is not slower)."
    )
    say(
        f"   init: {init_cpu:.2f} s of CPU in a fresh interpreter. An on-demand function's init "
        "runs on a full vCPU (for up to 10 s, AWS's guidance) whatever its memory, so it takes "
        "about that at every size (and is billed like any duration); invocations get the share."
    )


# --- 2. DynamoDB calls per route and per action ---------------------------------------------


def exercise(stage: Stage, resources: LocalResources, measured: bool) -> list[str]:
    """Every HTTP route and WebSocket action once; returns the scope labels used."""
    from chat_api.app import handler as api
    from parley.ids import new_ulid
    from parley.store import get_store
    from tests.support.api import call

    meter = stage.meter
    labels: list[str] = []

    @contextlib.contextmanager
    def scope(label: str) -> Iterator[None]:
        labels.append(label)
        with meter.scope(label) if measured else contextlib.nullcontext():
            yield

    a, b = create_user(resources), create_user(resources)
    store = get_store()
    me = store.profiles.ensure(a.sub, a.email, a.name)
    other = store.profiles.ensure(b.sub, b.email, b.name)
    for n in range(4):  # a list worth listing
        old = store.conversations.create(me, kind="assistant", title=f"Older {n}")
        store.messages.put_user_message(
            old.id, author_id=a.sub, author_name=a.name, content=f"Question {n}"
        )

    def http(label: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", a.bearer())
        body = kwargs.get("body")
        with scope(f"HTTP {label}"):
            meter.http_request(len(json.dumps(body)) if body is not None else 0)
            with meter.invocation("chat_api"):
                answer = call(api, method, path, headers=headers, **kwargs)
        assert answer.status < 300, (label, answer.status, answer.text)
        return answer.json

    http("GET /openapi.json", "GET", "/openapi.json")
    http("GET /me", "GET", "/me")
    http("GET /conversations", "GET", "/conversations")
    cid = http("POST /conversations", "POST", "/conversations", body={"title": "Trip"})["id"]
    http("GET /conversations/{id}", "GET", f"/conversations/{cid}")
    http("PATCH /conversations/{id}", "PATCH", f"/conversations/{cid}", body={"title": "Trips"})
    stage.model.enqueue(Reply(text=SHORT))
    http(
        "POST /conversations/{id}/messages",
        "POST",
        f"/conversations/{cid}/messages",
        body={"content": "Where to in May?"},
    )
    listed = http("GET /conversations/{id}/messages", "GET", f"/conversations/{cid}/messages")
    [reply] = [m["id"] for m in listed["items"] if m["role"] == "assistant"]
    rated = f"/conversations/{cid}/messages/{reply}/feedback"
    http(
        "PUT /conversations/{id}/messages/{messageId}/feedback",
        "PUT",
        rated,
        body={"rating": "up", "comment": "Helpful"},
    )
    http("DELETE /conversations/{id}/messages/{messageId}/feedback", "DELETE", rated)
    group = store.conversations.create(me, kind="group", title="Room")
    http(
        "POST /conversations/{id}/members",
        "POST",
        f"/conversations/{group.id}/members",
        body={"email": b.email},
    )
    http("GET /conversations/{id}/members", "GET", f"/conversations/{group.id}/members")
    http(
        "DELETE /conversations/{id}/members/{userId}",
        "DELETE",
        f"/conversations/{group.id}/members/{b.sub}",
    )
    stage.model.enqueue(Reply(text=SHORT))
    http("POST /chat", "POST", "/chat", headers={"id_token": a.id_token}, body={"prompt": "Hi"})
    http("DELETE /conversations/{id}", "DELETE", f"/conversations/{cid}")

    # the WebSocket side
    client = MeteredClient(stage, a)
    chat = store.conversations.create(me, kind="assistant", title="Live")
    room = store.conversations.create(me, kind="group", title="Live room")
    store.conversations.add_member(store.conversations.record(room.id), other)
    with scope("WS $connect"):
        client.connect()
    with scope("WS subscribe"):
        client.send("subscribe", conversationId=chat.id)
    client.send("subscribe", conversationId=room.id)
    with scope("WS typing"):
        client.send("typing", conversationId=room.id, isTyping=True)
    with scope("WS sendMessage (room, no reply)"):
        client.send("sendMessage", conversationId=room.id, clientMessageId=_cid(), content="Hi")
    stage.model.enqueue(Reply(text=SHORT))
    with scope("WS sendMessage (asks the assistant)"):
        client.send("sendMessage", conversationId=chat.id, clientMessageId=_cid(), content="Hi?")
    question = stage.endpoint.invokes()[-1].json()["replyTo"]
    with scope(f"bot_worker: one reply of {len(SHORT.split())} tokens"):
        assert worker(stage) == {"outcome": "complete"}
    stage.model.enqueue(Reply(text=SHORT))
    with scope("WS retry"):
        client.send("retry", conversationId=chat.id, messageId=question)
    assert worker(stage) == {"outcome": "complete"}
    streaming = new_ulid()
    store.messages.begin_reply(chat.id, streaming, reply_to=question, requested_by=a.sub)
    with scope("WS stop"):
        client.send("stop", conversationId=chat.id, messageId=streaming)
    with scope("WS unsubscribe"):
        client.send("unsubscribe", conversationId=chat.id)
    with scope("WS $default"):
        client.send_raw(json.dumps({"action": "dance"}))
    with scope("WS $disconnect"):
        client.disconnect()
    return labels


def _cid() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def print_calls(stage: Stage, labels: list[str]) -> dict[str, int]:
    meter = stage.meter
    manifest = load_manifest()
    routes = {f"HTTP {r.route}" for r, _ in manifest.http_routes()}
    missing = sorted(routes - set(labels))
    say("2. DynamoDB calls per HTTP route and WebSocket action (warm container)")
    say(
        "   each call: count × operation, table[/index] and key (ids masked), consistency, "
        "units; the code that made it ← its caller; why (its docstring)"
    )
    say(f"   {'route or action':<48}{'calls':>6}{'RRU':>7}{'WRU':>6}{'posts':>7}  functions")
    for label in labels:
        usage = meter.usage(label)
        functions = sorted({i.function for i in meter.invocations if i.scope == label})
        say(
            f"   {label:<48}{usage.dynamodb_calls:>6}{usage.read_units:>7g}{usage.write_units:>6}"
            f"{usage.websocket_out:>7}  {' + '.join(functions)}"
        )
    say("   the calls, route by route:")
    counts: dict[str, int] = {}
    for label in labels:
        calls = meter.scope_calls(label)
        usage = meter.usage(label)
        functions = Counter(i.function for i in meter.invocations if i.scope == label)
        counts[label] = len(calls)
        others = "".join(f", {k} ×{v}" for k, v in sorted(usage.other_calls.items()))
        say(
            f"   {label} — {len(calls)} DynamoDB call{'s' * (len(calls) != 1)}, "
            f"{usage.read_units:g} RRU, {usage.write_units} WRU, "
            f"{usage.websocket_out} post{'s' * (usage.websocket_out != 1)}{others}"
            f"  [{' + '.join(sorted(functions))}]"
        )
        for call, count, rru, wru in grouped(calls):
            strong = " strong" if call.consistent else " eventual"
            consistency = "" if call.write_units or call.index_write_units else strong
            units = f"{wru} WRU" if wru else f"{rru:g} RRU"
            failed = f" → {call.error}" if call.error else ""
            where = _where(call, 72)
            say(f"     {count:>3} × {call.operation:<18} {where}{consistency}  {units}{failed}")
            why = f" — {_clip(call.purpose, 90)}" if call.purpose else ""
            say(f"           {call.code}{why}")
    if missing:
        say(f"   routes not exercised: {', '.join(missing)}")
    return counts


# --- 3. the idle deployment -------------------------------------------------------------------


def terraform_resources() -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Resource type → [(file, name, attributes)] across terraform/ (modules, envs, examples)."""
    import hcl2

    found: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
    for path in sorted((ROOT / "terraform").rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        with path.open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
        for block in document.get("resource", []):
            for kind, named in block.items():
                for name, attributes in named.items():
                    where = str(path.relative_to(ROOT / "terraform"))
                    found[kind.strip('"')].append((where, name.strip('"'), attributes))
    return found


def _tfvars(path: Path) -> dict[str, Any]:
    import hcl2

    with path.open(encoding="utf-8") as handle:
        values: dict[str, Any] = hcl2.load(handle)
    return values


def print_idle(prices: PriceTable) -> float:
    found = terraform_resources()
    unknown = sorted(t for t in found if t not in prices.idle and t not in prices.no_idle_cost)
    if unknown:
        raise SystemExit(
            "terraform/ uses resource types prices.yaml does not classify (add each under idle "
            f"or no_idle_cost): {', '.join(unknown)}"
        )
    manifest = load_manifest()
    functions = len(manifest.functions)
    has_dlq = any(
        f.triggers.async_ is not None and f.triggers.async_.on_failure == "dlq"
        for f in manifest.functions.values()
    )
    has_stream_dlq = any(
        f.triggers.stream is not None and f.triggers.stream.on_failure == "dlq"
        for f in manifest.functions.values()
    )
    has_schedule = any(f.triggers.schedule is not None for f in manifest.functions.values())
    envs = ("dev", "prod")
    # Instances per environment, from how each billed resource is declared.
    rules: dict[tuple[str, str], Callable[[str], int]] = {
        ("aws_cloudwatch_metric_alarm", "errors"): lambda env: functions,
        ("aws_cloudwatch_metric_alarm", "throttles"): lambda env: functions,
        ("aws_cloudwatch_metric_alarm", "http_5xx"): lambda env: 1,
        # One depth alarm a dead-letter queue: async failures, the change feed, the schedules.
        ("aws_cloudwatch_metric_alarm", "queue_depth"): lambda env: (
            int(has_dlq) + int(has_stream_dlq) + int(has_schedule)
        ),
        ("aws_cloudwatch_dashboard", "this"): lambda env: 1,
        # modules/artifacts is called by envs/bootstrap once per account for the state bucket
        # and once more where the account holds the artifacts bucket; no kms_key_arn is given.
        ("aws_kms_key", "this"): lambda env: (
            1 + int("artifacts_bucket" in _tfvars(ROOT / f"terraform/envs/bootstrap/{env}.tfvars"))
        ),
    }
    say("3. an idle deployment, per month (terraform/; us-east-1 list prices)")
    header = f"{'dev':>5}{'prod':>5}{'$ dev':>8}{'$ prod':>8}"
    say(f"   {'what bills while nobody uses Parley':<70}{header}")
    total = dict.fromkeys(envs, 0.0)
    instances: dict[str, Counter[str]] = {env: Counter() for env in envs}
    for kind, places in sorted(found.items()):
        if kind not in prices.idle:
            continue
        for where, name, _ in places:
            if where.startswith("examples/"):
                continue
            rule = rules.get((kind, name))
            counts = {env: rule(env) if rule else 1 for env in envs}
            price = prices.idle[kind].price
            for env in envs:
                total[env] += counts[env] * price
                instances[env][kind] += counts[env]
            what = f"{kind}.{name} ({where}){'' if rule else ' — count assumed 1'}"
            say(
                f"   {what:<70}{counts['dev']:>5}{counts['prod']:>5}"
                f"{counts['dev'] * price:>8.2f}{counts['prod'] * price:>8.2f}"
            )
    say(f"   {'total (dollars a month)':<80}{total['dev']:>8.2f}{total['prod']:>8.2f}")
    free = {"aws_cloudwatch_metric_alarm": 10, "aws_cloudwatch_dashboard": 3}  # per account
    after = {
        env: total[env]
        - sum(min(n, instances[env][k]) * prices.idle[k].price for k, n in free.items())
        for env in envs
    }
    say(
        f"   {'after each account’s free tier (10 alarm metrics, 3 dashboards)':<80}"
        f"{after['dev']:>8.2f}{after['prod']:>8.2f}"
    )
    say(
        "   The KMS keys are envs/bootstrap's, per account (the state bucket's, and the artifacts "
        "bucket's in dev); automatic rotation adds $1 a month at each of the first two yearly "
        "rotations."
    )
    plus = prices.usage["cognito_plus_mau"]
    http_routes = len(manifest.http_routes())
    ws_routes = len(manifest.websocket_routes())
    metric = prices.usage["cloudwatch_custom_metrics"]
    series = len(_SERIES)
    say("   Nothing else bills while idle; what bills as soon as there is use, beyond requests:")
    say(
        f"   - Cognito Plus tier (threat protection: advanced_security_mode AUDIT in dev by "
        f"default, ENFORCED in prod): ${plus.price:.3f} per monthly active user, no free tier."
    )
    say(
        f"   - API Gateway detailed metrics (detailed_metrics_enabled on both stages): per-route "
        f"series for {http_routes} HTTP and {ws_routes} WebSocket routes, and {series} EMF series "
        f"the functions emitted in this run, each ${metric.price:.2f} a month for every hour it "
        "gets data."
    )
    say(
        "   - PITR and storage of both tables, S3 (app, artifacts kept per release), logs "
        "(30 days): per GB."
    )
    acl = next(iter(found.get("aws_wafv2_web_acl", [])), None)
    if acl is not None:
        rules_in_acl = len(acl[2].get("rule", []))
        web = prices.idle["aws_wafv2_web_acl"]
        say(
            f"   - optional, not deployed by default: the web ACL of {acl[0]} "
            f"(web_acl_arn): ${web.price + rules_in_acl:.2f} a month ({rules_in_acl} rules)."
        )
    return total["prod"]


def write_reply_usage(results: list[Scenario], *, idle_prod: float | None) -> None:
    """What one reply of each scenario used, for `invoke cost` (tests/benchmarks/monthly.py).
    Scenarios run in only one mode keep the other mode's figures from the file."""
    from tests.benchmarks.monthly import REPLY_FIELDS, REPLY_USAGE_FILE

    known: dict[str, Any] = (
        json.loads(REPLY_USAGE_FILE.read_text(encoding="utf-8"))
        if REPLY_USAGE_FILE.exists()
        else {}
    )
    scenarios: dict[str, dict[str, dict[str, float]]] = known.get("scenarios", {})
    for result in results:
        thousand = result.usage  # per 1,000 replies
        values = {
            "write_units": thousand.write_units / 1000,
            "read_units": thousand.read_units / 1000,
            "websocket_units": thousand.websocket_units / 1000,
            "lambda_requests": thousand.lambda_requests / 1000,
            "lambda_gb_seconds": thousand.lambda_gb_seconds / 1000,
            "log_bytes": thousand.log_bytes / 1000,
        }
        assert set(values) == set(REPLY_FIELDS)
        scenarios.setdefault(result.name, {})[result.mode] = {
            k: round(float(v), 4) for k, v in values.items()
        }
    document = {
        "written_by": "invoke bench --only cost",
        "tokens": TOKENS,
        "scenarios": scenarios,
        "idle_monthly": known.get("idle_monthly", {})
        if idle_prod is None
        else {"prod": round(idle_prod, 2)},
    }
    REPLY_USAGE_FILE.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    say(f"   one reply's usage per scenario written to {REPLY_USAGE_FILE.relative_to(ROOT)}")


_SERIES: set[tuple[str, ...]] = set()


class MetricCounter(LogCounter):
    """Also notes each EMF metric series the functions emit (namespace, dimensions, name)."""

    def write(self, text: str) -> int:
        if '"CloudWatchMetrics"' in text:
            with contextlib.suppress(ValueError):
                blob = json.loads(text)
                for directive in blob["_aws"]["CloudWatchMetrics"]:
                    for dimensions in directive["Dimensions"]:
                        values = tuple(f"{d}={blob.get(d)}" for d in dimensions)
                        for metric in directive["Metrics"]:
                            _SERIES.add((directive["Namespace"], *values, metric["Name"]))
        return super().write(text)


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--replies", type=int, default=2, help="coalesced replies per scenario (default 2)"
    )
    parser.add_argument(
        "--baseline-replies",
        type=int,
        default=1,
        help="per-token replies per scenario (default 1: each is the same 1,000 frames and "
        "writes, and takes 10-60 s here; 0 skips the baseline)",
    )
    args = parser.parse_args()
    replies = {"coalesced": max(1, args.replies), "per-token": max(0, args.baseline_replies)}
    warnings.filterwarnings("ignore", "No application metrics to publish")
    started = time.perf_counter()
    prices = PriceTable.load()
    manifest = load_manifest()
    memory = {name: manifest.memory(f) for name, f in manifest.functions.items()}
    architectures = {manifest.architecture(f) for f in manifest.functions.values()}
    assert architectures == {"arm64"}, architectures  # the bill prices arm64 compute

    workdir = Path(tempfile.mkdtemp(prefix="bench-cost-"))
    moto = Moto(workdir).start()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    side = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=moto.url,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
    )  # a session of its own: the meter's reads are not metered
    meter = Meter(tables={}, items=ClientItemSource(side), memory_mb=memory, replay_reads=True)
    boto3.setup_default_session()
    meter.install(boto3.DEFAULT_SESSION)  # before any function builds a client
    sys.stdout = MetricCounter(meter, sys.stdout)  # what functions print is counted as logs
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    model = ScriptedModel().start()
    endpoint = ConnectionsEndpoint().start()
    stage = Stage(moto, model, endpoint, meter)
    try:
        results = []
        for name, members in SCENARIOS:
            for mode in MODES:
                if not replies[mode]:
                    continue
                lap = time.perf_counter()
                results.append(run_scenario(stage, name, members, mode, replies[mode]))
                say(f"   ({name} · {mode}: {time.perf_counter() - lap:.1f} s)")
        totals = print_costs(results, prices, meter.replayed)
        print_memory(results, prices, memory["bot_worker"])
        write_reply_usage(results, idle_prod=None)  # kept even if a later section fails
        for result in results:
            if result.mode == "coalesced" or result.members == 1:
                print_breakdown(result, prices)
        say()
        resources = stage.fresh()
        exercise(stage, resources, measured=False)  # warm every function and cache
        labels = exercise(stage, resources, measured=True)
        counts = print_calls(stage, labels)
        say()
        idle = print_idle(prices)
        write_reply_usage(results, idle_prod=idle)
        say(
            json.dumps(
                {
                    "replies_per_scenario": replies,
                    "dollars_per_1000_replies": {k: round(v, 4) for k, v in totals.items()},
                    "dynamodb_calls": counts,
                    "idle_monthly_prod": round(idle, 2),
                    "seconds": round(time.perf_counter() - started, 1),
                },
                ensure_ascii=False,
            )
        )
    finally:
        sys.stdout = out
        endpoint.stop()
        model.stop()
        moto.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
