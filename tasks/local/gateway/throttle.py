"""Token-bucket throttling, the algorithm API Gateway applies to a stage's rate and burst."""

from __future__ import annotations

import time


class TokenBucket:
    """`burst` tokens at most, refilled at `rate` per second; a request takes one or is refused."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._at = time.monotonic()

    def take(self) -> bool:
        """Take a token if one is left (the caller answers 429 otherwise)."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
