"""The token attack suite as data, so every entry point can run the same cases.

Each case builds the request headers for one token fault and names the reason the answer must
give. Unit tests run it against `parley.auth` and `chat_api` in-process; the local-stack suite
runs it through the gateway emulator on every route. The expected 401 message is
`Invalid <kind>: <reason>` where kind is `id_token` for `POST /chat` and `token` elsewhere.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.tokens import SigningKey, TokenFactory

Style = Literal["bearer", "id_token"]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(factory: TokenFactory) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": factory.key.kid}
    return f"{_b64(header)}.{_b64(factory.claims())}."


def _hs256_with_public_key(factory: TokenFactory) -> str:
    # The classic key-confusion attack: HMAC keyed with the RSA public key PEM. PyJWT refuses to
    # produce it, so it is assembled by hand.
    import hashlib
    import hmac

    header = {"alg": "HS256", "typ": "JWT", "kid": factory.key.kid}
    signing_input = f"{_b64(header)}.{_b64(factory.claims())}"
    mac = hmac.new(factory.key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _tampered(factory: TokenFactory) -> str:
    header, _, signature = factory.mint().split(".")
    claims = factory.claims(sub="someone-else", email="victim@example.com")
    return f"{header}.{_b64(claims)}.{signature}"


def _rs384(factory: TokenFactory) -> str:
    return jwt.encode(
        factory.claims(),
        factory.key.private_key,
        algorithm="RS384",
        headers={"kid": factory.key.kid},
    )


@cache
def _foreign_key() -> rsa.RSAPrivateKey:
    """A key no pool publishes (made once: a 2,048-bit key takes 0.05–0.2 s to generate)."""
    return SigningKey.generate().private_key


def _other_key_same_kid(factory: TokenFactory) -> str:
    return factory.mint(key=SigningKey(factory.key.kid, _foreign_key()))


def _unknown_kid(factory: TokenFactory) -> str:
    return factory.mint(key=SigningKey("not-a-published-kid", _foreign_key()))


def _no_kid(factory: TokenFactory) -> str:
    return jwt.encode(factory.claims(), factory.key.private_key, algorithm="RS256")


@dataclass(frozen=True)
class TokenAttack:
    """One token fault: how to build it and the reason the 401 must state."""

    name: str
    reason: str
    token: Callable[[TokenFactory], str]
    scheme: str | None = None
    """Set to send `Authorization: <scheme> <token>` whatever the route's style."""
    id_token_only: bool = False
    """Only a fault where an id token is required (`POST /chat`)."""
    id_token_reason: str | None = None
    """The reason where an id token is required, when it differs (an access token is caught
    as such before its audience is read)."""

    def headers(self, factory: TokenFactory, style: Style) -> dict[str, str]:
        value = self.token(factory)
        if self.scheme is not None:
            return {"Authorization": f"{self.scheme} {value}".strip()}
        if style == "id_token":
            return {"id_token": value}
        return {"Authorization": f"Bearer {value}"}

    def message(self, style: Style) -> str:
        if style == "id_token":
            return f"Invalid id_token: {self.id_token_reason or self.reason}"
        return f"Invalid token: {self.reason}"


def _now() -> int:
    return int(time.time())


TOKEN_ATTACKS: tuple[TokenAttack, ...] = (
    TokenAttack("expired", "token has expired", lambda f: f.mint(exp=_now() - 120)),
    TokenAttack(
        "expired_access", "token has expired", lambda f: f.mint("access", exp=_now() - 120)
    ),
    TokenAttack("not_yet_valid", "token is not yet valid", lambda f: f.mint(nbf=_now() + 600)),
    TokenAttack("issued_in_future", "token is not yet valid", lambda f: f.mint(iat=_now() + 600)),
    TokenAttack(
        "wrong_issuer",
        "wrong issuer",
        lambda f: f.mint(iss="https://cognito-idp.us-east-1.amazonaws.com/other_pool"),
    ),
    TokenAttack("wrong_audience", "wrong audience", lambda f: f.mint(aud="another-client")),
    TokenAttack(
        "wrong_client_id",
        "wrong audience",
        lambda f: f.mint("access", client_id="another-client"),
        id_token_reason="an id token is required",
    ),
    TokenAttack("wrong_token_use", "wrong token_use", lambda f: f.mint("refresh")),
    TokenAttack(
        "access_where_id_required",
        "an id token is required",
        lambda f: f.mint("access"),
        id_token_only=True,
    ),
    TokenAttack("alg_none", "unsupported algorithm", _unsigned),
    TokenAttack("hs256_public_key", "unsupported algorithm", _hs256_with_public_key),
    TokenAttack("rs384", "unsupported algorithm", _rs384),
    TokenAttack("unknown_kid", "unknown signing key", _unknown_kid),
    TokenAttack("no_kid", "unknown signing key", _no_kid),
    TokenAttack("other_key_same_kid", "signature verification failed", _other_key_same_kid),
    TokenAttack("tampered_payload", "signature verification failed", _tampered),
    TokenAttack("missing_sub", "missing required claim 'sub'", lambda f: f.mint(sub=None)),
    TokenAttack("missing_exp", "missing required claim 'exp'", lambda f: f.mint(exp=None)),
    TokenAttack("missing_iss", "missing required claim 'iss'", lambda f: f.mint(iss=None)),
    TokenAttack(
        "missing_token_use", "missing required claim 'token_use'", lambda f: f.mint(token_use=None)
    ),
    TokenAttack("id_missing_email", "missing required claim 'email'", lambda f: f.mint(email=None)),
    TokenAttack("garbage", "malformed token", lambda f: "this-is-not-a-jwt"),
    TokenAttack("garbage_segments", "malformed token", lambda f: "abc.def.ghi"),
    TokenAttack("empty", "token is missing", lambda f: ""),
    TokenAttack(
        "wrong_scheme_basic",
        "expected a Bearer token",
        lambda f: base64.b64encode(b"user:password").decode(),
        scheme="Basic",
    ),
    TokenAttack(
        "wrong_scheme_token", "expected a Bearer token", lambda f: f.mint(), scheme="Token"
    ),
    TokenAttack("bearer_without_token", "token is missing", lambda f: "", scheme="Bearer"),
)
"""Every case answers 401 with `TokenAttack.message(style)`."""


def attacks_for(style: Style) -> tuple[TokenAttack, ...]:
    """The cases that apply to a route of this style."""
    return tuple(a for a in TOKEN_ATTACKS if style == "id_token" or not a.id_token_only)
