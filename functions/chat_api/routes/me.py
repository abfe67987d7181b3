"""The caller's profile, today's token usage and their activity rollups."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentProfile, CurrentUser, settings, store
from chat_api.docs import errors, ok
from parley.models import Limits, Me, UsageSeries
from parley.quota import usage_today
from parley.rollups import DEFAULT_USAGE_DAYS, MAX_USAGE_DAYS, activity, usage_series
from parley.services import model_catalog

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

# Checked by `parley.rollups.usage_range`, so every bad day or range gets one clear 400.
From = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=10,
        description="First UTC day, YYYY-MM-DD (default: 29 days before `to`)",
        json_schema_extra={"format": "date"},
    ),
]
To = Annotated[
    str | None,
    Query(
        max_length=10,
        description="Last UTC day, YYYY-MM-DD (default: today)",
        json_schema_extra={"format": "date"},
    ),
]


@router.get(
    "/me",
    summary="My profile, today's token usage and my activity today and this month",
    tags=["me"],
    responses={**ok(200, Me, "Profile and usage"), **errors()},
)
def get_me(me: CurrentProfile) -> Me:
    override = me.daily_token_quota  # an admin's, replacing the deployment's quota
    quota = settings().daily_token_quota if override is None else override
    usage = usage_today(store(), me.id, quota)
    # The default model's: a new conversation's (each conversation's model bounds its own).
    limits = Limits(message_chars=model_catalog()().default_model.budget.message_chars)
    return Me(
        id=me.id,
        email=me.email,
        name=me.name,
        usage=usage,
        activity=activity(store(), me.id, usage.date),
        limits=limits,
    )


@router.get(
    "/me/usage",
    summary="My activity per day",
    description=(
        "Messages sent, tokens and replies stopped or failed, one entry per UTC day from `from` "
        f"to `to` (both included, at most {MAX_USAGE_DAYS} days; by default the last "
        f"{DEFAULT_USAGE_DAYS} days). Kept by the change feed within seconds of each message."
    ),
    tags=["me"],
    responses={**ok(200, UsageSeries, "The daily series"), **errors()},
)
def get_my_usage(me: CurrentUser, from_: From = None, to: To = None) -> UsageSeries:
    return usage_series(store(), me.sub, from_, to)
