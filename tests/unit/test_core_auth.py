"""parley.auth against real tokens (moto's pool) and forged ones (test keys, JWKS on loopback)."""

from __future__ import annotations

import time

import pytest

from parley.auth import CognitoVerifier, JwksCache, TokenError, bearer_token
from parley.errors import ServiceUnavailable
from tasks.local.bootstrap import LocalResources
from tests.support.cognito import TestUser
from tests.support.token_attacks import TOKEN_ATTACKS, TokenAttack
from tests.support.tokens import JwksServer, SigningKey, TokenFactory


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
    with pytest.raises(ServiceUnavailable):
        verifier.verify(test_tokens.mint())


def test_kind_renaming_for_the_compatible_header() -> None:
    error = TokenError("token has expired").as_kind("id_token")
    assert error.message == "Invalid id_token: token has expired"
