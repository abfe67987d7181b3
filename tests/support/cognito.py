"""Users in moto's Cognito pool and the real tokens it mints for them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from tasks.local.bootstrap import LocalResources, clients

DEFAULT_PASSWORD = "Correct-Horse-9-Battery"
_counter = itertools.count(1)


@dataclass(frozen=True)
class TestUser:
    """A confirmed user and a fresh set of tokens from USER_PASSWORD_AUTH."""

    __test__ = False  # not a pytest test class

    sub: str
    email: str
    name: str
    password: str
    id_token: str
    access_token: str
    refresh_token: str

    def bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.id_token}"}

    @property
    def claims(self) -> dict[str, str]:
        """The claims the gateway's JWT authorizer would pass on for this user's id token."""
        return {
            "sub": self.sub,
            "email": self.email,
            "token_use": "id",
            "cognito:username": self.sub,
        }


def create_user(
    resources: LocalResources,
    email: str | None = None,
    *,
    name: str | None = None,
    password: str = DEFAULT_PASSWORD,
) -> TestUser:
    """Admin-create, confirm and sign in a user; the tokens are moto's real RS256 tokens."""
    n = next(_counter)
    email = email or f"user{n}@example.com"
    name = name or f"User {n}"
    _, cognito, _ = clients(resources.endpoint_url, resources.region)
    created = cognito.admin_create_user(
        UserPoolId=resources.user_pool_id,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": name},
        ],
        MessageAction="SUPPRESS",
    )
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    cognito.admin_set_user_password(
        UserPoolId=resources.user_pool_id, Username=email, Password=password, Permanent=True
    )
    auth = cognito.initiate_auth(
        ClientId=resources.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]
    return TestUser(
        sub=sub,
        email=email,
        name=name,
        password=password,
        id_token=auth["IdToken"],
        access_token=auth["AccessToken"],
        refresh_token=auth["RefreshToken"],
    )
