"""Cognito's post-confirmation trigger for the local pool: the event it sends.

moto confirms users but runs no Lambda triggers (that needs Docker). Like Cognito, the stack
runs `post_confirmation` synchronously inside ConfirmSignUp / AdminConfirmSignUp, once per user
(moto's process calls the gateway's Lambda endpoint: `tasks.local.aws.hook_post_confirmation`),
so the profile exists before the new user's first request. Users an admin gives a permanent
password (the demo user, test users) get it the same way inside AdminSetUserPassword, so every
local user has a profile. The handler is idempotent, as it must be for Cognito's own retries.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any

from tasks.local.aws import Expected, check_moto


def confirmation_event(
    pool_id: str, client_id: str, region: str, user: dict[str, Any]
) -> dict[str, Any]:
    """The PostConfirmation event Cognito sends for one user of ListUsers/AdminGetUser."""
    attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
    attributes["cognito:user_status"] = "CONFIRMED"
    return {
        "version": "1",
        "region": region,
        "userPoolId": pool_id,
        "userName": user["Username"],
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": attributes},
        "response": {},
    }


# -- the triggers that answer: PreSignUp, PreTokenGeneration, CustomMessage ----------------------
# moto's process calls each through the gateway's Lambda Invoke endpoint, synchronously, where
# Cognito would, and uses the answer as Cognito does (`hook_cognito_triggers`).

Call = Callable[[dict[str, Any]], dict[str, Any]]
"""A synchronous invoke of one trigger function: its answer, or TriggerError."""

HOOKED = (
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.sign_up",
        "(self, client_id, username, password, attributes)",
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.admin_create_user",
        "(self, user_pool_id, username, message_action, temporary_password, attributes)",
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpUserPool.create_jwt",
        "(self, client_id, username, token_use, expires_in=3600, extra_data=None)",
    ),
    Expected("moto.cognitoidp.responses", "CognitoIdpResponse.admin_create_user", "(self)"),
)
"""What `hook_cognito_triggers` wraps."""

EXTERNAL_PROVIDER = "PreSignUp_ExternalProvider"
SOURCE_METADATA = "parley:triggerSource"
"""AdminCreateUser's ClientMetadata key by which the local hosted sign-in says a user comes from
an identity provider (Cognito's own federation runs `PreSignUp_ExternalProvider`)."""
_source = threading.local()


class TriggerError(Exception):
    """The trigger function failed; the message is its error message."""


def lambda_caller(lambda_url: str, function: str, timeout: float = 70.0) -> Call:
    """A synchronous Lambda Invoke of `function` at `lambda_url` that returns its answer; a
    function error is TriggerError with the function's own message (what Cognito reports)."""
    import boto3
    from botocore.config import Config

    from tasks.local.bootstrap import FAKE_CREDENTIALS

    client = boto3.client(
        "lambda",
        endpoint_url=lambda_url,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
        config=Config(read_timeout=timeout, retries={"total_max_attempts": 1}),
    )

    def call(event: dict[str, Any]) -> dict[str, Any]:
        answer = client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        body = answer["Payload"].read().decode(errors="replace")
        if "FunctionError" in answer:
            try:
                message = str(json.loads(body).get("errorMessage") or body)
            except (ValueError, AttributeError):
                message = body
            raise TriggerError(message[:2000])
        found = json.loads(body)
        if not isinstance(found, dict):
            raise TriggerError("Invalid lambda response")
        return found

    return call


def lambda_failed(trigger: str, message: str) -> Exception:
    """What Cognito answers when a trigger fails: `UserLambdaValidationException`."""
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("UserLambdaValidationException", f"{trigger} failed with error {message}.")


def _event(
    source: str, pool: Any, client_id: str, username: str, attributes: dict[str, Any]
) -> dict[str, Any]:
    return {
        "version": "1",
        "region": pool.region,
        "userPoolId": pool.id,
        "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "triggerSource": source,
        "request": {"userAttributes": attributes},
        "response": {},
    }


def _attributes(listed: Any) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in listed or []}


def sign_up_event(
    source: str, pool: Any, client_id: str, username: str, attributes: Any
) -> dict[str, Any]:
    """The PreSignUp event: the address is the username in a pool signed into by e-mail."""
    given = _attributes(attributes)
    if "@" in username:
        given.setdefault("email", username)
    event = _event(source, pool, client_id, username, given)
    event["request"].update(validationData=None, clientMetadata=None)
    event["response"] = {
        "autoConfirmUser": False,
        "autoVerifyEmail": False,
        "autoVerifyPhone": False,
    }
    return event


def token_event(pool: Any, client_id: str, user: Any) -> dict[str, Any]:
    """The PreTokenGeneration (V1) event for one of moto's users."""
    attributes = _attributes(user.attributes)
    attributes["cognito:user_status"] = (
        user.status.value if hasattr(user.status, "value") else str(user.status)
    )
    event = _event("TokenGeneration_Authentication", pool, client_id, user.username, attributes)
    event["request"]["groupConfiguration"] = {
        "groupsToOverride": [g.group_name for g in user.groups],
        "iamRolesToOverride": [],
        "preferredRole": None,
    }
    event["response"] = {"claimsOverrideDetails": None}
    return event


def message_event(source: str, pool: Any, user: Any) -> dict[str, Any]:
    """The CustomMessage event for one of moto's users."""
    client_id = next(iter(pool.clients), "")
    event = _event(source, pool, client_id, user.username, _attributes(user.attributes))
    event["request"].update(
        codeParameter="{####}",
        linkParameter="{##Click Here##}",
        usernameParameter="{username}" if source == "CustomMessage_AdminCreateUser" else None,
    )
    event["response"] = {"smsMessage": None, "emailMessage": None, "emailSubject": None}
    return event


def custom_message(call: Call) -> Callable[[str, Any, Any], tuple[str, str] | None]:
    """`(source, pool, user) -> (subject, message template)` from the CustomMessage trigger, or
    None for Cognito's own. As Cognito, a message without the code placeholder (or, for an
    invitation, the username's) is refused: UserLambdaValidationException."""

    def compose(source: str, pool: Any, user: Any) -> tuple[str, str] | None:
        try:
            answer = call(message_event(source, pool, user))
        except TriggerError as exc:
            raise lambda_failed("CustomMessage", str(exc)) from None
        response = answer.get("response") or {}
        subject, message = response.get("emailSubject"), response.get("emailMessage")
        if not message:
            return None
        needed = ["{####}"] + (["{username}"] if source == "CustomMessage_AdminCreateUser" else [])
        if any(placeholder not in message for placeholder in needed):
            raise lambda_failed(
                "CustomMessage", "Invalid lambda response: a placeholder is missing"
            )
        return str(subject or ""), str(message)

    return compose


def hook_cognito_triggers(
    pre_sign_up: Call | None = None, pre_token_generation: Call | None = None
) -> None:
    """Run PreSignUp inside SignUp and AdminCreateUser, before the user exists (a refusal is
    `UserLambdaValidationException: PreSignUp failed with error <message>.` and nothing is
    made), and PreTokenGeneration for every ID token moto issues (sign-in, challenge answers,
    refresh), adding the claims it answers. Each only if given."""
    check_moto(HOOKED)
    from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool
    from moto.cognitoidp.responses import CognitoIdpResponse

    if pre_sign_up is not None:
        check = pre_sign_up
        original_sign_up = CognitoIdpBackend.sign_up
        original_create = CognitoIdpBackend.admin_create_user
        original_create_response = CognitoIdpResponse.admin_create_user

        def run(source: str, pool: Any, client_id: str, username: str, attributes: Any) -> None:
            try:
                check(sign_up_event(source, pool, client_id, username, attributes))
            except TriggerError as exc:
                raise lambda_failed("PreSignUp", str(exc)) from None

        @functools.wraps(original_sign_up)
        def sign_up(
            backend: Any, client_id: str, username: str, password: str, attributes: Any
        ) -> Any:
            pool = next((p for p in backend.user_pools.values() if client_id in p.clients), None)
            if pool is not None and pool._get_user(username) is None:
                run("PreSignUp_SignUp", pool, client_id, username, attributes)
            return original_sign_up(backend, client_id, username, password, attributes)

        @functools.wraps(original_create)
        def admin_create_user(
            backend: Any,
            user_pool_id: str,
            username: str,
            message_action: str,
            temporary_password: str,
            attributes: Any,
        ) -> Any:
            if message_action != "RESEND":
                pool = backend.describe_user_pool(user_pool_id)
                source = getattr(_source, "value", None) or "PreSignUp_AdminCreateUser"
                run(source, pool, next(iter(pool.clients), ""), username, attributes)
            return original_create(
                backend, user_pool_id, username, message_action, temporary_password, attributes
            )

        @functools.wraps(original_create_response)
        def admin_create_user_response(response: Any) -> Any:
            metadata = response._get_param("ClientMetadata") or {}
            _source.value = (
                EXTERNAL_PROVIDER if metadata.get(SOURCE_METADATA) == EXTERNAL_PROVIDER else None
            )
            try:
                return original_create_response(response)
            finally:
                _source.value = None

        CognitoIdpBackend.sign_up = sign_up  # type: ignore[method-assign,assignment]
        CognitoIdpBackend.admin_create_user = admin_create_user  # type: ignore[method-assign,assignment]
        CognitoIdpResponse.admin_create_user = admin_create_user_response  # type: ignore[method-assign,assignment]

    if pre_token_generation is not None:
        claims_of = pre_token_generation
        original_jwt = CognitoIdpUserPool.create_jwt

        @functools.wraps(original_jwt)
        def create_jwt(
            pool: Any,
            client_id: str,
            username: str,
            token_use: str,
            expires_in: int = 60 * 60,
            extra_data: dict[str, Any] | None = None,
        ) -> Any:
            if token_use == "id":  # noqa: S105 - the ID token, not a secret
                try:
                    answer = claims_of(token_event(pool, client_id, pool._get_user(username)))
                except TriggerError as exc:
                    raise lambda_failed("PreTokenGeneration", str(exc)) from None
                details = (answer.get("response") or {}).get("claimsOverrideDetails") or {}
                added = details.get("claimsToAddOrOverride") or {}
                extra_data = {**(extra_data or {}), **added}
            return original_jwt(pool, client_id, username, token_use, expires_in, extra_data)

        CognitoIdpUserPool.create_jwt = create_jwt  # type: ignore[method-assign,assignment]
