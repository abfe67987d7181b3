"""The daily quota and the reply slot: claims are one conditional transaction, settled once.

Against moto in server mode, at the edges of every condition (one token under the quota and
exactly at it, a slot one second before and after it expires, a settlement retried or made by
a reply that lost its slot), and with the stored items compared to docs/contracts.md:
`committed` must stay `tokens_in + tokens_out + reserved`, since it is what the quota
condition compares. These tests are what `invoke mutate` runs for `parley.quota` and
`parley.store.usage`.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from parley.bots import estimate_tokens
from parley.errors import Conflict, QuotaExceeded
from parley.ids import seconds_to_utc_midnight, today
from parley.models import Usage
from parley.quota import REPLY_SLOT_SECONDS, Quota, quota_exceeded, usage_today
from parley.store import Store
from parley.store.housekeeping import sweep_key
from parley.store.usage import Claim, ClaimRefused, UsageRepository
from tests.unit.conftest import fresh_id

DAY = "2026-11-27"


@pytest.fixture
def user() -> str:
    return fresh_id("user-")


def usage_item(store: Store, user_id: str, day: str = DAY) -> dict[str, int]:
    item = store.usage.table.get_item(
        Key={"pk": f"USER#{user_id}", "sk": f"USAGE#{day}"}, ConsistentRead=True
    ).get("Item", {})
    counted = {k: int(v) for k, v in item.items() if k not in ("pk", "sk")}  # type: ignore[call-overload]
    if counted:  # the one number the quota condition compares
        assert counted["committed"] == (
            counted.get("tokens_in", 0) + counted.get("tokens_out", 0) + counted.get("reserved", 0)
        ), counted
    return counted


def slot_item(store: Store, conversation_id: str, user_id: str) -> dict[str, Any] | None:
    item = store.usage.table.get_item(
        Key={"pk": f"CONV#{conversation_id}", "sk": f"REPLYING#{user_id}"}, ConsistentRead=True
    ).get("Item")
    return None if item is None else {k: v for k, v in item.items() if k not in ("pk", "sk")}


def claim_of(user_id: str, tokens: int, *, conversation_id: str = "c", day: str = DAY) -> Claim:
    return Claim(
        user_id=user_id,
        conversation_id=conversation_id,
        reply_id=fresh_id("reply-"),
        day=day,
        tokens=tokens,
    )


def take(store: Store, claim: Claim, *, limit: int = 0, now: int = 1000) -> None:
    store.usage.claim(claim, limit=limit, now=now, lock_seconds=180)


def refusal(store: Store, claim: Claim, *, limit: int = 0, now: int = 1000) -> ClaimRefused:
    with pytest.raises(ClaimRefused) as refused:
        take(store, claim, limit=limit, now=now)
    return refused.value


# -- the repository ------------------------------------------------------------------------------
def test_used_tokens_add_up_and_count_against_the_quota(fast_store: Store, user: str) -> None:
    assert fast_store.usage.get(user, DAY) == (Usage(input_tokens=0, output_tokens=0), 0)
    fast_store.usage.add(user, DAY, Usage(input_tokens=10, output_tokens=5))
    fast_store.usage.add(user, DAY, Usage(input_tokens=20, output_tokens=3))
    assert fast_store.usage.get(user, DAY) == (Usage(input_tokens=30, output_tokens=8), 0)
    assert usage_item(fast_store, user) == {"tokens_in": 30, "tokens_out": 8, "committed": 38}
    assert fast_store.usage.get(user, "2026-11-28") == (Usage(input_tokens=0, output_tokens=0), 0)


def test_a_claim_under_the_quota_reserves_its_tokens_and_takes_the_slot(
    fast_store: Store, user: str
) -> None:
    first = claim_of(user, 40)
    take(fast_store, first, limit=100)  # the day's first claim: no counter yet
    assert fast_store.usage.get(user, DAY) == (Usage(input_tokens=0, output_tokens=0), 40)
    assert usage_item(fast_store, user) == {"reserved": 40, "committed": 40}
    assert slot_item(fast_store, "c", user) == {
        "reply_id": first.reply_id,
        "day": DAY,
        "tokens": 40,
        "expires_at": 1180,
        "sweep": sweep_key("SLOT", first.reply_id),  # maintenance finds a slot left behind
        "updated_at": "1970-01-01T00:16:40.000Z",
    }


def test_the_quota_admits_a_claim_one_token_under_it_and_refuses_one_at_it(
    fast_store: Store, user: str
) -> None:
    fast_store.usage.add(user, DAY, Usage(input_tokens=98, output_tokens=1))
    under = claim_of(user, 500, conversation_id="a")
    take(fast_store, under, limit=100)  # 99 committed < 100: admitted, and may end over
    assert usage_item(fast_store, user)["committed"] == 599

    fast_store.usage.settle(under, Usage(input_tokens=0, output_tokens=1))
    assert usage_item(fast_store, user)["committed"] == 100
    at = claim_of(user, 1, conversation_id="b")
    refused = refusal(fast_store, at, limit=100)
    assert refused.quota is True
    assert str(refused) == "quota"
    # refused whole: nothing reserved, and the slot is still free
    assert usage_item(fast_store, user) == {
        "tokens_in": 98,
        "tokens_out": 2,
        "reserved": 0,
        "committed": 100,
    }
    assert slot_item(fast_store, "b", user) is None
    take(fast_store, at, limit=0)  # 0: unlimited


def test_a_claim_over_the_quota_is_refused_even_on_a_busy_conversation(
    fast_store: Store, user: str
) -> None:
    take(fast_store, claim_of(user, 60), limit=100)
    refused = refusal(fast_store, claim_of(user, 60), limit=50)
    assert refused.quota  # spent is what the person can act on
    assert fast_store.usage.get(user, DAY)[1] == 60


def test_one_reply_in_flight_per_user_and_conversation(fast_store: Store, user: str) -> None:
    first = claim_of(user, 10)
    take(fast_store, first, limit=1000)
    busy = refusal(fast_store, claim_of(user, 10), limit=1000)
    assert busy.quota is False
    assert str(busy) == "in flight"
    assert fast_store.usage.get(user, DAY)[1] == 10  # the refused one reserved nothing
    assert slot_item(fast_store, "c", user)["reply_id"] == first.reply_id  # type: ignore[index]
    # another conversation, or another user in this one, has a slot of its own
    take(fast_store, claim_of(user, 10, conversation_id="elsewhere"), limit=1000)
    take(fast_store, claim_of(fresh_id("friend-"), 10), limit=1000)
    assert fast_store.usage.get(user, DAY)[1] == 20


def test_a_slot_is_taken_over_only_after_it_expires(fast_store: Store, user: str) -> None:
    lost = claim_of(user, 10)
    take(fast_store, lost, now=1000)  # held until 1180
    for now in (1000, 1179, 1180):
        assert not refusal(fast_store, claim_of(user, 10), now=now).quota
    later = claim_of(user, 10)
    take(fast_store, later, now=1181)
    assert slot_item(fast_store, "c", user) == {
        "reply_id": later.reply_id,
        "day": DAY,
        "tokens": 10,
        "expires_at": 1361,
        "sweep": sweep_key("SLOT", later.reply_id),
        "updated_at": "1970-01-01T00:19:41.000Z",
    }
    assert not fast_store.usage.settle(lost, Usage(input_tokens=1, output_tokens=1))
    assert fast_store.usage.get(user, DAY) == (Usage(input_tokens=0, output_tokens=0), 20)
    assert fast_store.usage.settle(later, Usage(input_tokens=1, output_tokens=1))
    assert fast_store.usage.get(user, DAY) == (Usage(input_tokens=1, output_tokens=1), 10)


def test_a_claim_settles_once_releasing_the_reservation_and_counting_what_was_used(
    fast_store: Store, user: str
) -> None:
    fast_store.usage.add(user, DAY, Usage(input_tokens=5, output_tokens=0))
    claim = claim_of(user, 50)
    take(fast_store, claim, limit=100)
    other = claim_of(user, 30, conversation_id="other")
    take(fast_store, other, limit=100)

    assert fast_store.usage.settle(claim, Usage(input_tokens=7, output_tokens=11))
    assert usage_item(fast_store, user) == {
        "tokens_in": 12,
        "tokens_out": 11,
        "reserved": 30,
        "committed": 53,
    }
    assert slot_item(fast_store, "c", user) is None
    # a retried worker settles again: nothing more is counted
    assert not fast_store.usage.settle(claim, Usage(input_tokens=7, output_tokens=11))
    assert usage_item(fast_store, user)["committed"] == 53
    assert slot_item(fast_store, "other", user) is not None
    take(fast_store, claim_of(user, 1), limit=100)  # the slot is free again


def test_a_reply_that_lost_its_slot_settles_nothing(fast_store: Store, user: str) -> None:
    holder = claim_of(user, 20)
    take(fast_store, holder)
    impostor = Claim(
        user_id=user, conversation_id="c", reply_id=fresh_id("reply-"), day=DAY, tokens=20
    )
    assert not fast_store.usage.settle(impostor, Usage(input_tokens=3, output_tokens=3))
    assert fast_store.usage.get(user, DAY) == (Usage(input_tokens=0, output_tokens=0), 20)
    assert slot_item(fast_store, "c", user)["reply_id"] == holder.reply_id  # type: ignore[index]


def test_the_days_usage_is_read_strongly_consistent(fast_store: Store, user: str) -> None:
    """moto is always consistent, DynamoDB only when asked: what a person is told is left
    must include the reply that just settled."""
    asked: list[Any] = []
    fast_store.usage.table.meta.client.meta.events.register(
        "provide-client-params.dynamodb.GetItem",
        lambda params, **_: asked.append(params.get("ConsistentRead")),
    )
    fast_store.usage.get(user, DAY)
    assert asked == [True]


def test_reserved_never_reads_below_zero(fast_store: Store, user: str) -> None:
    fast_store.usage.table.put_item(
        Item={
            "pk": f"USER#{user}",
            "sk": f"USAGE#{DAY}",
            "tokens_in": 4,
            "tokens_out": 2,
            "reserved": -3,
            "committed": 3,
        }
    )
    assert fast_store.usage.get(user, DAY) == (Usage(input_tokens=4, output_tokens=2), 0)


def cancelled(*reasons: str) -> ClientError:
    """What DynamoDB answers when it cancels a transaction, one reason per item."""
    response: dict[str, Any] = {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
    }
    if reasons:
        response["CancellationReasons"] = [{"Code": code} for code in reasons]
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


def fail_once(store: Store, monkeypatch: pytest.MonkeyPatch, error: ClientError) -> None:
    """The next transaction is cancelled with `error`; the ones after it reach moto."""
    client = store.usage.table.meta.client
    real = client.transact_write_items

    def transact(**kwargs: Any) -> Any:
        monkeypatch.setattr(client, "transact_write_items", real)
        raise error

    monkeypatch.setattr(client, "transact_write_items", transact)


@pytest.mark.parametrize(
    "error",
    [
        cancelled("None", "TransactionConflict"),
        cancelled("TransactionConflict", "None"),
        cancelled(),
    ],
    ids=["slot-conflict", "counter-conflict", "no-reasons"],
)
def test_a_claim_cancelled_for_another_reason_is_an_error_not_a_refusal(
    fast_store: Store, user: str, monkeypatch: pytest.MonkeyPatch, error: ClientError
) -> None:
    fail_once(fast_store, monkeypatch, error)
    with pytest.raises(ClientError) as raised:  # the caller fails and may retry; not "busy"
        take(fast_store, claim_of(user, 10), limit=100)
    assert raised.value is error
    take(fast_store, claim_of(user, 10), limit=100)  # nothing was held by the failed one


@pytest.mark.parametrize(
    "error",
    [
        cancelled("None", "TransactionConflict"),
        cancelled("TransactionConflict", "None"),
        cancelled(),
    ],
    ids=["counter-conflict", "slot-conflict", "no-reasons"],
)
def test_a_settlement_cancelled_by_a_concurrent_write_is_not_taken_for_a_repeat(
    fast_store: Store, user: str, monkeypatch: pytest.MonkeyPatch, error: ClientError
) -> None:
    # Another transaction on the day's counter (the user's reply in another conversation
    # settling at the same moment) cancels this one with TransactionConflict: nothing was
    # settled, so the caller must fail and be retried rather than hear "settled before".
    claim = claim_of(user, 50)
    take(fast_store, claim)
    fail_once(fast_store, monkeypatch, error)
    with pytest.raises(ClientError) as raised:
        fast_store.usage.settle(claim, Usage(input_tokens=3, output_tokens=4))
    assert raised.value is error
    assert fast_store.usage.get(user, DAY)[1] == 50  # still held
    assert fast_store.usage.settle(claim, Usage(input_tokens=3, output_tokens=4))  # the retry
    assert fast_store.usage.get(user, DAY) == (Usage(input_tokens=3, output_tokens=4), 0)


def test_a_store_failure_is_not_taken_for_a_refusal(moto_server: object) -> None:
    missing = UsageRepository(boto3.resource("dynamodb").Table(fresh_id("no-such-table-")))
    claim = claim_of("u", 1)
    for attempt in (
        lambda: missing.claim(claim, limit=10, now=1, lock_seconds=1),
        lambda: missing.settle(claim, Usage(input_tokens=1, output_tokens=1)),
    ):
        with pytest.raises(ClientError) as raised:
            attempt()
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


# -- the domain: Quota and what a person is told -------------------------------------------------
def quota(store: Store, daily_tokens: int) -> Quota:
    return Quota(store, daily_tokens=daily_tokens, max_output_tokens=1000)


def test_a_claim_reserves_the_question_and_the_longest_answer_for_today(
    fast_store: Store, user: str
) -> None:
    question = "What is the capital of France?"
    claim = quota(fast_store, 100_000).claim(user, "conv", "reply-1", question)
    assert claim == Claim(
        user_id=user,
        conversation_id="conv",
        reply_id="reply-1",
        day=today(),
        tokens=estimate_tokens(question) + 1000,
    )
    assert fast_store.usage.get(user, today())[1] == claim.tokens
    assert slot_item(fast_store, "conv", user)["reply_id"] == "reply-1"  # type: ignore[index]
    assert slot_item(fast_store, "conv", user)["expires_at"] >= REPLY_SLOT_SECONDS  # type: ignore[index]
    assert REPLY_SLOT_SECONDS == 180


def test_a_spent_quota_and_a_busy_conversation_are_told_apart(fast_store: Store, user: str) -> None:
    limited = quota(fast_store, 2000)
    limited.claim(user, "conv", "reply-1", "first")
    with pytest.raises(Conflict) as busy:
        limited.claim(user, "conv", "reply-2", "second")
    assert busy.value.message == (
        "The assistant is still answering your last question here; wait for it or stop it first"
    )
    fast_store.usage.add(user, today(), Usage(input_tokens=2000, output_tokens=0))
    with pytest.raises(QuotaExceeded) as spent:
        limited.claim(user, "elsewhere", "reply-3", "third")
    assert spent.value.message.startswith("Daily token quota of 2000 tokens reached;")
    assert "Retry-After" in spent.value.headers
    assert slot_item(fast_store, "elsewhere", user) is None  # refused before anything is held


def test_a_spent_quota_says_when_it_resets() -> None:
    refusal_ = quota_exceeded(500)
    wait = int(refusal_.headers["Retry-After"])
    assert 0 < wait <= seconds_to_utc_midnight() <= 86_401
    assert refusal_.message.startswith(
        "Daily token quota of 500 tokens reached; it resets at 00:00 UTC (in "
    )
    assert refusal_.message.endswith(" s)")
    assert isinstance(refusal_, QuotaExceeded)


def test_settling_counts_once_and_releasing_counts_nothing(fast_store: Store, user: str) -> None:
    limited = quota(fast_store, 100_000)
    claim = limited.claim(user, "conv", "reply-1", "a question")
    assert limited.settle(claim, Usage(input_tokens=12, output_tokens=30)) is True
    assert limited.settle(claim, Usage(input_tokens=12, output_tokens=30)) is False
    again = limited.claim(user, "conv", "reply-2", "a resend")
    limited.release(again)
    assert fast_store.usage.get(user, today()) == (Usage(input_tokens=12, output_tokens=30), 0)
    assert slot_item(fast_store, "conv", user) is None


def test_usage_today_tells_what_is_left_after_use_and_reservations(
    fast_store: Store, user: str
) -> None:
    fast_store.usage.add(user, today(), Usage(input_tokens=300, output_tokens=200))
    unlimited = usage_today(fast_store, user, 0)
    assert (unlimited.date, unlimited.input_tokens, unlimited.output_tokens) == (today(), 300, 200)
    assert (unlimited.daily_quota, unlimited.remaining) == (0, None)

    take(fast_store, claim_of(user, 100, day=today()))
    assert usage_today(fast_store, user, 1000).remaining == 400  # 1000 - 500 used - 100 held
    assert usage_today(fast_store, user, 1000).daily_quota == 1000
    assert usage_today(fast_store, user, 600).remaining == 0
    assert usage_today(fast_store, user, 550).remaining == 0  # never below zero


# -- cost (USD, from the catalog's prices: parley.catalog) ---------------------------------------
def test_a_settled_reply_adds_its_cost_once_and_the_day_reads_it(
    fast_store: Store, user: str
) -> None:
    from decimal import Decimal

    day = today()
    first = claim_of(user, 50, day=day)
    take(fast_store, first)
    spent = Usage(input_tokens=1000, output_tokens=500)
    assert fast_store.usage.settle(first, spent, cost=Decimal("0.00045"))
    assert not fast_store.usage.settle(first, spent, cost=Decimal("0.00045"))  # counted once
    second = claim_of(user, 10, conversation_id="other", day=day)
    take(fast_store, second)
    assert quota(fast_store, 0).settle(
        second, Usage(input_tokens=1, output_tokens=1), cost=Decimal("0.000001")
    )
    assert fast_store.usage.read_day(user, day)[2] == Decimal("0.000451")
    assert usage_today(fast_store, user, 0).cost_usd == 0.000451
    # A settlement without a cost (no catalog) and a release add nothing to it.
    third = claim_of(user, 5, conversation_id="third", day=day)
    take(fast_store, third)
    quota(fast_store, 0).release(third)
    fourth = claim_of(user, 5, conversation_id="fourth", day=day)
    take(fast_store, fourth)
    assert fast_store.usage.settle(fourth, Usage(input_tokens=2, output_tokens=3))
    assert fast_store.usage.read_day(user, day) == (
        Usage(input_tokens=1003, output_tokens=504),
        0,
        Decimal("0.000451"),
    )
    assert usage_today(fast_store, fresh_id("nobody-"), 0).cost_usd == 0


def test_a_claim_reserves_the_models_own_output_limit_when_given(
    fast_store: Store, user: str
) -> None:
    question = "What is the capital of France?"
    claim = quota(fast_store, 100_000).claim(
        user, "conv", "reply-1", question, max_output_tokens=512
    )
    assert claim.tokens == estimate_tokens(question) + 512
    assert fast_store.usage.get(user, today())[1] == claim.tokens


def test_the_override_comes_from_the_profile_given_and_only_the_users_own(
    fast_store: Store, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an admin's override of 10 tokens in the user's stored profile, 10 used today
    fast_store.profiles.ensure(user, f"{user}@example.com", "User")
    fast_store.profiles.table.update_item(
        Key={"pk": f"USER#{user}", "sk": "PROFILE"},
        UpdateExpression="SET daily_token_quota = :q",
        ExpressionAttributeValues={":q": 10},
    )
    fast_store.usage.add(user, today(), Usage(input_tokens=4, output_tokens=6))
    stored = fast_store.profiles.get(user)
    assert stored is not None
    someone = fast_store.profiles.ensure(fresh_id("other-"), "other@example.com", "Other")
    reads: list[str] = []
    real_get = fast_store.profiles.get

    def counted(user_id: str, *, consistent: bool = False) -> Any:
        reads.append(user_id)
        return real_get(user_id, consistent=consistent)

    monkeypatch.setattr(fast_store.profiles, "get", counted)
    quota = Quota(fast_store, daily_tokens=1_000_000, max_output_tokens=100)
    # WHEN the caller read the profile already, THEN its override holds and nothing is read
    assert quota.limit_for(user, stored) == 10
    with pytest.raises(QuotaExceeded):
        quota.claim(user, "c", fresh_id("reply-"), "hi", profile=stored)
    assert reads == []
    # a profile of someone else, or none, is not taken for the user's: the store is read
    assert quota.limit_for(user, someone) == 10
    assert quota.limit_for(user) == 10
    assert reads == [user, user]
    # and an override the caller's profile carries is the one applied
    generous = stored.model_copy(update={"daily_token_quota": 1_000})
    claim = quota.claim(user, "c", fresh_id("reply-"), "hi", profile=generous)
    assert (claim.tokens, reads) == (estimate_tokens("hi") + 100, [user, user])
