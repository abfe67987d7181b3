"""The role claim (`parley.roles`, the pre-token-generation trigger): `admin` for exactly the
`admins` group, `member` for everyone else, read back by `parley.auth.role_of`."""

from __future__ import annotations

from typing import Any

import pytest

from parley.auth import ROLE_CLAIM, role_of
from parley.roles import ADMIN_GROUP, role_for_groups, token_claims
from tests.support.events import LambdaContext


def token_event(groups: Any, source: str = "TokenGeneration_Authentication") -> dict[str, Any]:
    return {
        "version": "1",
        "triggerSource": source,
        "region": "us-east-1",
        "userPoolId": "us-east-1_pool",
        "userName": "someone",
        "callerContext": {"awsSdkVersion": "x", "clientId": "client"},
        "request": {
            "userAttributes": {"sub": "someone", "email": "a@example.com"},
            "groupConfiguration": {
                "groupsToOverride": groups,
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
        },
        "response": {"claimsOverrideDetails": None},
    }


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["admins"], "admin"),
        (["staff", "admins"], "admin"),
        ([], "member"),
        (None, "member"),
        (["staff"], "member"),
        (["Admins"], "member"),
        (["admin"], "member"),
        (["admins "], "member"),
        (["xadmins"], "member"),
    ],
)
def test_the_role_is_admin_for_exactly_the_admins_group(groups: Any, role: str) -> None:
    assert ADMIN_GROUP == "admins"
    assert role_for_groups(groups) == role
    claims = token_claims(token_event(groups))
    assert claims == {"claimsOverrideDetails": {"claimsToAddOrOverride": {ROLE_CLAIM: role}}}
    # What the APIs read from the token the claim ends up in.
    assert role_of(claims["claimsOverrideDetails"]["claimsToAddOrOverride"]) == role


def test_malformed_groups_make_a_member() -> None:
    for event in (token_event([None, 3, {"admins": 1}]), {"request": None}, {}):
        assert token_claims(event)["claimsOverrideDetails"]["claimsToAddOrOverride"] == {
            ROLE_CLAIM: "member"
        }


@pytest.mark.parametrize(
    "source",
    [
        "TokenGeneration_Authentication",
        "TokenGeneration_RefreshTokens",
        "TokenGeneration_HostedAuth",
        "TokenGeneration_NewPasswordChallenge",
    ],
)
def test_the_trigger_answers_every_token_with_the_claim(source: str) -> None:
    from pre_token_generation.app import handler

    event = token_event(["admins"], source)
    answer = handler(event, LambdaContext("pre_token_generation"))
    assert answer["response"] == {
        "claimsOverrideDetails": {"claimsToAddOrOverride": {"parley:role": "admin"}}
    }
    assert {k: v for k, v in answer.items() if k != "response"} == {
        k: v for k, v in event.items() if k != "response"
    }
    member = handler(token_event(["staff"], source), LambdaContext("pre_token_generation"))
    assert member["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"] == {
        "parley:role": "member"
    }
