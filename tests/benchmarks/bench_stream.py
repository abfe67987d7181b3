"""The change feed: what a room message writes on the request path, and how late the feed is.

On the local stack's moto (`tasks.local.aws`), tables from `functions/tables.yaml`:

* **request-path writes per room message**, counted by the cost benchmark's meter
  (`tests/benchmarks/cost.py`: every DynamoDB call and the write units AWS would bill) around
  `MessagePipeline.post` in rooms of 2, 10 and 50 members. "Before" is the same post plus the
  member-activity update the request made before the change feed took it over
  (`ConversationRepository.touch` over every member: META and each member's GSI1 key); "after"
  is the post as it is now. The feed's own writes for the same messages are shown too: they
  moved off the request path, they did not vanish.
* **stream lag**, the time from a message's write returning to every member's list showing
  it (the member item's activity key moved), polled every 10 ms, through the local event
  source mapping (`tasks.local.streams`, polling each shard every 0.25 s like Lambda) and
  `stream_processor` in process: p50 and p99 with the manifest's 1 s batching window and with
  none.

Run: `python -m tests.benchmarks.bench_stream` (or `invoke bench --only stream`).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

from tasks.core.manifest import ROOT

sys.path.insert(0, str(ROOT / "functions"))

REGION = "us-east-1"
ROOMS = (2, 10, 50)
MESSAGES = 5
LAG_MESSAGES = 30


def say(text: str = "") -> None:
    print(text, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def writes(calls: list[Any]) -> tuple[int, int]:
    """(write calls, write units incl. index writes) of metered calls."""
    ops = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
    chosen = [c for c in calls if c.operation in ops]
    return len(chosen), sum(c.write_units + c.index_write_units for c in chosen)


def room(store: Any, members: int, tag: str) -> tuple[Any, list[Any]]:
    people = [
        store.profiles.ensure(f"{tag}-{i:03d}", f"{tag}{i}@example.com", f"Member {i}")
        for i in range(members)
    ]
    conversation = store.conversations.create(people[0], kind="group", title=f"room {tag}")
    record = store.conversations.record(conversation.id)
    for person in people[1:]:
        store.conversations.add_member(record, person)
    return conversation, people


def main() -> int:
    from tasks.core.manifest import load_manifest, load_tables
    from tasks.local.aws import MotoProcess
    from tasks.local.bootstrap import FAKE_CREDENTIALS, bootstrap
    from tests.benchmarks.cost import ClientItemSource, Meter, table_specs

    workdir = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    moto = MotoProcess("127.0.0.1", 0, workdir)
    url = moto.start()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    try:
        side = boto3.session.Session().client("dynamodb", endpoint_url=url, region_name=REGION)
        memory = {f.name: f.memory or 256 for f in load_manifest().functions.values()}
        meter = Meter(tables={}, items=ClientItemSource(side), memory_mb=memory)
        boto3.setup_default_session()
        meter.install(boto3.DEFAULT_SESSION)
        resources = bootstrap(url, region=REGION)
        from tests.support.environment import clear_parley_caches, function_env

        env = function_env(resources, service="parley")
        env["WS_MANAGEMENT_ENDPOINT"] = "http://127.0.0.1:9"  # no subscribers: never posted to
        env["POWERTOOLS_METRICS_DISABLED"] = "true"  # EMF lines are not DynamoDB writes
        os.environ.update(env)
        clear_parley_caches()
        meter.tables = table_specs(load_tables(), resources.table_names)
        request_path(meter, resources)
        stream_lag(resources)
    finally:
        moto.stop()
    return 0


def request_path(meter: Any, resources: Any) -> None:
    from parley import services
    from parley.store import get_store
    from tests.support.change_feed import in_process_feed

    store = get_store()
    pipeline, _ = services.api_pipeline()
    feed = in_process_feed(resources)
    feed.drain(timeout=600)
    say("DynamoDB writes per room message (calls / write units, index writes included)")
    say(f"{'members':>8} | {'request before':>15} | {'request after':>14} | {'change feed':>12}")
    for members in ROOMS:
        results: dict[str, tuple[int, int]] = {}
        for label in ("before", "after"):
            conversation, people = room(store, members, f"{label}{members}")
            feed.drain(timeout=600)
            scope = f"{label}-{members}"
            with meter.scope(scope):
                for n in range(MESSAGES):
                    posted = pipeline.post(
                        people[n % members],
                        conversation.id,
                        f"hello room {n}",
                        client_message_id=f"{scope}-{n}",
                        dispatch=lambda job: None,
                    )
                    if label == "before":  # what the request did before the change feed
                        store.conversations.touch(
                            conversation.id,
                            posted.message.created_at,
                            member_ids=[p.id for p in people],
                        )
            calls, units = writes(meter.scope_calls(scope))
            results[label] = (round(calls / MESSAGES, 1), round(units / MESSAGES, 1))
            if label == "after":
                with meter.scope(f"feed-{members}"):
                    feed.drain(timeout=600)
                calls, units = writes(meter.scope_calls(f"feed-{members}"))
                results["feed"] = (round(calls / MESSAGES, 1), round(units / MESSAGES, 1))
        before, after, fed = results["before"], results["after"], results["feed"]
        say(
            f"{members:>8} | {before[0]:>6} / {before[1]:>6} | {after[0]:>5} / {after[1]:>6} |"
            f" {fed[0]:>4} / {fed[1]:>5}"
        )
    say("(the first message of a room also titles it: one more UpdateItem on META, once)")


def stream_lag(resources: Any) -> None:
    from parley.store import get_store
    from parley.store.table import member_sk
    from tests.support.change_feed import in_process_feed

    store = get_store()
    table = store.conversations.table
    rng = random.Random(7)
    say()
    say(f"Stream lag: write → every member's list moved ({LAG_MESSAGES} room messages, 10 members)")
    for window in (None, 0.0):
        feed = in_process_feed(resources)
        if window is not None:
            from dataclasses import replace

            feed.mapping = replace(feed.mapping, batching_window_seconds=window)
        feed.drain(timeout=600)
        feed.start()
        conversation, people = room(store, 10, f"lag{window}")
        lags: list[float] = []
        try:
            time.sleep(1.5)
            for n in range(LAG_MESSAGES):
                time.sleep(rng.uniform(0.05, 0.4))
                author = people[n % len(people)]
                message, _ = store.messages.put_user_message(
                    conversation.id, author_id=author.id, author_name=author.name, content=f"m{n}"
                )
                written = time.perf_counter()
                last = people[-1] if author is not people[-1] else people[0]
                while True:
                    item = table.get_item(
                        Key={"pk": f"CONV#{conversation.id}", "sk": member_sk(last.id)},
                        ConsistentRead=True,
                    )["Item"]
                    if str(item["updated_at"]) >= message.created_at:
                        break
                    if time.perf_counter() - written > 30:
                        raise SystemExit("the change feed did not move the list within 30 s")
                    time.sleep(0.01)
                lags.append(time.perf_counter() - written)
        finally:
            feed.stop()
        label = "manifest window (1 s)" if window is None else "no window"
        say(
            f"  {label:>22}: p50 {statistics.median(lags) * 1000:6.0f} ms, "
            f"p99 {percentile(lags, 0.99) * 1000:6.0f} ms, max {max(lags) * 1000:6.0f} ms "
            f"({feed.invocations} invocations for {LAG_MESSAGES} messages and their follow-ups)"
        )


if __name__ == "__main__":
    sys.exit(main())
