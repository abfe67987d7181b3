"""parley.auth against real tokens (moto's pool) and forged ones (test keys, JWKS on loopback)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest

from parley.auth import CognitoVerifier, JwksCache, TokenError, bearer_token
from parley.errors import ServiceUnavailable
from tasks.local.bootstrap import LocalResources
from tests.support.cognito import TestUser
from tests.support.token_attacks import TOKEN_ATTACKS, TokenAttack
from tests.support.tokens import JwksServer, SigningKey, TokenFactory


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Moves monotonic time forward: `clock(600)` is ten minutes later for the JWKS cache."""
    real = time.monotonic
    offset = 0.0

    def advance(seconds: float) -> None:
        nonlocal offset
        offset += seconds

    monkeypatch.setattr(time, "monotonic", lambda: real() + offset)
    return advance


def verifier_for(factory: TokenFactory, jwks_url: str, **kwargs: float) -> CognitoVerifier:
    return CognitoVerifier(
        issuer=factory.issuer, client_id=factory.client_id, jwks=JwksCache(jwks_url, **kwargs)
    )


def credential(attack: TokenAttack, factory: TokenFactory) -> str | None:
    """What the verifier is handed for a case: the header goes through `bearer_token` first."""
    return bearer_token(attack.headers(factory, "bearer")["Authorization"])


@pytest.mark.parametrize("attack", TOKEN_ATTACKS, ids=lambda a: a.name)
def test_every_token_fault_is_rejected_with_its_reason(
    attack: TokenAttack, test_tokens: TokenFactory, jwks_server: JwksServer
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url)
    require = "id" if attack.id_token_only else "any"
    with pytest.raises(TokenError) as fault:
        verifier.verify(credential(attack, test_tokens), require=require)
    assert fault.value.message == attack.message("bearer")
    assert fault.value.status == 401


def test_valid_forged_shape_tokens_pass(test_tokens: TokenFactory, jwks_server: JwksServer) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url)
    identity = verifier.verify(test_tokens.mint(), require="id")
    assert identity.sub == test_tokens.sub
    assert identity.email == test_tokens.email
    assert verifier.verify(test_tokens.mint("access")).token_use == "access"


def test_leeway_is_at_most_thirty_seconds(
    test_tokens: TokenFactory, jwks_server: JwksServer
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url)
    now = int(time.time())
    verifier.verify(test_tokens.mint(exp=now - 20))  # within leeway: clock skew tolerated
    with pytest.raises(TokenError, match="token has expired"):
        verifier.verify(test_tokens.mint(exp=now - 40))
    with pytest.raises(ValueError, match="leeway"):
        CognitoVerifier(issuer="i", client_id="c", jwks=JwksCache("http://x"), leeway=60)


def test_real_moto_tokens_verify(aws: LocalResources, user: TestUser) -> None:
    verifier = CognitoVerifier(
        issuer=aws.issuer, client_id=aws.client_id, jwks=JwksCache(aws.jwks_url)
    )
    identity = verifier.verify(user.id_token, require="id")
    assert (identity.sub, identity.email, identity.token_use) == (user.sub, user.email, "id")
    access = verifier.verify(user.access_token)
    assert (access.sub, access.token_use) == (user.sub, "access")
    with pytest.raises(TokenError, match="an id token is required"):
        verifier.verify(user.access_token, require="id")


def test_jwks_fetched_once_and_refreshed_on_unknown_kid(
    test_tokens: TokenFactory, jwks_server: JwksServer
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url, min_refresh_seconds=0.0)
    for _ in range(5):
        verifier.verify(test_tokens.mint())
    assert jwks_server.fetches == 1
    rotated = SigningKey.generate()
    jwks_server.keys.append(rotated)
    verifier.verify(test_tokens.mint(key=rotated))
    assert jwks_server.fetches == 2


def test_forged_kids_cannot_hammer_the_jwks_endpoint(
    test_tokens: TokenFactory, jwks_server: JwksServer
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url, min_refresh_seconds=60.0)
    verifier.verify(test_tokens.mint())
    for n in range(20):
        with pytest.raises(TokenError, match="unknown signing key"):
            verifier.verify(test_tokens.mint(key=SigningKey.generate(kid=f"forged-{n}")))
    assert jwks_server.fetches == 1


def test_unreachable_jwks_is_a_service_error_not_a_token_fault(
    test_tokens: TokenFactory, jwks_server: JwksServer
) -> None:
    jwks_server.fail = True
    verifier = verifier_for(test_tokens, jwks_server.url)
    for _ in range(10):
        with pytest.raises(ServiceUnavailable):
            verifier.verify(test_tokens.mint())
    assert jwks_server.fetches == 1  # asked once per retry window, not once per request


def test_a_rotated_key_set_is_picked_up(test_tokens: TokenFactory, jwks_server: JwksServer) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url, min_refresh_seconds=0.0)
    verifier.verify(test_tokens.mint())
    rotated = SigningKey.generate()
    jwks_server.keys[:] = [rotated]  # the pool retires its key and signs with a new one
    assert verifier.verify(test_tokens.mint(key=rotated)).sub == test_tokens.sub
    assert jwks_server.fetches == 2


def test_keys_are_fetched_again_after_their_lifespan(
    test_tokens: TokenFactory, jwks_server: JwksServer, clock: Callable[[float], None]
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url, lifespan=300.0)
    verifier.verify(test_tokens.mint())
    clock(299)
    verifier.verify(test_tokens.mint())
    assert jwks_server.fetches == 1
    clock(2)
    verifier.verify(test_tokens.mint())
    assert jwks_server.fetches == 2


def test_during_a_jwks_outage_old_keys_verify_and_forged_kids_fetch_at_most_once(
    test_tokens: TokenFactory, jwks_server: JwksServer, clock: Callable[[float], None]
) -> None:
    # GIVEN keys fetched an hour ago (past their lifespan and any retry window)
    verifier = verifier_for(test_tokens, jwks_server.url)
    verifier.verify(test_tokens.mint())
    clock(3600)
    # WHEN the endpoint fails and 100 tokens with random kids arrive
    jwks_server.fail = True
    for _ in range(100):
        with pytest.raises(TokenError, match="unknown signing key"):
            verifier.verify(test_tokens.mint(headers={"kid": uuid.uuid4().hex}))
    # THEN the endpoint was asked at most once, and the old key still verifies
    assert jwks_server.fetches - 1 <= 1
    assert verifier.verify(test_tokens.mint(), require="id").sub == test_tokens.sub
    for attack in ("expired", "wrong_issuer", "wrong_client_id", "wrong_token_use"):
        case = next(a for a in TOKEN_ATTACKS if a.name == attack)
        with pytest.raises(TokenError, match=case.reason):
            verifier.verify(credential(case, test_tokens))
    with pytest.raises(TokenError, match="signature verification failed"):
        verifier.verify(test_tokens.mint(key=SigningKey.generate(kid=test_tokens.key.kid)))
    assert jwks_server.fetches - 1 <= 1
    # AND once the endpoint is back and the retry window has passed, a new key is picked up
    jwks_server.fail = False
    rotated = SigningKey.generate()
    jwks_server.keys.append(rotated)
    clock(60)
    assert verifier.verify(test_tokens.mint(key=rotated)).sub == test_tokens.sub


def test_kind_renaming_for_the_compatible_header() -> None:
    error = TokenError("token has expired").as_kind("id_token")
    assert error.message == "Invalid id_token: token has expired"
