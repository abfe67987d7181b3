"""Cognito token verification with PyJWT, shared by `chat_api` and the WebSocket authorizer.

RS256 only; keys from the pool's JWKS through PyJWT's `PyJWKClient` (kept for a lifespan, fetched
again when a token names an unknown `kid`; at most one fetch attempt per `min_refresh_seconds`, so
forged kids cannot make us hammer the JWKS endpoint, and the last good keys serve while it
fails); issuer, `token_use`, audience / `client_id`, time claims with a small leeway and
the claims the product relies on. Every fault is a `TokenError` whose reason is safe to show.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import jwt

from parley.config import AuthSettings, get_settings
from parley.errors import ServiceUnavailable, Unauthorized

logger = logging.getLogger("parley.auth")

ALGORITHM = "RS256"
LEEWAY_SECONDS = 30
MAX_TOKEN_BYTES = 8192
REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub", "token_use")
ID_TOKEN_CLAIMS = ("email", "cognito:username")

TokenUse = Literal["id", "access"]
Required = Literal["id", "access", "any"]
Role = Literal["admin", "member"]

ROLE_CLAIM = "parley:role"
"""Added to ID tokens by the pre-token-generation trigger from the user's Cognito groups."""
ADMIN_ROLE = "admin"


class TokenError(Unauthorized):
    """A token fault; `reason` completes `Invalid <kind>: <reason>`."""

    def __init__(self, reason: str, kind: str = "token") -> None:
        self.reason = reason
        super().__init__(f"Invalid {kind}: {reason}")

    def as_kind(self, kind: str) -> TokenError:
        """The same fault, named for the header it came in (`id_token` for `POST /chat`)."""
        return TokenError(self.reason, kind)


@dataclass(frozen=True)
class Identity:
    """Who a verified token belongs to."""

    sub: str
    token_use: TokenUse
    email: str | None = None
    name: str | None = None
    username: str | None = None
    role: Role = "member"
    """From the verified token's `parley:role` claim; anything but `admin` (or none) is a member."""
    claims: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN_ROLE


class JwksCache(jwt.PyJWKClient):
    """The pool's signing keys by kid: PyJWT's JWKS client, kept usable while the endpoint fails.

    `PyJWKClient` keeps the key set for `lifespan` seconds and fetches it again for an unknown
    kid, at most once per `min_refresh_seconds` (its cooldown). That cooldown counts successful
    fetches only, so while the endpoint fails every forged kid would fetch again, and a key set
    past its lifespan would leave no keys at all. Here every attempt counts — at most one fetch
    per `min_refresh_seconds`, whatever its outcome — and a failed one serves the last good keys.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 3.0,
        min_refresh_seconds: float = 10.0,
        lifespan: float = 300.0,
    ) -> None:
        try:
            super().__init__(
                url, lifespan=lifespan, timeout=timeout, cooldown_duration=min_refresh_seconds
            )
        except jwt.PyJWKClientError as exc:  # not http(s), or a nonsensical lifespan
            raise ServiceUnavailable("Sign-in keys are misconfigured") from exc
        self.min_refresh_seconds = min_refresh_seconds
        self._attempted_at: float | None = None
        self._last_good: dict[str, Any] | None = None

    def fetch_data(self) -> Any:
        """The endpoint's key set; the last good one while it fails or was asked too recently.

        PyJWKClient calls this under its lock, for an empty or expired cache and for a refresh.
        """
        now = time.monotonic()
        if self._attempted_at is not None and now - self._attempted_at < self.min_refresh_seconds:
            return self._fallback()
        self._attempted_at = now
        try:
            data: dict[str, Any] = super().fetch_data()
        except (jwt.PyJWKClientError, jwt.PyJWKSetError) as exc:
            logger.warning("JWKS fetch failed: %s", type(exc).__name__)
            return self._fallback()
        self._last_good = data
        return data

    def _fallback(self) -> dict[str, Any]:
        if self._last_good is None:
            raise jwt.PyJWKClientConnectionError("no signing keys fetched yet")
        return self._last_good

    def get(self, kid: str) -> jwt.PyJWK | None:
        """The key published under `kid`, or None when there is none (even after a refetch)."""
        try:
            return self.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise ServiceUnavailable("Sign-in keys are unavailable, please retry") from exc
        except jwt.PyJWKClientError:
            return None


_JWT_FAULTS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token has expired"),
    (jwt.ImmatureSignatureError, "token is not yet valid"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidSignatureError, "signature verification failed"),
    (jwt.InvalidAlgorithmError, "unsupported algorithm"),
    (jwt.InvalidIssuedAtError, "malformed token"),
    (jwt.DecodeError, "malformed token"),
)


class CognitoVerifier:
    """Verifies Cognito id and access tokens for one user pool and app client."""

    def __init__(
        self, *, issuer: str, client_id: str, jwks: JwksCache, leeway: int = LEEWAY_SECONDS
    ) -> None:
        if not 0 <= leeway <= LEEWAY_SECONDS:
            raise ValueError(f"leeway must be within 0..{LEEWAY_SECONDS} seconds")
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks
        self.leeway = leeway

    def verify(self, token: str | None, *, require: Required = "any") -> Identity:
        """The identity in `token`, or TokenError with the precise fault."""
        if not token or not token.strip():
            raise TokenError("token is missing")
        token = token.strip()
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenError("malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise TokenError("unsupported algorithm")
        kid = header.get("kid")
        key = self.jwks.get(kid) if isinstance(kid, str) and kid else None
        if key is None:
            raise TokenError("unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=self.leeway,
                # exp, nbf and iat are verified by PyJWT's defaults; the audience is read below,
                # where it depends on token_use
                options={"require": list(REQUIRED_CLAIMS), "verify_aud": False},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"missing required claim '{exc.claim}'") from None
        except jwt.PyJWTError as exc:
            raise TokenError(_reason(exc)) from None
        return self._identity(claims, require)

    def _identity(self, claims: dict[str, Any], require: Required) -> Identity:
        token_use = claims.get("token_use")
        if token_use not in ("id", "access"):
            raise TokenError("wrong token_use")
        if require != "any" and token_use != require:
            raise TokenError(f"an {require} token is required")
        if token_use == "id":  # noqa: S105 - a claim value, not a password
            audience = claims.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            if self.client_id not in audiences:
                raise TokenError("wrong audience")
            for name in ID_TOKEN_CLAIMS:
                if not isinstance(claims.get(name), str) or not claims[name]:
                    raise TokenError(f"missing required claim '{name}'")
        elif claims.get("client_id") != self.client_id:
            raise TokenError("wrong audience")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise TokenError("missing required claim 'sub'")
        return Identity(
            sub=sub,
            token_use=token_use,
            email=claims.get("email"),
            name=claims.get("name"),
            username=claims.get("cognito:username") or claims.get("username"),
            role=role_of(claims),
            claims=claims,
        )


def role_of(claims: dict[str, Any]) -> Role:
    """The role a verified token's claims give: `admin` only for exactly that claim value."""
    return "admin" if claims.get(ROLE_CLAIM) == ADMIN_ROLE else "member"


def _reason(exc: jwt.PyJWTError) -> str:
    for kind, reason in _JWT_FAULTS:
        if isinstance(exc, kind):
            return reason
    return "token is not valid"


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header value."""
    if authorization is None or not authorization.strip():
        raise TokenError("token is missing")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise TokenError("expected a Bearer token")
    if not token.strip():
        raise TokenError("token is missing")
    return token.strip()


@cache
def get_verifier() -> CognitoVerifier:
    """The verifier of this cold start (its JWKS cache lives as long as the container)."""
    settings = get_settings(AuthSettings)
    return CognitoVerifier(
        issuer=settings.issuer,
        client_id=settings.cognito_client_id,
        jwks=JwksCache(settings.jwks_url),
    )
