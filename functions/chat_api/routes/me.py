"""The caller's profile and today's token usage."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentProfile, settings, store
from chat_api.docs import errors, ok
from parley.models import Limits, Me
from parley.quota import usage_today

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get(
    "/me",
    summary="My profile and today's token usage",
    tags=["me"],
    responses={**ok(200, Me, "Profile and usage"), **errors()},
)
def get_me(me: CurrentProfile) -> Me:
    usage = usage_today(store(), me.id, settings().daily_token_quota)
    limits = Limits(message_chars=settings().budget.message_chars)
    return Me(id=me.id, email=me.email, name=me.name, usage=usage, limits=limits)
