"""Signing keys, a JWKS server and a token factory for the cases a real pool never mints.

Positive cases use real tokens from moto's Cognito (`tests.support.cognito`). Negative cases
need tokens with chosen faults: `TokenFactory` signs them either with a test key served by a
loopback `JwksServer`, or with moto's own signing key (so they can be sent through the local
stack, whose JWKS is moto's).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@dataclass(frozen=True)
class SigningKey:
    """An RSA private key and the kid its public half is published under."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or uuid.uuid4().hex, key)

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return jwk

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@cache
def moto_signing_key() -> SigningKey:
    """The key moto's Cognito signs with (published by moto under kid `dummy`); read once (its
    primes are recovered on import, 0.1 s of CPU)."""
    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz")
    jwk = json.loads(gzip.decompress(raw.read_bytes()))
    private = RSAAlgorithm.from_jwk(json.dumps(jwk))
    assert isinstance(private, rsa.RSAPrivateKey)
    return SigningKey(jwk["kid"], private)


class JwksServer:
    """Serves `/.well-known/jwks.json` for a key set that tests can rotate; counts fetches."""

    def __init__(self, keys: list[SigningKey] | None = None) -> None:
        self.keys: list[SigningKey] = list(keys or [])
        self.fetches = 0
        self.fail = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                server.fetches += 1
                if server.fail:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps({"keys": [k.public_jwk() for k in server.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/.well-known/jwks.json"

    def start(self) -> JwksServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass
class TokenFactory:
    """Mints Cognito-shaped id and access tokens with any claim or header changed.

    A claim override of `None` removes the claim.
    """

    issuer: str
    client_id: str
    key: SigningKey
    sub: str = field(default_factory=lambda: str(uuid.uuid4()))
    email: str = "someone@example.com"

    def claims(self, token_use: str = "id", **overrides: Any) -> dict[str, Any]:  # noqa: S107 - a claim, not a password
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": self.sub,
            "iss": self.issuer,
            "token_use": token_use,
            "iat": now,
            "auth_time": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
        }
        if token_use == "access":
            claims.update(
                {
                    "client_id": self.client_id,
                    "username": self.sub,
                    "scope": "aws.cognito.signin.user.admin",
                }
            )
        else:
            claims.update(
                {
                    "aud": self.client_id,
                    "email": self.email,
                    "cognito:username": self.sub,
                    "email_verified": True,
                }
            )
        for name, value in overrides.items():
            name = name.replace("__", ":")
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def mint(
        self,
        token_use: str = "id",  # noqa: S107 - a claim, not a password
        *,
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        signer = key or self.key
        header = {"kid": signer.kid, **(headers or {})}
        return jwt.encode(
            self.claims(token_use, **claims), signer.private_key, algorithm="RS256", headers=header
        )
