"""Reading the subprotocol offer and shaping the authorizer's policy (no network needed)."""

from __future__ import annotations

import pytest

from parley.auth import CognitoVerifier, JwksCache
from parley.realtime.authorizer import Offer, Unauthorized, authorize, read_offer
from tests.support.connections_endpoint import METHOD_ARN, authorizer_event


@pytest.mark.parametrize(
    ("headers", "offer"),
    [
        ({"Sec-WebSocket-Protocol": "parley, abc.def.ghi"}, Offer(True, "abc.def.ghi")),
        ({"sec-websocket-protocol": "abc.def.ghi,parley"}, Offer(True, "abc.def.ghi")),
        ({"SEC-WEBSOCKET-PROTOCOL": " parley ,  t "}, Offer(True, "t")),
        ({"Sec-WebSocket-Protocol": "parley"}, Offer(True, None)),
        ({"Sec-WebSocket-Protocol": "chat, t"}, Offer(False, None)),
        ({"Sec-WebSocket-Protocol": "parley, a, b"}, Offer(True, None)),
        ({}, Offer(False, None)),
        (None, Offer(False, None)),
    ],
)
def test_read_offer(headers: dict[str, str] | None, offer: Offer) -> None:
    assert read_offer(headers) == offer


def test_a_missing_token_is_unauthorized_before_any_key_is_fetched() -> None:
    # an unreachable JWKS proves no fetch happens: the refusal comes first
    verifier = CognitoVerifier(
        issuer="https://issuer.example", client_id="c", jwks=JwksCache("http://127.0.0.1:9/none")
    )
    with pytest.raises(Unauthorized, match=r"^Unauthorized$"):
        authorize(authorizer_event("c=", "parley"), verifier)


def test_a_deny_names_no_one_and_covers_the_api_stage() -> None:
    verifier = CognitoVerifier(
        issuer="https://issuer.example", client_id="c", jwks=JwksCache("http://127.0.0.1:9/none")
    )
    policy = authorize(authorizer_event("c=", "parley, not-a-token"), verifier)
    assert policy["principalId"] == "anonymous"
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Resource"] == [METHOD_ARN.rsplit("/", 1)[0] + "/*"]
    assert "context" not in policy


def test_a_request_without_a_gateway_arn_is_unauthorized() -> None:
    verifier = CognitoVerifier(
        issuer="https://issuer.example", client_id="c", jwks=JwksCache("http://127.0.0.1:9/none")
    )
    event = authorizer_event("c=", "parley, not-a-token")
    event["methodArn"] = "nonsense"
    with pytest.raises(Unauthorized):
        authorize(event, verifier)
