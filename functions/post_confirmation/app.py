"""Cognito PostConfirmation trigger: create the user's profile, idempotently.

Cognito retries a trigger that fails or times out, and the profile may already exist (a user
who signed in through `POST /chat` first), so the write is a conditional put that keeps an
existing profile. The event goes back to Cognito unchanged, as it requires.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import (
    PostConfirmationTriggerEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import lambda_handler, logger
from parley.store import get_store

HANDLED = ("PostConfirmation_ConfirmSignUp", "PostConfirmation_ConfirmForgotPassword")


@lambda_handler(trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    trigger = PostConfirmationTriggerEvent(event)
    if trigger.trigger_source in HANDLED:
        attributes = trigger.request.user_attributes
        sub = attributes.get("sub") or trigger.user_name
        email = attributes.get("email")
        if not sub or not email:
            # Nothing to store without both; failing would block the user's sign-up.
            logger.warning("confirmation without sub or email", extra={"user": trigger.user_name})
        else:
            get_store().profiles.ensure(sub, email, attributes.get("name"))
    return event
