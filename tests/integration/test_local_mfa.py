"""Two-step verification (TOTP) on the local stack's Cognito, as the app uses it: enrolment
(AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference), the code at sign-in
(SOFTWARE_TOKEN_MFA) and, when the pool requires MFA, enrolment at first sign-in (MFA_SETUP).

Every code is computed here from the secret Cognito hands out (`tests.support.totp`, RFC 6238),
never taken from the stack, and each call is one the app makes against Cognito itself; nothing
depends on what moto alone would accept (any code, one secret for everyone, no MFA_SETUP on
USER_PASSWORD_AUTH).
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.local.aws import MotoProcess, check_moto
from tasks.local.bootstrap import LocalResources, bootstrap, clients
from tasks.local.cognito_mfa import HOOKED as MFA_HOOKED
from tests.support.totp import totp, wrong_code

REGION = "us-east-1"
PASSWORD = "Two-step-Pass-1!"
_emails = (f"mfa{n}@example.com" for n in itertools.count(1))


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The stack's moto (its own process, every local patch), without a trigger endpoint."""
    process = MotoProcess("127.0.0.1", 0, Path(tmp_path_factory.mktemp("moto-mfa")))
    yield process.start()
    process.stop()


@pytest.fixture(scope="module")
def optional(moto_url: str) -> LocalResources:
    return bootstrap(moto_url, region=REGION, prefix="mfa-optional-", mfa="OPTIONAL")


@pytest.fixture(scope="module")
def required(moto_url: str) -> LocalResources:
    return bootstrap(moto_url, region=REGION, prefix="mfa-on-", mfa="ON")


def _cognito(resources: LocalResources) -> Any:
    return clients(resources.endpoint_url, REGION)[1]


def _user(resources: LocalResources) -> str:
    email = next(_emails)
    cognito = _cognito(resources)
    cognito.admin_create_user(
        UserPoolId=resources.user_pool_id,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=resources.user_pool_id, Username=email, Password=PASSWORD, Permanent=True
    )
    return email


def _sign_in(resources: LocalResources, email: str) -> dict[str, Any]:
    answer: dict[str, Any] = _cognito(resources).initiate_auth(
        ClientId=resources.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return answer


def _code(email: str, code: str) -> dict[str, str]:
    """The answer to SOFTWARE_TOKEN_MFA."""
    return {"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": code}


def _error(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return str(caught.value.response["Error"]["Code"])


def _enrol(resources: LocalResources, email: str) -> tuple[str, str]:
    """What the account menu does: associate, verify a code from the secret, prefer TOTP.
    (The secret, and the code the verification used.)"""
    cognito = _cognito(resources)
    access = _sign_in(resources, email)["AuthenticationResult"]["AccessToken"]
    secret = str(cognito.associate_software_token(AccessToken=access)["SecretCode"])
    code = totp(secret)
    verified = cognito.verify_software_token(
        AccessToken=access, UserCode=code, FriendlyDeviceName="Authenticator app"
    )
    assert verified["Status"] == "SUCCESS"
    cognito.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    user = cognito.get_user(AccessToken=access)
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    return secret, code


def test_the_pool_has_the_mfa_setting_it_was_given(
    optional: LocalResources, required: LocalResources
) -> None:
    for resources, mode in ((optional, "OPTIONAL"), (required, "ON")):
        config = _cognito(resources).get_user_pool_mfa_config(UserPoolId=resources.user_pool_id)
        assert config["MfaConfiguration"] == mode
        assert config["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
        assert "SmsMfaConfiguration" not in config or not config["SmsMfaConfiguration"]


def test_each_enrolment_gets_its_own_secret(optional: LocalResources) -> None:
    cognito = _cognito(optional)
    secrets = []
    for email in (_user(optional), _user(optional)):
        access = _sign_in(optional, email)["AuthenticationResult"]["AccessToken"]
        secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
        base64.b32decode(secret + "=" * (-len(secret) % 8))  # base32, as authenticator apps read
        assert len(secret) >= 16
        secrets.append(secret)
    assert secrets[0] != secrets[1]


def test_after_enrolment_sign_in_needs_the_code_from_the_secret(optional: LocalResources) -> None:
    email = _user(optional)
    secret, _ = _enrol(optional, email)
    cognito = _cognito(optional)
    challenge = _sign_in(optional, email)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert "AuthenticationResult" not in challenge
    respond = {
        "ClientId": optional.client_id,
        "ChallengeName": "SOFTWARE_TOKEN_MFA",
        "Session": challenge["Session"],
    }
    refused = _error(
        cognito.respond_to_auth_challenge,
        **respond,
        ChallengeResponses=_code(email, wrong_code(secret)),
    )
    assert refused == "CodeMismatchException"
    # A fresh sign-in with the next code (Cognito takes one step early or late; the code the
    # enrolment used may not be used again).
    challenge = _sign_in(optional, email)
    tokens = cognito.respond_to_auth_challenge(
        **{**respond, "Session": challenge["Session"]},
        ChallengeResponses=_code(email, totp(secret, step_offset=1)),
    )["AuthenticationResult"]
    assert tokens["IdToken"]
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["UserMFASettingList"] == [
        "SOFTWARE_TOKEN_MFA"
    ]


def test_a_code_is_used_once(optional: LocalResources) -> None:
    email = _user(optional)
    _, used = _enrol(optional, email)
    challenge = _sign_in(optional, email)
    refused = _error(
        _cognito(optional).respond_to_auth_challenge,
        ClientId=optional.client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses=_code(email, used),
    )
    assert refused == "CodeMismatchException"


def test_a_wrong_code_does_not_enrol_and_the_right_one_still_can(optional: LocalResources) -> None:
    email = _user(optional)
    cognito = _cognito(optional)
    access = _sign_in(optional, email)["AuthenticationResult"]["AccessToken"]
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    verify = {"AccessToken": access, "FriendlyDeviceName": "Authenticator app"}
    refused = _error(cognito.verify_software_token, **verify, UserCode=wrong_code(secret))
    assert refused in ("EnableSoftwareTokenMFAException", "CodeMismatchException")
    not_verified = _error(
        cognito.set_user_mfa_preference,
        AccessToken=access,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    assert not_verified == "InvalidParameterException"
    assert "AuthenticationResult" in _sign_in(optional, email)  # still no second step
    assert cognito.verify_software_token(**verify, UserCode=totp(secret))["Status"] == "SUCCESS"


def test_turning_it_off_signs_in_with_the_password_alone(optional: LocalResources) -> None:
    email = _user(optional)
    secret, _ = _enrol(optional, email)
    cognito = _cognito(optional)
    challenge = _sign_in(optional, email)
    access = cognito.respond_to_auth_challenge(
        ClientId=optional.client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses=_code(email, totp(secret, step_offset=1)),
    )["AuthenticationResult"]["AccessToken"]
    cognito.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False}
    )
    assert cognito.get_user(AccessToken=access).get("UserMFASettingList", []) == []
    assert "AuthenticationResult" in _sign_in(optional, email)


def test_with_mfa_required_a_new_user_sets_up_totp_at_first_sign_in(
    required: LocalResources,
) -> None:
    email = _user(required)
    cognito = _cognito(required)
    first = _sign_in(required, email)
    assert first["ChallengeName"] == "MFA_SETUP"
    assert "AuthenticationResult" not in first
    assert "SOFTWARE_TOKEN_MFA" in first["ChallengeParameters"]["MFAS_CAN_SETUP"]
    # No tokens for answering the challenge without a verified token.
    _error(
        cognito.respond_to_auth_challenge,
        ClientId=required.client_id,
        ChallengeName="MFA_SETUP",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": email},
    )

    # A wrong code does not set it up: the next sign-in asks again.
    setup = _sign_in(required, email)
    associated = cognito.associate_software_token(Session=setup["Session"])
    refused = _error(
        cognito.verify_software_token,
        Session=associated["Session"],
        UserCode=wrong_code(associated["SecretCode"]),
        FriendlyDeviceName="Authenticator app",
    )
    assert refused in ("EnableSoftwareTokenMFAException", "CodeMismatchException")
    assert _sign_in(required, email)["ChallengeName"] == "MFA_SETUP"

    # What the app does: associate, show the secret, verify a code, then answer the challenge.
    setup = _sign_in(required, email)
    associated = cognito.associate_software_token(Session=setup["Session"])
    secret = associated["SecretCode"]
    verified = cognito.verify_software_token(
        Session=associated["Session"], UserCode=totp(secret), FriendlyDeviceName="Authenticator app"
    )
    assert verified["Status"] == "SUCCESS"
    tokens = cognito.respond_to_auth_challenge(
        ClientId=required.client_id,
        ChallengeName="MFA_SETUP",
        Session=verified["Session"],
        ChallengeResponses={"USERNAME": email},
    )["AuthenticationResult"]
    assert tokens["AccessToken"]

    # From now on the code is asked at every sign-in.
    challenge = _sign_in(required, email)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    signed_in = cognito.respond_to_auth_challenge(
        ClientId=required.client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses=_code(email, totp(secret, step_offset=1)),
    )
    assert signed_in["AuthenticationResult"]["IdToken"]


def test_the_mfa_patches_check_the_moto_they_were_written_for() -> None:
    check_moto(MFA_HOOKED)  # moto has every expected signature
