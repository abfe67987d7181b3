"""Search: what indexing a message costs, and how long a search takes (docs/search.md).

On the local stack's moto (`tasks.local.aws`), with the chat table made from
`functions/tables.yaml`:

* **cost per indexed message**: real prose (paragraphs of this repository's docs as assistant
  replies, their first sentences as user messages) goes through the search projection; the
  items it writes are counted and sized as DynamoDB bills them (1 write unit per started KB per
  item), next to the message item's own write as the baseline, and priced with
  `tests/benchmarks/prices.yaml`;
* **query latency**: a user in 12 conversations, one of them a 2,000-message history, searches
  a rare word, a hot word, a typed prefix and two words; each search is timed (median and p95
  of repeated runs) next to the baseline of reading one page of 20 messages, and its DynamoDB
  calls and items read are counted.

moto answers in milliseconds on loopback and runs the Queries one at a time, so the absolute
times are the local stack's; the calls and items are what AWS would see.

Run: `python -m tests.benchmarks.bench_search` (or `invoke bench --only search`).
"""

from __future__ import annotations

import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tasks.core.manifest import ROOT
from tasks.local.aws import MotoProcess
from tasks.local.bootstrap import FAKE_CREDENTIALS, bootstrap

REGION = "us-east-1"
RUNS = 5
HISTORY = 2_000
CONVERSATIONS = 12
OTHER_MESSAGES = 40
"""Messages in each of the other conversations (short ones: moto writes ~1 ms per item)."""


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (numbers ~ 1 byte per 2 digits + 1)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if isinstance(value, str):
            size += len(value.encode())
        elif isinstance(value, bool):
            size += 1
        elif isinstance(value, int):
            size += 1 + math.ceil(len(str(value)) / 2)
        elif isinstance(value, dict):
            size += 3 + item_bytes(value)
        else:
            size += len(str(value).encode())
    return size


def corpus() -> tuple[list[str], list[str]]:
    """(user messages, assistant replies) from the docs' paragraphs: real prose, not filler."""
    paragraphs: list[str] = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            text = " ".join(block.split())
            if len(text) > 200 and not text.startswith(("|", "```", "#")):
                paragraphs.append(text)
    users = [p.split(". ")[0][:200] for p in paragraphs]
    return users, paragraphs


def prices() -> dict[str, float]:
    data = yaml.safe_load((ROOT / "tests/benchmarks/prices.yaml").read_text(encoding="utf-8"))
    usage = data["usage"]
    return {
        name: float(usage[name]["price"]) / float(usage[name]["per"])
        for name in ("dynamodb_write_request_units", "dynamodb_read_request_units")
    }


class CallCounter:
    """Counts the DynamoDB calls a block makes and the items they return."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.items = 0
        client.meta.events.register("after-call.dynamodb", self._after)

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        self.items += len(parsed.get("Items", []))
        for found in parsed.get("Responses", {}).values():
            self.items += len(found)


def timed(call: Callable[[], Any]) -> tuple[float, float, float]:
    """Median and worst wall-clock ms of RUNS calls, and the median CPU ms this process spent
    (the function's own work: parsing, ranking, snippets, botocore — moto runs elsewhere)."""
    call()  # warm
    times, cpu = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return (
        statistics.median(times) * 1000,
        max(times) * 1000,
        statistics.median(cpu) * 1000,
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        moto = MotoProcess("127.0.0.1", 0, Path(tmp) / "moto")
        moto.start()
        try:
            resources = bootstrap(moto.url, region=REGION, prefix="bench-search-")
            os.environ.update(
                {
                    "AWS_ENDPOINT_URL": moto.url,
                    "AWS_REGION": REGION,
                    "AWS_DEFAULT_REGION": REGION,
                    "CHAT_TABLE_NAME": resources.table_names["chat"],
                    **{k.upper(): v for k, v in FAKE_CREDENTIALS.items()},
                }
            )
            sys.path.insert(0, str(ROOT / "functions"))
            return run()
        finally:
            moto.stop()


def run() -> int:
    from parley.changes import Change
    from parley.ids import new_ulid, now_iso
    from parley.models import Profile
    from parley.search import PARALLEL_READS, Search, SearchIndex
    from parley.searchtext import term_counts
    from parley.store import get_store
    from parley.store.search import index_pk, posting_sk

    store = get_store()
    table = store.messages.table
    cost = prices()
    users, replies = corpus()

    # -- cost per indexed message ------------------------------------------------------------
    def message(conversation: str, text: str, role: str) -> dict[str, Any]:
        at = now_iso()
        return {
            "pk": f"CONV#{conversation}",
            "sk": f"MSG#{new_ulid()}",
            "author_id": "u-bench" if role == "user" else "assistant",
            "author_name": "Bench",
            "role": role,
            "content": text,
            "status": "complete",
            "created_at": at,
            "updated_at": at,
        }

    print("cost per indexed message (DynamoDB on-demand, us-east-1 list prices)")
    print(
        f"{'message':10} {'n':>4} {'words':>6} {'postings':>9} {'index WRU':>10} "
        f"{'message WRU':>12} {'ratio':>6} {'$ / 1,000':>10} {'index bytes':>12}"
    )
    for role, texts in (("user", users), ("assistant", replies)):
        words = postings = index_units = message_units = index_size = 0
        for text in texts:
            item = message("bench-cost", text, role)
            terms = term_counts(text)
            length = sum(terms.values())
            for term, tf in terms.items():
                posting = {
                    "pk": index_pk("01" + "0" * 24),
                    "sk": posting_sk(term, item["sk"][4:]),
                    "tf": tf,
                    "n": length,
                }
                size = item_bytes(posting)
                index_units += math.ceil(size / 1024)
                index_size += size + 100  # DynamoDB's per-item storage overhead
            postings += len(terms)
            words += len(text.split())
            message_units += math.ceil(item_bytes(item) / 1024)
        n = len(texts)
        dollars = index_units / n * cost["dynamodb_write_request_units"] * 1000
        print(
            f"{role:10} {n:>4} {words / n:>6.0f} {postings / n:>9.1f} {index_units / n:>10.1f} "
            f"{message_units / n:>12.1f} {index_units / message_units:>5.1f}× "
            f"{dollars:>10.4f} {index_size / n:>12.0f}"
        )
    print("  (a streaming reply's progress writes index nothing; an edit rewrites its postings)")

    # -- query latency -----------------------------------------------------------------------
    alice = Profile(id=f"u-{new_ulid()}", email="a@example.com", name="Alice", created_at=now_iso())
    conversations = [
        store.conversations.create(alice, kind="group", title=f"Room {n}").id
        for n in range(CONVERSATIONS)
    ]
    long_history = conversations[0]
    index = SearchIndex(store)
    vocabulary = sorted({w for r in replies for w in r.split() if w.isalpha()})
    started = time.perf_counter()
    with table.batch_writer() as batch, index.batched():
        for number in range(HISTORY):
            words = " ".join(vocabulary[(number * 7 + k * 13) % len(vocabulary)] for k in range(6))
            text = f"{words} deployment" if number % 4 == 0 else words
            if number == HISTORY // 3:
                text += " the capybara escaped"
            item = message(long_history, text, "user")
            batch.put_item(Item=item)
            index.apply(Change("INSERT", "bench", {"pk": item["pk"], "sk": item["sk"]}, None, item))
        for conversation in conversations[1:]:
            for number in range(OTHER_MESSAGES):
                item = message(conversation, users[number % len(users)], "user")
                batch.put_item(Item=item)
                index.apply(
                    Change("INSERT", "bench", {"pk": item["pk"], "sk": item["sk"]}, None, item)
                )
    print(
        f"\nsetup: {HISTORY} + {OTHER_MESSAGES * (CONVERSATIONS - 1)} messages indexed in "
        f"{time.perf_counter() - started:.1f} s (moto)"
    )

    search = Search(store)
    counter = CallCounter(table.meta.client)

    def page() -> None:
        store.messages.page(long_history, limit=20, cursor=None)

    base, base_worst, base_cpu = timed(page)
    print(
        f"\nquery latency: {CONVERSATIONS} conversations, one of {HISTORY:,} messages; "
        f"median and worst of {RUNS} runs"
    )
    print(
        f"{'search':34} {'hits':>5} {'median':>9} {'worst':>9} {'÷ page':>7} {'own CPU':>9} "
        f"{'calls':>6} {'rounds':>7} {'items read':>11} {'RRU':>6}"
    )
    print(
        f"{'baseline: one page of 20 messages':34} {20:>5} {base:>6.1f} ms {base_worst:>6.1f} ms "
        f"{'':>7} {base_cpu:>6.1f} ms {1:>6} {1:>7}"
    )
    for label, q in (
        ("a rare word (capybara)", "capybara"),
        ("a hot word (deployment, 1 in 4)", "deployment "),
        ("a typed prefix (capyb)", "capyb"),
        ("two words (capybara escaped)", "capybara escaped"),
        ("a word in no message", "zanzibar "),
    ):
        hits, _ = search.search(alice.id, q, limit=20)
        counter.calls.clear()
        counter.items = 0
        search.search(alice.id, q, limit=20)
        calls, items = sum(counter.calls.values()), counter.items
        # Eventually consistent Queries: 0.5 unit per 4 KB; postings are ~80 bytes.
        rru = counter.calls["Query"] * 0.5 + items * 80 / 4096 * 0.5 + 2 * len(hits)
        # Sequential round trips on the critical path: the GSI1 list, the postings Queries
        # (PARALLEL_READS at a time), the membership reads (in parallel), one BatchGetItem.
        queries = counter.calls["Query"] - 1
        rounds = 1 + math.ceil(queries / PARALLEL_READS) + (2 if hits else 0)
        median, worst, cpu = timed(lambda q=q: search.search(alice.id, q, limit=20))
        print(
            f"{label:34} {len(hits):>5} {median:>6.1f} ms {worst:>6.1f} ms {median / base:>6.1f}× "
            f"{cpu:>6.1f} ms {calls:>6} {rounds:>7} {items:>11} {rru:>6.1f}"
        )
    print(
        f"  calls: 1 GSI1 Query + {CONVERSATIONS} postings Queries per word + a membership read "
        "per conversation on the page + 1 BatchGetItem; rounds: those that wait on each other"
    )
    print(
        f"  $ per 1,000 searches at ~{CONVERSATIONS} conversations: "
        f"{(CONVERSATIONS + 30) * 0.5 * cost['dynamodb_read_request_units'] * 1000:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
