"""The `$connect` REQUEST authorizer: the Cognito token travels in `Sec-WebSocket-Protocol`.

Browsers cannot set headers on a WebSocket, so the client offers two subprotocols,
``new WebSocket(url, ["parley", token])``: the token never appears in the URL, where it would
land in access logs. The token is verified by `parley.auth` (the same checks as the HTTP API);
the answer is an Allow policy for exactly this API's `$connect` route with the user's id in the
context, which API Gateway then passes to every route of the connection. A request with no
token is `Unauthorized` (401); any other fault is an explicit Deny (403). Either way the
reason is logged, never returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponseWebSocket,
)

from parley.auth import CognitoVerifier, TokenError
from parley.groups import groups_of
from parley.realtime.events import SUBPROTOCOL

logger = logging.getLogger(__name__)

SUBPROTOCOL_HEADER = "sec-websocket-protocol"


class Unauthorized(Exception):
    """Raised with the exact message "Unauthorized": API Gateway then answers 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@dataclass(frozen=True, slots=True)
class Offer:
    """What the client offered in `Sec-WebSocket-Protocol`."""

    has_parley: bool
    token: str | None


def read_offer(headers: dict[str, Any] | None) -> Offer:
    """Split `parley, <token>`; the token is the one value that is not `parley`."""
    value = ""
    for name, raw in (headers or {}).items():
        if name.lower() == SUBPROTOCOL_HEADER and isinstance(raw, str):
            value = raw
    values = [v.strip() for v in value.split(",") if v.strip()]
    others = [v for v in values if v != SUBPROTOCOL]
    return Offer(has_parley=SUBPROTOCOL in values, token=others[0] if len(others) == 1 else None)


def authorize(event: dict[str, Any], verifier: CognitoVerifier) -> dict[str, Any]:
    """The authorizer's answer for one `$connect` request."""
    method_arn = str(event.get("methodArn") or "")
    offer = read_offer(event.get("headers"))
    if not offer.has_parley or not offer.token:
        logger.info("connect refused", extra={"reason": "no parley subprotocol token"})
        raise Unauthorized()
    try:
        identity = verifier.verify(offer.token)
    except TokenError as exc:
        logger.info("connect refused", extra={"reason": exc.reason})
        return _deny(method_arn)
    name = identity.name or (identity.email or "").split("@", 1)[0] or "Someone"
    response = APIGatewayAuthorizerResponseWebSocket.from_route_arn(
        method_arn,
        principal_id=identity.sub,
        context={
            "userId": identity.sub,
            "email": identity.email or "",
            "name": name,
            # the connection ends with the token: every later action checks it
            "tokenExpiresAt": int(identity.claims.get("exp") or 0),
            # which catalog models they may use (a context value is a string; names hold no
            # blanks)
            "groups": " ".join(groups_of(identity.claims)),
        },
    )
    response.allow_route(resource=_route(method_arn))
    return response.asdict()


def _route(method_arn: str) -> str:
    """The route part of the method ARN (`$connect`): the policy allows nothing else."""
    return method_arn.split(":", 5)[-1].split("/", 2)[-1]


def _deny(method_arn: str) -> dict[str, Any]:
    if method_arn.count(":") < 5 or method_arn.split(":", 5)[-1].count("/") < 2:
        raise Unauthorized()  # not an API Gateway request at all
    response = APIGatewayAuthorizerResponseWebSocket.from_route_arn(method_arn, "anonymous")
    response.deny_all_routes()
    return response.asdict()
