"""Cognito PreSignUp trigger: refuse an address the environment does not let sign up.

The rule is `parley.signup` (open by default; e-mail domains, invited addresses or both). A
refusal raises: Cognito then answers the sign-up with `UserLambdaValidationException` and the
refusal's message, which the app shows. Federated first sign-ins come here too
(`PreSignUp_ExternalProvider`) and follow the same rule. An accepted event goes back unchanged
(no auto-confirmation: the address is verified by its code as usual).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.config import SignUpSettings, get_settings
from parley.observability import lambda_handler, logger
from parley.signup import SignUpRefused, SignUpRule, parse_domains
from parley.store.invites import InviteRepository
from parley.store.table import chat_table


@cache
def rule() -> SignUpRule:
    settings = get_settings(SignUpSettings)
    return SignUpRule(parse_domains(settings.signup_allowed_domains), settings.signup_invites)


@cache
def invites() -> InviteRepository:
    """Invitations only: the role may read `INVITE#…` items and nothing else."""
    return InviteRepository(chat_table())


@lambda_handler(trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    source = str(event.get("triggerSource", ""))
    email = ((event.get("request") or {}).get("userAttributes") or {}).get("email")
    try:
        rule().check(source, email, invites().is_invited)
    except SignUpRefused:
        logger.info("sign-up refused", extra={"trigger_source": source})
        raise
    return event
