"""TOTP codes as an authenticator app computes them (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits),
from the secret Cognito gives with AssociateSoftwareToken — written here from the RFC, apart from
the local stack's own check, so the tests would pass against Cognito itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP_SECONDS = 30


def totp(secret: str, at: float | None = None, *, step_offset: int = 0) -> str:
    """The 6-digit code for `secret` (base32, as Cognito gives it) at time `at` (now), or
    `step_offset` steps of 30 s away from it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // STEP_SECONDS) + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def wrong_code(secret: str) -> str:
    """A code that is valid in none of the steps Cognito accepts (now, one before, one after)."""
    accepted = {totp(secret, step_offset=offset) for offset in (-2, -1, 0, 1, 2)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in accepted)
