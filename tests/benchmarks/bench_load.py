"""Load through the local stack: 100 WebSocket clients in 10 rooms, 20 messages each.

Runs the real stack (`python -m tasks.local.stack --model scripted`, loopback only) and drives
it from asyncio clients. Each client sends its next message once the previous one came back to
it (closed loop), so the numbers are latency under 100 concurrent senders rather than an
ever-growing queue. Checks, for every room: each message stored exactly once (the history over
HTTP) and delivered exactly once to every member (nothing lost, nothing duplicated).
The baseline, measured in the same run: one client alone in a room sending the same messages.

    python -m tests.benchmarks.bench_load [--clients 100] [--rooms 10] [--messages 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Load-test-Pass-1!"
DEADLINE_SECONDS = 1800.0
"""The whole run stops by itself after this, whatever happened."""


@dataclass
class Client:
    email: str
    token: str = ""
    sub: str = ""
    room: str = ""
    sent: dict[str, float] = field(default_factory=dict)
    """clientMessageId → send time."""
    received: Counter[str] = field(default_factory=Counter)
    """clientMessageId → times message.created arrived."""
    latencies: list[float] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def start_stack(workdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    ready = workdir / "ready.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tasks.local.stack",
            "--model",
            "scripted",
            "--ready-file",
            str(ready),
            "--log-dir",
            str(workdir / "logs"),
            "--warm",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "stack.err").open("wb"),
    )
    deadline = time.monotonic() + 180
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the stack did not start: {(workdir / 'stack.err').read_text()}")
        time.sleep(0.2)
    return process, json.loads(ready.read_text())


def make_users(info: dict[str, Any], count: int) -> list[Client]:
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=info["cognitoEndpoint"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    clients = []
    for n in range(count):
        email = f"load{n}-{uuid.uuid4().hex[:6]}@example.com"
        created = cognito.admin_create_user(
            UserPoolId=info["userPoolId"],
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": f"Load {n}"},
            ],
        )
        cognito.admin_set_user_password(
            UserPoolId=info["userPoolId"], Username=email, Password=PASSWORD, Permanent=True
        )
        auth = cognito.initiate_auth(
            ClientId=info["clientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
        )
        client = Client(email, auth["AuthenticationResult"]["IdToken"])
        client.sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
        clients.append(client)
    return clients


def _call(api: httpx.Client, method: str, url: str, token: str, **kw: Any) -> httpx.Response:
    """One HTTP call, retried on 429 (the stage throttle) and while a profile is being made."""
    for _ in range(100):
        answer = api.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kw)
        if answer.status_code not in (429, 404) or method == "GET":
            return answer
        time.sleep(0.3)
    return answer


def make_rooms(info: dict[str, Any], clients: list[Client], rooms: int) -> dict[str, list[Client]]:
    members: dict[str, list[Client]] = {}
    with httpx.Client(base_url=info["httpApiUrl"], timeout=60) as api:
        for client in clients:  # every profile exists before anyone is invited
            deadline = time.monotonic() + 60
            while _call(api, "GET", "/me", client.token).status_code != 200:
                if time.monotonic() > deadline:
                    raise SystemExit(f"no profile for {client.email}")
                time.sleep(0.3)
        size = len(clients) // rooms
        for r in range(rooms):
            group = clients[r * size : (r + 1) * size]
            owner = group[0]
            room = _call(
                api,
                "POST",
                "/conversations",
                owner.token,
                json={"title": f"Room {r}", "kind": "group"},
            ).json()["id"]
            for member in group[1:]:
                answer = _call(
                    api,
                    "POST",
                    f"/conversations/{room}/members",
                    owner.token,
                    json={"email": member.email},
                )
                if answer.status_code != 201:
                    raise SystemExit(f"invite failed: {answer.status_code} {answer.text}")
            for member in group:
                member.room = room
            members[room] = group
    return members


async def _reader(
    ws: ClientConnection,
    me: Client,
    sent_at: dict[str, float],
    own: dict[str, asyncio.Event],
    subscribed: asyncio.Event,
) -> None:
    async for raw in ws:
        frame = json.loads(raw)
        if frame.get("type") == "subscribed":
            subscribed.set()
        if frame.get("type") != "message.created":
            continue
        client_id = frame["message"].get("clientMessageId")
        if client_id is None:
            continue
        now = time.perf_counter()
        me.received[client_id] += 1
        if client_id in sent_at:
            me.latencies.append(now - sent_at[client_id])
        if client_id in own:
            own[client_id].set()


async def _session(
    info: dict[str, Any],
    me: Client,
    messages: int,
    sent_at: dict[str, float],
    ready: asyncio.Event,
    start: asyncio.Event,
    done: asyncio.Event,
) -> None:
    async with connect(
        info["wsUrl"],
        subprotocols=["parley", me.token],  # type: ignore[list-item]
        open_timeout=120,
        max_size=2**20,
    ) as ws:
        own: dict[str, asyncio.Event] = {}
        reader = asyncio.create_task(_reader(ws, me, sent_at, own, ready))
        await ws.send(json.dumps({"action": "subscribe", "conversationId": me.room}))
        await start.wait()
        for n in range(messages):
            client_id = f"{me.sub[:8]}-{n}-{uuid.uuid4().hex[:6]}"
            own[client_id] = asyncio.Event()
            sent_at[client_id] = me.sent[client_id] = time.perf_counter()
            await ws.send(
                json.dumps(
                    {
                        "action": "sendMessage",
                        "conversationId": me.room,
                        "clientMessageId": client_id,
                        "content": f"message {n} from {me.email}",
                    }
                )
            )
            with contextlib.suppress(TimeoutError):  # a lost message is counted below
                await asyncio.wait_for(own[client_id].wait(), 60)
            await asyncio.sleep(random.uniform(0, 0.2))
        await done.wait()  # keep listening until every delivery arrived (or the drain ends)
        reader.cancel()


async def drive(
    info: dict[str, Any], clients: list[Client], messages: int, members: dict[str, list[Client]]
) -> float:
    """Run the senders; return the seconds from the first send to the last delivery."""
    sent_at: dict[str, float] = {}
    senders = {c.email for c in clients}
    start, done = asyncio.Event(), asyncio.Event()
    ready = {c.email: asyncio.Event() for c in members_of(members)}
    sessions = [
        asyncio.create_task(
            _session(
                info, c, messages if c.email in senders else 0, sent_at, ready[c.email], start, done
            )
        )
        for c in members_of(members)
    ]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready.values())), 300)
    started = time.perf_counter()
    start.set()
    expected = sum(len(group) for group in members.values() for c in group if c.email in senders)
    expected *= messages
    deadline = time.monotonic() + 60 * messages + 120
    while time.monotonic() < deadline:
        received = sum(sum(c.received.values()) for c in members_of(members))
        if received >= expected and all(len(c.sent) == messages for c in clients):
            break
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(1.0)  # a duplicate would arrive right behind
    done.set()
    await asyncio.gather(*sessions)
    return elapsed


def members_of(members: dict[str, list[Client]]) -> list[Client]:
    return [c for group in members.values() for c in group]


def verify(info: dict[str, Any], rooms: dict[str, list[Client]]) -> tuple[int, int, int, int]:
    """(lost, duplicated deliveries, missing stored, duplicated stored) over every room."""
    lost = duplicated = missing = twice = 0
    with httpx.Client(base_url=info["httpApiUrl"], timeout=60) as api:
        for room, members in rooms.items():
            expected = {cid for m in members for cid in m.sent}
            for member in members:
                lost += len(expected - set(member.received))
                duplicated += sum(n - 1 for cid, n in member.received.items() if n > 1)
            stored: Counter[str] = Counter()
            cursor: str | None = None
            while True:
                params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
                page = _call(
                    api, "GET", f"/conversations/{room}/messages", members[0].token, params=params
                ).json()
                stored.update(m.get("clientMessageId") for m in page["items"])
                cursor = page.get("nextCursor")
                if not cursor:
                    break
            missing += len(expected - set(stored))
            twice += sum(n - 1 for cid, n in stored.items() if cid in expected and n > 1)
    return lost, duplicated, missing, twice


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args(argv)

    def out_of_time(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the benchmark ran past {DEADLINE_SECONDS:.0f} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(DEADLINE_SECONDS))  # bounded in time; `finally` still stops the stack
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        process, info = start_stack(Path(tmp))
        try:
            t0 = time.perf_counter()
            clients = make_users(info, args.clients)
            rooms = make_rooms(info, clients, args.rooms)
            print(
                f"setup: {len(clients)} users in {len(rooms)} rooms "
                f"({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )

            # Baseline: one sender alone in a room (members listen, nobody else talks).
            first = next(iter(rooms))
            solo = rooms[first][0]
            asyncio.run(drive(info, [solo], args.messages, {first: rooms[first]}))
            baseline = solo.latencies[:]
            base_p50 = statistics.median(baseline)
            for client in clients:
                client.sent.clear()
                client.received.clear()
                client.latencies.clear()

            elapsed = asyncio.run(drive(info, clients, args.messages, rooms))
            latencies = [x for c in clients for x in c.latencies]
            sent = sum(len(c.sent) for c in clients)
            lost, duplicated, missing, twice = verify(info, rooms)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    deliveries = len(latencies)
    print(f"messages sent        {sent} ({sent / elapsed:.1f}/s over {elapsed:.1f} s)")
    print(f"deliveries           {deliveries} (expected {sent * (args.clients // args.rooms)})")
    print(
        f"baseline (1 sender)  p50 {base_p50 * 1000:.0f} ms  "
        f"p99 {_percentile(baseline, 0.99) * 1000:.0f} ms"
    )
    print(f"load     ({args.clients} clients) p50 {p50 * 1000:.0f} ms  p99 {p99 * 1000:.0f} ms")
    print(f"ratio vs baseline    p50 ×{p50 / base_p50:.2f}  p99 ×{p99 / base_p50:.2f}")
    print(
        f"exactly once         lost {lost}, duplicated deliveries {duplicated}, "
        f"not stored {missing}, stored twice {twice}"
    )
    ok = lost == duplicated == missing == twice == 0
    print("PASS" if ok else "FAIL: messages were lost or duplicated")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
