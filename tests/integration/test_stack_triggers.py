"""Cognito's answering triggers on the whole local stack, where moto's process calls the
functions as Cognito would: a sign-up the environment refuses is answered
`UserLambdaValidationException` with the trigger's reason and makes no user, an address at an
allowed domain or one a room owner invited signs up, the e-mails are the custom-message
trigger's, and every ID token carries the role claim the pre-token-generation trigger adds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import jwt
import pytest
from botocore.exceptions import ClientError

from tasks.local.bootstrap import FAKE_CREDENTIALS
from tasks.local.cognito_mail import read_mailbox
from tasks.local.stack import ADMIN_EMAIL, ADMIN_PASSWORD, LocalStack, StackConfig
from tests.support.cognito import create_user

pytestmark = pytest.mark.slow
TIMEOUT = 60.0
PASSWORD = "Parley-test-2026!"
REFUSAL = (
    "PreSignUp failed with error Sign-up is open to addresses at example.com and to invited "
    "addresses: ask a room owner to invite this address."
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = StackConfig(
        model="scripted",
        log_dir=tmp_path_factory.mktemp("logs"),
        signup_domains=("example.com",),
        signup_invites=True,
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture(scope="module")
def cognito(stack: LocalStack) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=stack.info["cognitoEndpoint"],
        region_name=stack.info["region"],
        **FAKE_CREDENTIALS,
    )


def sign_up(stack: LocalStack, cognito: Any, email: str, name: str = "New Person") -> Any:
    return cognito.sign_up(
        ClientId=stack.resources.client_id,
        Username=email,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": name}],
    )


def id_claims(answer: dict[str, Any]) -> dict[str, Any]:
    token = answer["AuthenticationResult"]["IdToken"]
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def sign_in(stack: LocalStack, cognito: Any, email: str, password: str) -> dict[str, Any]:
    answer: dict[str, Any] = cognito.initiate_auth(
        ClientId=stack.resources.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return answer


def test_a_refused_sign_up_says_why_and_makes_no_user(stack: LocalStack, cognito: Any) -> None:
    email = f"eve-{uuid.uuid4().hex[:8]}@elsewhere.example"
    for attempt in (email, email.upper()):
        with pytest.raises(ClientError) as caught:
            sign_up(stack, cognito, attempt)
        error = caught.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("UserLambdaValidationException", REFUSAL)
    with pytest.raises(ClientError, match="UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=stack.resources.user_pool_id, Username=email)
    assert read_mailbox(stack.info["motoUrl"], email) == []
    # A look-alike of the allowed domain is another domain.
    with pytest.raises(ClientError, match="UserLambdaValidationException"):
        sign_up(stack, cognito, f"eve-{uuid.uuid4().hex[:8]}@example.com.elsewhere.example")


def test_an_allowed_address_signs_up_with_the_apps_own_email(
    stack: LocalStack, cognito: Any
) -> None:
    email = f"ann-{uuid.uuid4().hex[:8]}@Example.com"
    sign_up(stack, cognito, email, name='Ann <b>"Lee"</b>')
    [message] = read_mailbox(stack.info["motoUrl"], email)
    app_url = stack.info["appUrl"]
    assert message["kind"] == "verification"
    assert message["subject"] == "Your Parley verification code"
    assert f"Your verification code is {message['code']}." in message["body"]
    assert f'<a href="{app_url}">Open Parley</a>' in message["html"]
    assert "Hello Ann &lt;b&gt;&quot;Lee&quot;&lt;/b&gt;," in message["html"]
    assert "<b>" not in message["html"]
    assert app_url in message["body"]
    cognito.confirm_sign_up(
        ClientId=stack.resources.client_id, Username=email, ConfirmationCode=message["code"]
    )
    claims = id_claims(sign_in(stack, cognito, email, PASSWORD))
    assert claims["parley:role"] == "member"

    # A resent code and a reset are the app's e-mails too.
    cognito.forgot_password(ClientId=stack.resources.client_id, Username=email)
    reset = read_mailbox(stack.info["motoUrl"], email)[0]
    assert (reset["kind"], reset["subject"]) == ("reset", "Reset your Parley password")
    assert f"reset your Parley password is {reset['code']}." in reset["body"]


def test_an_address_a_room_owner_invited_signs_up(stack: LocalStack, cognito: Any) -> None:
    owner = create_user(stack.resources, f"owner-{uuid.uuid4().hex[:8]}@example.com")
    guest = f"guest-{uuid.uuid4().hex[:8]}@elsewhere.example"
    with pytest.raises(ClientError, match="UserLambdaValidationException"):
        sign_up(stack, cognito, guest)
    with httpx.Client(base_url=stack.info["httpApiUrl"], timeout=TIMEOUT) as api:
        room = api.post(
            "/conversations", json={"kind": "group", "title": "Team"}, headers=owner.bearer()
        )
        assert room.status_code == 201, room.text
        invited = api.post(
            f"/conversations/{room.json()['id']}/members",
            json={"email": guest.upper()},
            headers=owner.bearer(),
        )
    assert invited.status_code == 404  # no account yet: the invitation is kept for sign-up
    sign_up(stack, cognito, guest)
    assert read_mailbox(stack.info["motoUrl"], guest)[0]["kind"] == "verification"


def test_the_id_token_carries_the_role_from_the_admins_group(
    stack: LocalStack, cognito: Any
) -> None:
    """The stack's admin user (created by the operator: always accepted) gets `admin` from the
    trigger, on sign-in and on refresh, and the admin console answers that token alone."""
    answer = sign_in(stack, cognito, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert id_claims(answer)["parley:role"] == "admin"
    refreshed = cognito.initiate_auth(
        ClientId=stack.resources.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": answer["AuthenticationResult"]["RefreshToken"]},
    )
    assert id_claims(refreshed)["parley:role"] == "admin"
    member = create_user(stack.resources, f"member-{uuid.uuid4().hex[:8]}@elsewhere.example")
    assert jwt.decode(member.id_token, options={"verify_signature": False})["parley:role"] == (
        "member"
    )
    admin_token = answer["AuthenticationResult"]["IdToken"]
    with httpx.Client(base_url=stack.info["httpApiUrl"], timeout=TIMEOUT) as api:
        mine = api.get("/admin/users", headers={"Authorization": f"Bearer {admin_token}"})
        theirs = api.get("/admin/users", headers=member.bearer())
    assert mine.status_code == 200, mine.text
    assert theirs.status_code == 403


def test_a_federated_first_sign_in_follows_the_same_rule(stack: LocalStack, cognito: Any) -> None:
    """The hosted sign-in's new users are `PreSignUp_ExternalProvider`: one the rule refuses
    comes back to the app as `access_denied` with Cognito's text, and no user is made."""
    from tests.integration.test_stack_federation import Attempt, _query, _sign_in_at_provider

    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as web:
        outsider = f"fed-{uuid.uuid4().hex[:8]}@elsewhere.example"
        attempt = Attempt(stack)
        location = _sign_in_at_provider(web, attempt, outsider)
        assert location.startswith(attempt.app)
        query = _query(location)
        assert (query["error"], query["error_description"]) == ("access_denied", REFUSAL)
        assert query["state"] == attempt.state
        assert "code" not in query
        with pytest.raises(ClientError, match="UserNotFoundException"):
            cognito.admin_get_user(UserPoolId=stack.resources.user_pool_id, Username=outsider)

        staff = f"fed-{uuid.uuid4().hex[:8]}@example.com"
        attempt = Attempt(stack)
        admitted = _query(_sign_in_at_provider(web, attempt, staff))
        assert admitted["state"] == attempt.state
        assert admitted["code"]
