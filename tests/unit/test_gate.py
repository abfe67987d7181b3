"""The disabled check's staleness bound, the admin gate and the role claim (parley.gate,
parley.auth): what guards every entry point once a token is verified."""

from __future__ import annotations

from typing import Any

import pytest

from parley.auth import CognitoVerifier, Identity, JwksCache, role_of
from parley.errors import Forbidden, Unauthorized
from parley.gate import (
    MAX_AGE_SECONDS,
    AccountDisabled,
    AccountGate,
    GateSettings,
    NotAdmin,
    require_admin,
)
from tests.support.tokens import JwksServer, SigningKey, TokenFactory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Profiles:
    def __init__(self) -> None:
        self.disabled: set[str] = set()
        self.reads: list[str] = []

    def __call__(self, user_id: str) -> bool:
        self.reads.append(user_id)
        return user_id in self.disabled


def test_a_disable_is_seen_within_max_age_and_not_later() -> None:
    clock, profiles = Clock(), Profiles()
    gate = AccountGate(profiles, max_age=30, clock=clock)
    gate.check("ana")
    profiles.disabled.add("ana")
    clock.now += 29.9
    gate.check("ana")  # the answer kept is younger than max_age
    assert profiles.reads == ["ana"]
    clock.now += 0.1
    with pytest.raises(AccountDisabled) as refused:
        gate.check("ana")
    assert refused.value.status == 401
    assert isinstance(refused.value, Unauthorized)
    assert refused.value.message == "This account is disabled"
    assert profiles.reads == ["ana", "ana"]
    # Enabled again: seen within max_age too.
    profiles.disabled.clear()
    clock.now += 29
    assert gate.disabled("ana")
    clock.now += 1
    assert not gate.disabled("ana")


def test_a_fresh_check_reads_now_and_users_are_kept_apart() -> None:
    clock, profiles = Clock(), Profiles()
    gate = AccountGate(profiles, max_age=60, clock=clock)
    assert not gate.disabled("ana")
    profiles.disabled.add("ana")
    assert gate.disabled("ana", fresh=True)
    assert gate.disabled("ana")  # the fresh answer is kept
    assert not gate.disabled("bob")
    assert profiles.reads == ["ana", "ana", "bob"]


def test_max_age_zero_reads_every_time_and_more_than_a_minute_is_refused() -> None:
    clock, profiles = Clock(), Profiles()
    gate = AccountGate(profiles, max_age=0, clock=clock)
    gate.check("ana")
    gate.check("ana")
    assert profiles.reads == ["ana", "ana"]
    AccountGate(profiles, max_age=MAX_AGE_SECONDS)
    assert MAX_AGE_SECONDS == 60
    for wrong in (-1, 60.5):
        with pytest.raises(ValueError, match="max_age"):
            AccountGate(profiles, max_age=wrong)


def test_the_least_recently_checked_users_are_forgotten_first() -> None:
    clock, profiles = Clock(), Profiles()
    gate = AccountGate(profiles, max_age=60, clock=clock, max_entries=2)
    gate.check("a")
    gate.check("b")
    gate.check("a")  # a is the most recent now
    gate.check("c")  # b is forgotten
    gate.check("a")
    assert profiles.reads == ["a", "b", "c"]
    gate.check("b")
    assert profiles.reads == ["a", "b", "c", "b"]
    gate.check("a")  # kept: checked after c, so c was forgotten for b
    assert profiles.reads == ["a", "b", "c", "b"]


def _identity(**claims: Any) -> Identity:
    return Identity(sub="s", token_use="id", role=role_of(claims), claims=claims)


@pytest.mark.parametrize(
    ("claims", "admin"),
    [
        ({"parley:role": "admin"}, True),
        ({"parley:role": "member"}, False),
        ({}, False),
        ({"parley:role": "Admin"}, False),
        ({"parley:role": "admin "}, False),
        ({"parley:role": ["admin"]}, False),
        ({"cognito:groups": ["admins"]}, False),  # only the role claim counts
        ({"role": "admin"}, False),
    ],
)
def test_only_the_exact_admin_role_passes_the_gate(claims: dict[str, Any], admin: bool) -> None:
    who = _identity(**claims)
    assert who.is_admin is admin
    assert who.role == ("admin" if admin else "member")
    if admin:
        assert require_admin(who) is who
    else:
        with pytest.raises(NotAdmin) as refused:
            require_admin(who)
        assert isinstance(refused.value, Forbidden)
        assert refused.value.status == 403
        assert refused.value.message == "This needs an administrator"


def test_an_identity_is_a_member_unless_told() -> None:
    assert Identity(sub="s", token_use="id").role == "member"
    assert not Identity(sub="s", token_use="id").is_admin


def test_check_passes_fresh_on_and_the_default_age_is_30_seconds() -> None:
    clock, profiles = Clock(), Profiles()
    gate = AccountGate(profiles, clock=clock)
    assert gate.max_age == 30
    gate.check("ana")
    profiles.disabled.add("ana")
    gate.check("ana")  # kept
    with pytest.raises(AccountDisabled):
        gate.check("ana", fresh=True)
    assert profiles.reads == ["ana", "ana"]
    assert GateSettings().account_check_seconds == 30


def test_the_role_comes_from_the_verified_token_only(
    jwks_server: JwksServer, test_tokens: TokenFactory
) -> None:
    verifier = CognitoVerifier(
        issuer=test_tokens.issuer, client_id=test_tokens.client_id, jwks=JwksCache(jwks_server.url)
    )
    admin = verifier.verify(test_tokens.mint(**{"parley__role": "admin"}))
    assert admin.role == "admin"
    assert admin.is_admin
    assert require_admin(admin) is admin
    member = verifier.verify(test_tokens.mint())
    assert member.role == "member"
    with pytest.raises(NotAdmin):
        require_admin(member)
    assert verifier.verify(test_tokens.mint(**{"parley__role": "superuser"})).role == "member"
    # A forged claim in a token signed by another key never gets as far as the role.
    forged = test_tokens.mint(
        key=SigningKey.generate(kid=test_tokens.key.kid), parley__role="admin"
    )
    with pytest.raises(Unauthorized):
        verifier.verify(forged)
