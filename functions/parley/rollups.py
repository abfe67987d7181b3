"""Usage rollups from the change feed: what each user did per UTC day and month.

* a user's message (a `MSG#` item inserted with role `user`) counts one message for its author
  on the day it was written;
* an assistant reply that ends (its status leaves `streaming`) counts its input and output
  tokens for who asked for it, and one `stopped` or `failed` when it ended so, on the day the
  reply began (the day its quota claim was made), and what it cost (its `cost`, USD).

Each counts once per message id (`RollupRepository.count_once`), however often the change is
delivered. Deleting a conversation changes no rollup: usage is history. `GET /me` and
`GET /me/usage` read the rollups as stored (`activity`, `usage_series`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from parley.changes import Change
from parley.errors import BadRequest
from parley.ids import today
from parley.models import Activity, UsageDay, UsageMonth, UsageSeries
from parley.store.rollups import Counts

if TYPE_CHECKING:
    from parley.store import Store

ENDED = ("complete", "stopped", "failed")


def counts_of(change: Change) -> tuple[str, Counts] | None:
    """Who a change counts for and what, or None when it counts nothing."""
    if not change.sk.startswith("MSG#") or change.new is None:
        return None
    new = change.new
    if change.event == "INSERT" and new.get("role") == "user":
        return str(new["author_id"]), Counts(messages=1)
    if new.get("role") != "assistant" or new.get("status") not in ENDED:
        return None
    if change.old is not None and change.old.get("status") in ENDED:
        return None  # ended before: counted then
    usage: dict[str, Any] = new.get("usage") or {}
    status = new.get("status")
    return str(new.get("requested_by", "")), Counts(
        tokens_in=int(usage.get("input_tokens", 0)),
        tokens_out=int(usage.get("output_tokens", 0)),
        stopped=int(status == "stopped"),
        failed=int(status == "failed"),
        replies=1,
        cost=Decimal(str(new.get("cost") or 0)),
    )


class UsageRollups:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._active: set[tuple[str, str]] = set()
        """(user, day) this container has seen counted among the day's active users."""

    def apply(self, change: Change) -> None:
        found = counts_of(change)
        if found is None or not found[0]:
            return
        user_id, counts = found
        assert change.new is not None
        day = str(change.new["created_at"])[:10]
        message_id = change.sk.removeprefix("MSG#")
        self.store.rollups.count_once(message_id, user_id, day, counts)
        # Each user once among the day's active users (the admin console's totals). Tried
        # after the count whether or not it was new, so a retry after a failure in between
        # still counts them; the flag it sets makes it idempotent, this set makes it cheap.
        if (user_id, day) not in self._active:
            self.store.rollups.mark_active(user_id, day)
            self._active.add((user_id, day))
            if len(self._active) > 100_000:
                self._active.clear()


# -- reading ---------------------------------------------------------------------------------
MAX_USAGE_DAYS = 366
"""The longest range `GET /me/usage` answers (one Query of at most this many items)."""
DEFAULT_USAGE_DAYS = 30


def _counts_model(counts: Counts) -> dict[str, int | float]:
    return {
        "messages": counts.messages,
        "input_tokens": counts.tokens_in,
        "output_tokens": counts.tokens_out,
        "replies_stopped": counts.stopped,
        "replies_failed": counts.failed,
        "cost_usd": float(counts.cost),
    }


def activity(store: Store, user_id: str, day: str | None = None) -> Activity:
    """Today's and this month's counts as the rollups hold them: one read, nothing summed."""
    day = day or today()
    daily, monthly = store.rollups.day_and_month(user_id, day)
    return Activity(
        today=UsageDay(date=day, **_counts_model(daily)),
        month=UsageMonth(month=day[:7], **_counts_model(monthly)),
    )


def _day(value: str, name: str) -> date:
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"'{name}' must be a day as YYYY-MM-DD (got '{value[:20]}')") from None
    if len(value) != 10:
        raise BadRequest(f"'{name}' must be a day as YYYY-MM-DD (got '{value[:20]}')")
    return parsed


def usage_range(
    first: str | None, last: str | None, *, now: str | None = None
) -> tuple[date, date]:
    """The days `GET /me/usage` asks for, checked: YYYY-MM-DD, `from` ≤ `to`, at most
    `MAX_USAGE_DAYS` days; by default the `DEFAULT_USAGE_DAYS` days up to today (UTC)."""
    end = _day(last, "to") if last is not None else _day(now or today(), "to")
    start = (
        _day(first, "from") if first is not None else end - timedelta(days=DEFAULT_USAGE_DAYS - 1)
    )
    if start > end:
        raise BadRequest("'from' must not be after 'to'")
    if (end - start).days + 1 > MAX_USAGE_DAYS:
        raise BadRequest(f"A usage range is at most {MAX_USAGE_DAYS} days")
    return start, end


def usage_series(store: Store, user_id: str, first: str | None, last: str | None) -> UsageSeries:
    """The user's daily rollups over a range, every day present (zeros where nothing
    happened): one Query."""
    start, end = usage_range(first, last)
    found = store.rollups.days(user_id, start.isoformat(), end.isoformat())
    days = []
    for offset in range((end - start).days + 1):
        day = (start + timedelta(days=offset)).isoformat()
        days.append(UsageDay(date=day, **_counts_model(found.get(day, Counts()))))
    return UsageSeries.model_validate(
        {"from": start.isoformat(), "to": end.isoformat(), "days": days}
    )
