"""The per-user daily token quota and the one-reply-in-flight rule, for every transport.

Before the model is asked, a reply *claims* tokens (an estimate of what it may use) and the
asker's reply slot in the conversation, in one conditional transaction: with one token left,
ten questions at once start exactly one model call. When the reply ends — complete, stopped,
failed or never started — the claim is *settled*: the reservation is released and what was
really used is counted. A claim that starts under the quota may end a little over it: the
quota bounds cost per day, it does not cut answers in half.
"""

from __future__ import annotations

import time
from decimal import Decimal

from parley.bots import estimate_tokens
from parley.errors import Conflict, QuotaExceeded
from parley.ids import seconds_to_utc_midnight, today
from parley.models import Profile, Usage, UsageToday
from parley.store import Store
from parley.store.usage import Claim, ClaimRefused

REPLY_SLOT_SECONDS = 180
"""How long a reply's slot is held at most: longer than a worker can live (timeout 120 s)."""


def usage_today(store: Store, user_id: str, quota: int) -> UsageToday:
    day = today()
    used, reserved, cost = store.usage.read_day(user_id, day)
    total = used.input_tokens + used.output_tokens
    return UsageToday(
        date=day,
        input_tokens=used.input_tokens,
        output_tokens=used.output_tokens,
        daily_quota=quota,
        remaining=max(0, quota - total - reserved) if quota else None,
        cost_usd=float(cost),
    )


def quota_exceeded(quota: int) -> QuotaExceeded:
    """The one refusal for a spent quota (429 with Retry-After; `quota_exceeded` over WS)."""
    return QuotaExceeded(
        f"Daily token quota of {quota} tokens reached; it resets at 00:00 UTC "
        f"(in {seconds_to_utc_midnight()} s)",
        headers={"Retry-After": str(seconds_to_utc_midnight())},
    )


class Quota:
    """Claims and settlements against one deployment's daily quota (0 = unlimited)."""

    def __init__(self, store: Store, *, daily_tokens: int, max_output_tokens: int) -> None:
        self.store = store
        self.daily_tokens = daily_tokens
        self.max_output_tokens = max_output_tokens

    def limit_for(self, user_id: str, profile: Profile | None = None) -> int:
        """The user's daily tokens: an admin's override (`parley.admin`) replaces the
        deployment's quota; 0 is unlimited either way. `profile`: the user's, as the caller
        already read it (the same eventually consistent read), so it is not read twice."""
        if profile is None or profile.id != user_id:
            profile = self.store.profiles.get(user_id)
        override = profile.daily_token_quota if profile is not None else None
        return self.daily_tokens if override is None else override

    def claim(
        self,
        user_id: str,
        conversation_id: str,
        reply_id: str,
        question: str,
        *,
        max_output_tokens: int | None = None,
        profile: Profile | None = None,
    ) -> Claim:
        """Reserve a reply's tokens (the question and the model's output limit, when given)
        and its slot, or refuse before anything is stored (`profile`: see `limit_for`)."""
        limit = self.limit_for(user_id, profile)
        claim = Claim(
            user_id=user_id,
            conversation_id=conversation_id,
            reply_id=reply_id,
            day=today(),
            tokens=estimate_tokens(question) + (max_output_tokens or self.max_output_tokens),
        )
        try:
            self.store.usage.claim(
                claim,
                limit=limit,
                now=int(time.time()),
                lock_seconds=REPLY_SLOT_SECONDS,
            )
        except ClaimRefused as refused:
            if refused.quota:
                raise quota_exceeded(limit) from None
            raise Conflict(
                "The assistant is still answering your last question here; "
                "wait for it or stop it first"
            ) from None
        return claim

    def settle(self, claim: Claim, used: Usage, *, cost: Decimal | None = None) -> bool:
        """Release the claim and count `used` and its `cost` (USD); False when it had been
        settled already."""
        return self.store.usage.settle(claim, used, cost=cost)

    def release(self, claim: Claim) -> None:
        """Give a claim back unused (the question was a resend, or the worker unreachable)."""
        self.settle(claim, Usage(input_tokens=0, output_tokens=0))
