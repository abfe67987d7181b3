"""The per-user daily token quota: checked before a model call, counted after it."""

from __future__ import annotations

from parley.errors import QuotaExceeded
from parley.ids import seconds_to_utc_midnight, today
from parley.models import Usage, UsageToday
from parley.store import Store


def usage_today(store: Store, user_id: str, quota: int) -> UsageToday:
    day = today()
    used = store.usage.get(user_id, day)
    total = used.input_tokens + used.output_tokens
    return UsageToday(
        date=day,
        input_tokens=used.input_tokens,
        output_tokens=used.output_tokens,
        daily_quota=quota,
        remaining=max(0, quota - total) if quota else None,
    )


def check_quota(store: Store, user_id: str, quota: int) -> None:
    """QuotaExceeded (429, Retry-After: seconds to the next UTC midnight) when none is left.

    A call that starts under the quota may end a little over it: the quota bounds cost per day,
    it does not cut answers in half.
    """
    if not quota:
        return
    if usage_today(store, user_id, quota).remaining == 0:
        retry_after = seconds_to_utc_midnight()
        raise QuotaExceeded(
            f"Daily token quota of {quota} tokens exceeded; it resets at 00:00 UTC",
            headers={"Retry-After": str(retry_after)},
        )


def record_usage(store: Store, user_id: str, usage: Usage) -> None:
    store.usage.add(user_id, today(), usage)
