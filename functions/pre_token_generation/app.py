"""Cognito PreTokenGeneration trigger (V1): the user's role as the `parley:role` ID token claim.

`admin` for members of the `admins` group, `member` for everyone else (`parley.roles`); every
API reads it (`parley.auth.role_of`). Reads nothing but the event: the groups are in it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.config import BaseSettings, get_settings
from parley.observability import lambda_handler
from parley.roles import token_claims


@lambda_handler(trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    get_settings(BaseSettings)  # the region and log level, checked once per cold start
    return {**event, "response": {**(event.get("response") or {}), **token_claims(event)}}
