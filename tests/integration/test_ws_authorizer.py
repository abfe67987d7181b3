"""`$connect`: the authorizer against the whole token attack suite, then ws_connect."""

from __future__ import annotations

import jwt
import pytest

from tests.support.cognito import TestUser
from tests.support.connections_endpoint import METHOD_ARN, ConnectionsEndpoint, WsClient
from tests.support.token_attacks import TOKEN_ATTACKS, TokenAttack
from tests.support.tokens import TokenFactory


def refused(client: WsClient, protocol: str | None = None) -> str:
    """'Unauthorized' (401) or 'Deny' (403): anything but an Allow."""
    try:
        policy = client.authorize(protocol)
    except Exception as exc:  # API Gateway answers 401 for exactly this exception message
        return str(exc)
    statements = policy["policyDocument"]["Statement"]
    assert [s["Effect"] for s in statements] == ["Deny"]
    assert "context" not in policy
    return "Deny"


def test_a_real_token_is_allowed_for_this_route_only(
    endpoint: ConnectionsEndpoint, user: TestUser
) -> None:
    client = WsClient(endpoint, user.id_token)
    policy = client.authorize()

    claims = jwt.decode(user.id_token, options={"verify_signature": False})
    shown = claims.get("name") or user.email.split("@")[0]  # moto's tokens carry no `name`
    assert policy["principalId"] == user.sub
    assert policy["context"] == {
        "userId": user.sub,
        "email": user.email,
        "name": shown,
        "tokenExpiresAt": claims["exp"],  # the connection ends with the token
        "groups": "",  # Cognito groups (which catalog models they may use): none here
    }
    assert policy["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [METHOD_ARN]}
    ]


def test_access_tokens_work_too(endpoint: ConnectionsEndpoint, user: TestUser) -> None:
    policy = WsClient(endpoint, user.access_token).authorize()
    assert policy["principalId"] == user.sub
    assert policy["context"]["userId"] == user.sub


def test_connect_answers_the_parley_subprotocol_and_records_the_connection(
    endpoint: ConnectionsEndpoint, user: TestUser
) -> None:
    from parley.services import connections_repository

    client = WsClient(endpoint, user.id_token)
    response = client.connect()

    assert response == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "parley"}}
    connection = connections_repository().get(client.connection_id)
    assert connection is not None
    assert (connection.user_id, connection.name) == (user.sub, client.context["name"])


@pytest.mark.parametrize("attack", TOKEN_ATTACKS, ids=lambda a: a.name)
def test_every_token_fault_is_refused(
    endpoint: ConnectionsEndpoint, moto_tokens: TokenFactory, attack: TokenAttack
) -> None:
    token = attack.token(moto_tokens)
    offered = f"{attack.scheme} {token}".strip() if attack.scheme else token
    if attack.id_token_only:  # an access token is fine on a WebSocket: not a fault here
        assert WsClient(endpoint, offered).authorize()["principalId"] == moto_tokens.sub
        return
    assert refused(WsClient(endpoint, offered)) in {"Deny", "Unauthorized"}


def test_forged_and_valid_tokens_from_the_same_factory_differ(
    endpoint: ConnectionsEndpoint, moto_tokens: TokenFactory
) -> None:
    # guards the attack suite itself: the factory's untouched token is accepted
    assert WsClient(endpoint, moto_tokens.mint()).authorize()["principalId"] == moto_tokens.sub


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (None, "Unauthorized"),  # no subprotocol header at all
        ("", "Unauthorized"),
        ("parley", "Unauthorized"),  # no token
        ("{token}", "Unauthorized"),  # a token without the parley subprotocol
        ("parley, {token}, {token}", "Unauthorized"),  # two candidates: ambiguous
        ("parley, not-a-jwt", "Deny"),
    ],
)
def test_subprotocol_offer_faults(
    endpoint: ConnectionsEndpoint, user: TestUser, protocol: str | None, expected: str
) -> None:
    offered = None if protocol is None else protocol.format(token=user.id_token)
    client = WsClient(endpoint, user.id_token)
    if offered is None:
        from tests.support.connections_endpoint import authorizer_event
        from tests.support.events import LambdaContext
        from ws_authorizer.app import handler

        event = authorizer_event(client.connection_id, None)
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            handler(event, LambdaContext("ws_authorizer"))
        return
    assert refused(client, offered) == expected


def test_a_token_in_the_query_string_is_ignored(
    endpoint: ConnectionsEndpoint, user: TestUser
) -> None:
    from tests.support.connections_endpoint import authorizer_event
    from tests.support.events import LambdaContext
    from ws_authorizer.app import handler

    event = authorizer_event("q=", "parley")
    event["queryStringParameters"] = {"token": user.id_token}
    event["multiValueQueryStringParameters"] = {"token": [user.id_token]}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler(event, LambdaContext("ws_authorizer"))
