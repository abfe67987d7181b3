"""The HTTP API's JWT authorizer: the checks made before a route's function runs.

API Gateway reads the token from the `Authorization` header (a `Bearer ` prefix is optional)
and verifies it against the pool's JWKS; anything wrong answers 401 `{"message":
"Unauthorized"}` without invoking the function. The verification itself is `parley.auth` — the
same code the functions use — so the local gateway is at least as strict as production (it also
requires `token_use` and the id token's claims, which a genuine Cognito token always has).
Locally the JWKS comes from moto while the issuer stays AWS-style (COGNITO_JWKS_URL).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from tasks.local.gateway.lambdas import ROOT

if str(ROOT / "functions") not in sys.path:
    sys.path.append(str(ROOT / "functions"))

from parley.auth import CognitoVerifier, JwksCache, TokenError
from parley.errors import ServiceUnavailable


class Unauthorized(Exception):
    """No acceptable token; the message (the fault) goes to the access log only."""


class JwtAuthorizer:
    """Verifies bearer tokens like an HTTP API JWT authorizer configured for one Cognito pool."""

    def __init__(self, issuer: str, audiences: Sequence[str], jwks_url: str) -> None:
        jwks = JwksCache(jwks_url, min_refresh_seconds=10.0)
        self._verifiers = [
            CognitoVerifier(issuer=issuer, client_id=audience, jwks=jwks) for audience in audiences
        ]

    def authorize(self, authorization: str | None) -> dict[str, Any]:
        """Claims of a valid token from the Authorization header value; Unauthorized otherwise."""
        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        fault = "token is missing"
        for verifier in self._verifiers:
            try:
                return dict(verifier.verify(token).claims)
            except TokenError as exc:
                fault = exc.reason
            except ServiceUnavailable as exc:
                fault = f"keys unavailable: {exc.message}"
        raise Unauthorized(fault)


def claims_for_event(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them on: every value a string, lists as `[a b]`."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list):
            out[name] = "[" + " ".join(str(v) for v in value) + "]"
        else:
            out[name] = str(value)
    return out
