"""Two-step verification (TOTP) on the local stack, checked as Cognito checks it.

moto's Cognito has the calls (AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference,
the SOFTWARE_TOKEN_MFA and MFA_SETUP challenges) but is far more permissive than Cognito:
every association hands out one fixed secret, no code is checked unless the whole process
runs with MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP (and then only against that fixed secret,
in the current 30-second step only), a pool that requires MFA lets a user without it sign in
with USER_PASSWORD_AUTH, MFA_SETUP is answered with tokens without any verified token, and a
user with TOTP turned on but not marked preferred is not asked for a code. In moto's process
`hook_cognito_mfa` makes these calls do what Cognito does:

- AssociateSoftwareToken gives each association a new random secret (base32, 160 bits) and,
  as Cognito, drops the token the user had until the new one is verified; a pool whose
  software token MFA is off (`mfa = OFF`) refuses it (SoftwareTokenMFANotFoundException).
- VerifySoftwareToken checks the code against that secret (RFC 6238: HMAC-SHA1, 6 digits,
  30-second steps, one step early or late accepted, as Cognito does) and refuses a wrong one
  with Cognito's EnableSoftwareTokenMFAException; the association stays, so the person can
  try again.
- USER_PASSWORD_AUTH answers SOFTWARE_TOKEN_MFA for a user with TOTP turned on (or verified,
  in a pool that requires MFA), and MFA_SETUP for a user without it in a pool that requires
  MFA; never when the pool's MFA is OFF.
- SOFTWARE_TOKEN_MFA checks the code against the user's verified secret; a code is used once
  (a code of a step already used is refused, as Cognito refuses a token used before).
- MFA_SETUP is answered only with the session VerifySoftwareToken gave; the token the user
  verified becomes their MFA (on and preferred).

Secrets live on moto's user objects, so they are saved with the rest of moto's state
(`tasks.local.snapshot`). Devices (remembered devices, ConfirmDevice) have no moto API and are
not emulated.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import secrets
import threading
import time
import uuid
from typing import Any

from tasks.local.aws import Expected, check_moto

STATE = "_parley_totp"
"""The attribute of a moto user that holds its TOTP state: {"secret": the verified secret or
None, "pending": an associated secret not verified yet, "last_step": the newest 30-second step
whose code was used, "setup_session": the session VerifySoftwareToken gave to finish
MFA_SETUP}."""
STEP_SECONDS = 30
DIGITS = 6

HOOKED = (
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.associate_software_token",
        "(self, access_token, session)",
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.verify_software_token",
        "(self, access_token, session, user_code, friendly_device_name)",
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.respond_to_auth_challenge",
        "(self, session, client_id, challenge_name, challenge_responses)",
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.initiate_auth",
        "(self, client_id, auth_flow, auth_parameters)",
    ),
)
"""What `hook_cognito_mfa` wraps."""

_lock = threading.Lock()


def new_secret() -> str:
    """A secret as an authenticator app takes it: 20 random bytes in base32 (32 characters)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def code_at(secret: str, step: int) -> str:
    """The RFC 6238 code of `secret` for one 30-second step (cryptography's TOTP)."""
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    totp = TOTP(key, DIGITS, SHA1(), STEP_SECONDS, enforce_key_length=False)  # noqa: S303 - RFC 6238
    return totp.generate(step * STEP_SECONDS).decode("ascii")


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The step, of the one before, this one and the one after, whose code `code` is."""
    code = code.strip()
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def _state(user: Any) -> dict[str, Any]:
    state: dict[str, Any] = user.__dict__.setdefault(STATE, {})
    return state


def _error(kind: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(kind, message)


def _user_of(backend: Any, access_token: str, session: str) -> Any:
    """The user an access token or an auth session belongs to (None: moto answers)."""
    if session:
        found = backend.sessions.get(session)
        return None if found is None else found[1]._get_user(found[0])
    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            return pool._get_user(pool.access_tokens[access_token][1])
    return None


def _pool_of_user(backend: Any, user: Any) -> Any:
    return backend.user_pools[user.user_pool_id]


def hook_cognito_mfa(clock: Any = time.time) -> None:
    """Patch moto's Cognito as the module docstring says (after checking every signature the
    patches rely on: MotoPatchError, nothing patched)."""
    check_moto(HOOKED)
    from moto.cognitoidp.exceptions import CodeMismatchException, NotAuthorizedError
    from moto.cognitoidp.models import CognitoIdpBackend, UserStatus

    original_associate = CognitoIdpBackend.associate_software_token
    original_verify = CognitoIdpBackend.verify_software_token
    original_respond = CognitoIdpBackend.respond_to_auth_challenge
    original_initiate = CognitoIdpBackend.initiate_auth

    def totp_active(pool: Any, user: Any) -> bool:
        return bool(user.software_token_mfa_enabled) or (
            pool.mfa_config == "ON" and bool(_state(user).get("secret"))
        )

    @functools.wraps(original_associate)
    def associate_software_token(backend: Any, access_token: str, session: str) -> Any:
        answer = dict(original_associate(backend, access_token, session))  # checks token/session
        user = _user_of(backend, access_token, session)
        if user is None:
            return answer
        if (_pool_of_user(backend, user).token_mfa_config or {}).get("Enabled") is not True:
            raise _error(
                "SoftwareTokenMFANotFoundException",
                "Software Token MFA has not been enabled by the userPool.",
            )
        secret = new_secret()
        with _lock:
            state = _state(user)
            # Cognito drops the current token at once; a new one counts once verified.
            state.update(secret=None, pending=secret, setup_session=None)
            user.token_verified = False
            user.software_token_mfa_enabled = False
            if user.preferred_mfa_setting == "SOFTWARE_TOKEN_MFA":
                user.preferred_mfa_setting = ""
        answer["SecretCode"] = secret
        return answer

    @functools.wraps(original_verify)
    def verify_software_token(
        backend: Any, access_token: str, session: str, user_code: str, friendly_device_name: str
    ) -> Any:
        user = _user_of(backend, access_token, session)
        if user is None:
            return original_verify(backend, access_token, session, user_code, friendly_device_name)
        with _lock:
            pending = _state(user).get("pending")
            step = matching_step(pending, user_code or "", clock()) if pending else None
            if step is None:
                raise _error(
                    "EnableSoftwareTokenMFAException",
                    "Code mismatch and fail enable Software Token MFA",
                )
            answer = original_verify(  # marks the user verified, gives a new session
                backend, access_token, session, user_code, friendly_device_name
            )
            _state(user).update(
                secret=pending,
                pending=None,
                last_step=step,
                setup_session=answer.get("Session") if session else None,
            )
        return answer

    @functools.wraps(original_initiate)
    def initiate_auth(
        backend: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]
    ) -> Any:
        if auth_flow != "USER_PASSWORD_AUTH":
            return original_initiate(backend, client_id, auth_flow, auth_parameters)
        pool = next((p for p in backend.user_pools.values() if client_id in p.clients), None)
        username = str((auth_parameters or {}).get("USERNAME", ""))
        user = pool._get_user(username) if pool is not None else None
        signs_in = (
            user is not None
            and user.enabled
            and user.password == (auth_parameters or {}).get("PASSWORD")
            and user.status == UserStatus.CONFIRMED
        )
        if pool is None or not signs_in or pool.mfa_config not in ("ON", "OPTIONAL"):
            return original_initiate(backend, client_id, auth_flow, auth_parameters)
        if totp_active(pool, user):
            challenge, parameters = "SOFTWARE_TOKEN_MFA", {}
        elif pool.mfa_config == "ON":
            challenge = "MFA_SETUP"
            parameters = {"MFAS_CAN_SETUP": json.dumps(["SOFTWARE_TOKEN_MFA"])}
        else:
            return original_initiate(backend, client_id, auth_flow, auth_parameters)
        session = str(uuid.uuid4())
        backend.sessions[session] = (username, pool)
        return {"ChallengeName": challenge, "ChallengeParameters": parameters, "Session": session}

    @functools.wraps(original_respond)
    def respond_to_auth_challenge(
        backend: Any,
        session: str,
        client_id: str,
        challenge_name: str,
        challenge_responses: dict[str, str],
    ) -> Any:
        found = backend.sessions.get(session)
        user = found[1]._get_user(found[0]) if found else None
        if user is None or challenge_name not in ("SOFTWARE_TOKEN_MFA", "MFA_SETUP"):
            return original_respond(
                backend, session, client_id, challenge_name, challenge_responses
            )
        if challenge_name == "SOFTWARE_TOKEN_MFA":
            code = str((challenge_responses or {}).get("SOFTWARE_TOKEN_MFA_CODE", ""))
            with _lock:
                state = _state(user)
                secret = state.get("secret")
                step = matching_step(secret, code, clock()) if secret else None
                if step is None:
                    raise CodeMismatchException("Invalid code received for user")
                if step <= state.get("last_step", -1):
                    raise CodeMismatchException("Your software token has already been used once.")
                state["last_step"] = step
            return original_respond(
                backend, session, client_id, challenge_name, challenge_responses
            )
        with _lock:  # MFA_SETUP: only after VerifySoftwareToken, with the session it gave
            state = _state(user)
            if not state.get("secret") or state.get("setup_session") != session:
                raise NotAuthorizedError("Invalid session for the user.")
            state["setup_session"] = None
        answer = original_respond(backend, session, client_id, challenge_name, challenge_responses)
        with _lock:
            user.software_token_mfa_enabled = True
            user.preferred_mfa_setting = "SOFTWARE_TOKEN_MFA"
            backend.sessions.pop(session, None)
        return answer

    patches: list[tuple[str, Any]] = [
        ("associate_software_token", associate_software_token),
        ("verify_software_token", verify_software_token),
        ("initiate_auth", initiate_auth),
        ("respond_to_auth_challenge", respond_to_auth_challenge),
    ]
    for name, function in patches:
        setattr(CognitoIdpBackend, name, function)
