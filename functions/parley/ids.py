"""ULIDs and timestamps: ids sort by creation time, timestamps are ISO 8601 UTC with `Z`."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_lock = threading.Lock()
_last = (0, 0)


def new_ulid(now_ms: int | None = None) -> str:
    """A 26-character ULID; monotonic within a millisecond so ids made in a row keep order."""
    global _last
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for increments
        _last = (ms, rand)
    value = (ms << 80) | (rand & ((1 << 80) - 1))
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -5, -5))


def now_iso() -> str:
    """Now as `2026-11-27T08:00:00.000Z`."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def today() -> str:
    """The UTC day, `YYYY-MM-DD` (usage counters and quotas reset at UTC midnight)."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


def seconds_to_utc_midnight() -> int:
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() + 86_400
    return max(1, int(midnight - now.timestamp()) + 1)
