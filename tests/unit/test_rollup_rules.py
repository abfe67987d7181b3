"""What the usage rollups count, once: the rules of `parley.rollups` at their edges, against the
fast store (moto in server mode). These tests are what `invoke mutate` runs for
`parley.rollups`; the change feed around them is tested in tests/unit/test_change_feed.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from parley.changes import Change
from parley.errors import BadRequest
from parley.rollups import (
    DEFAULT_USAGE_DAYS,
    MAX_USAGE_DAYS,
    UsageRollups,
    activity,
    counts_of,
    usage_range,
    usage_series,
)
from parley.store import Store
from parley.store.rollups import MARKER_DAYS, Counts
from tests.unit.conftest import fresh_id

DAY = "2026-12-02"


def message(**fields: Any) -> dict[str, Any]:
    return {"created_at": f"{DAY}T10:00:00.000Z", **fields}


def change(
    event: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    sk: str = "MSG#01M8",
) -> Change:
    return Change(
        event=event,  # type: ignore[arg-type]
        event_id=fresh_id("ev-"),
        keys={"pk": "CONV#c", "sk": sk},
        old=old,
        new=new,
    )


def reply(status: str, **usage: int) -> dict[str, Any]:
    return message(
        role="assistant",
        status=status,
        requested_by="asker",
        usage={"input_tokens": usage.get("i", 0), "output_tokens": usage.get("o", 0)},
    )


def test_a_users_message_counts_one_for_its_author() -> None:
    new = message(role="user", author_id="ana", status="complete")
    assert counts_of(change("INSERT", None, new)) == ("ana", Counts(messages=1))
    assert counts_of(change("MODIFY", new, {**new, "content": "x"})) is None  # an edit: no
    assert counts_of(change("REMOVE", new, None)) is None  # a purge: usage is history
    assert counts_of(change("INSERT", None, new, sk="CLIENTMSG#1")) is None
    assert counts_of(change("INSERT", None, new, sk="META")) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("complete", Counts(tokens_in=7, tokens_out=3, replies=1)),
        ("stopped", Counts(tokens_in=7, tokens_out=3, stopped=1, replies=1)),
        ("failed", Counts(tokens_in=7, tokens_out=3, failed=1, replies=1)),
    ],
)
def test_a_reply_counts_when_it_leaves_streaming(status: str, expected: Counts) -> None:
    streaming = reply("streaming")
    assert counts_of(change("INSERT", None, streaming)) is None
    assert counts_of(change("MODIFY", streaming, {**streaming, "content": "so far"})) is None
    ended = reply(status, i=7, o=3)
    assert counts_of(change("MODIFY", streaming, ended)) == ("asker", expected)
    # Ended before (a later write of an ended reply): counted then, not again.
    assert counts_of(change("MODIFY", ended, {**ended, "announced": True})) is None
    # A reply stored already ended counts too.
    assert counts_of(change("INSERT", None, ended)) == ("asker", expected)


def test_a_reply_without_usage_counts_its_ending_only() -> None:
    ended = {**reply("failed"), "usage": None}
    expected = Counts(failed=1, replies=1)
    assert counts_of(change("MODIFY", reply("streaming"), ended)) == ("asker", expected)


def test_the_projection_counts_once_per_message_even_at_once(fast_store: Store) -> None:
    user = fresh_id("user-")
    rollups = UsageRollups(fast_store)
    first = change("INSERT", None, message(role="user", author_id=user, status="complete"))
    redelivered = Change(
        event=first.event, event_id=fresh_id("ev-"), keys=first.keys, old=None, new=first.new
    )
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(rollups.apply, [first, redelivered, first, redelivered]))
    ended = change(
        "MODIFY",
        reply("streaming"),
        {**reply("stopped", i=5, o=2), "requested_by": user},
        sk="MSG#02",
    )
    rollups.apply(ended)
    rollups.apply(ended)
    expected = Counts(messages=1, tokens_in=5, tokens_out=2, stopped=1, replies=1)
    assert fast_store.rollups.day_and_month(user, DAY) == (expected, expected)
    assert fast_store.rollups.day_and_month(user, "2026-12-31") == (Counts(), expected)
    assert fast_store.rollups.day_and_month(user, "2026-11-30") == (Counts(), Counts())
    # An author-less message counts for nobody.
    nobody = {**reply("complete", i=1, o=1), "requested_by": ""}
    rollups.apply(change("MODIFY", reply("streaming"), nobody, sk="MSG#03"))
    assert fast_store.rollups.day_and_month("", DAY) == (Counts(), Counts())


def test_a_counted_marker_lives_past_the_streams_retention(fast_store: Store) -> None:
    user, key = fresh_id("user-"), fresh_id("msg-")
    assert fast_store.rollups.count_once(key, user, DAY, Counts(messages=1))
    assert not fast_store.rollups.count_once(key, user, DAY, Counts(messages=1))
    assert not fast_store.rollups.count_once(fresh_id("msg-"), user, DAY, Counts())
    marker = fast_store.rollups.table.get_item(
        Key={"pk": f"COUNTED#{key}", "sk": "ROLLUP"}, ConsistentRead=True
    )["Item"]
    import time

    left = int(marker["purge_at"]) - time.time()  # type: ignore[arg-type]
    assert MARKER_DAYS * 86_400 - 60 < left <= MARKER_DAYS * 86_400
    assert MARKER_DAYS >= 2  # the stream keeps records 24 h


def test_me_reads_the_day_and_its_month(fast_store: Store) -> None:
    user = fresh_id("user-")
    fast_store.rollups.count_once(fresh_id("m-"), user, DAY, Counts(messages=2, tokens_in=4))
    fast_store.rollups.count_once(fresh_id("m-"), user, "2026-12-01", Counts(failed=1))
    seen = activity(fast_store, user, DAY)
    assert (seen.today.date, seen.today.messages, seen.today.input_tokens) == (DAY, 2, 4)
    assert seen.today.replies_failed == 0
    assert (seen.month.month, seen.month.messages, seen.month.replies_failed) == ("2026-12", 2, 1)


def test_the_series_has_every_day_of_the_range(fast_store: Store) -> None:
    user = fresh_id("user-")
    fast_store.rollups.count_once(fresh_id("m-"), user, "2026-11-30", Counts(messages=3))
    fast_store.rollups.count_once(fresh_id("m-"), user, "2026-12-02", Counts(stopped=1))
    fast_store.rollups.count_once(fresh_id("m-"), user, "2026-12-03", Counts(messages=9))
    series = usage_series(fast_store, user, "2026-11-30", DAY)
    assert (series.from_, series.to) == ("2026-11-30", DAY)
    assert [(d.date, d.messages, d.replies_stopped) for d in series.days] == [
        ("2026-11-30", 3, 0),
        ("2026-12-01", 0, 0),
        (DAY, 0, 1),
    ]


def test_the_usage_range_defaults_and_limits() -> None:
    start, end = usage_range(None, None, now=DAY)
    assert (end.isoformat(), (end - start).days + 1) == (DAY, DEFAULT_USAGE_DAYS)
    start, end = usage_range(None, "2026-01-31")
    assert (start.isoformat(), end.isoformat()) == ("2026-01-02", "2026-01-31")
    start, end = usage_range("2026-01-05", None, now="2026-01-05")
    assert start == end
    start, end = usage_range("2025-01-01", "2026-01-01")
    assert (end - start).days + 1 == MAX_USAGE_DAYS
    for first, last, why in (
        ("2024-12-31", "2026-01-01", "at most 366 days"),
        ("2026-01-02", "2026-01-01", "'from' must not be after 'to'"),
        ("2026-02-30", None, "'from' must be a day"),
        (None, "20260101", "'to' must be a day"),
        ("2026-1-01", "2026-01-03", "'from' must be a day"),
        (None, "2026-01-01T00:00", "'to' must be a day"),
    ):
        with pytest.raises(BadRequest, match=why):
            usage_range(first, last, now=DAY)


def test_a_reply_counts_its_cost_once_per_day_and_month_and_the_series_shows_it(
    fast_store: Store,
) -> None:
    from decimal import Decimal

    user = fresh_id("user-")
    ended = {**reply("complete", i=1000, o=500), "requested_by": user, "cost": 0.00045}
    found = counts_of(change("MODIFY", reply("streaming"), ended))
    assert found == (
        user,
        Counts(tokens_in=1000, tokens_out=500, replies=1, cost=Decimal("0.00045")),
    )
    assert counts_of(change("MODIFY", reply("streaming"), reply("complete", i=1)))[1].cost == 0  # type: ignore[index]
    rollups = UsageRollups(fast_store)
    first = change("MODIFY", reply("streaming"), ended, sk=f"MSG#{fresh_id()}")
    rollups.apply(first)
    rollups.apply(first)  # redelivered: counted once
    rollups.apply(
        change(
            "MODIFY",
            reply("streaming"),
            {**reply("failed", i=1), "requested_by": user, "cost": Decimal("0.000001")},
            sk=f"MSG#{fresh_id()}",
        )
    )
    daily, monthly = fast_store.rollups.day_and_month(user, DAY)
    assert daily.cost == monthly.cost == Decimal("0.000451")
    series = usage_series(fast_store, user, DAY, DAY)
    assert series.days[0].cost_usd == 0.000451
    assert activity(fast_store, user, DAY).month.cost_usd == 0.000451
