"""parley.auth against real tokens (moto's pool) and forged ones (test keys, JWKS on loopback)."""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from parley.auth import MAX_TOKEN_BYTES, CognitoVerifier, JwksCache, TokenError, bearer_token
from parley.errors import ServiceUnavailable
from tasks.local.bootstrap import LocalResources
from tests.support.cognito import TestUser
from tests.support.token_attacks import TOKEN_ATTACKS, TokenAttack
from tests.support.tokens import JwksServer, SigningKey, TokenFactory


@pytest.fixture(scope="module")
def jwks_endpoint(test_key: SigningKey) -> Iterator[JwksServer]:
    server = JwksServer([test_key]).start()
    yield server
    server.stop()


@pytest.fixture
def jwks_server(jwks_endpoint: JwksServer, test_key: SigningKey) -> JwksServer:
    """The shared `jwks_server` reset for each test: one endpoint per module instead of one per
    test, since stopping one takes half a second (this module is also the mutation run's)."""
    jwks_endpoint.keys[:] = [test_key]
    jwks_endpoint.fetches = 0
    jwks_endpoint.fail = False
    return jwks_endpoint


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
    for leeway in (0, 30):
        CognitoVerifier(issuer="i", client_id="c", jwks=JwksCache("http://x"), leeway=leeway)
    for leeway in (-1, 31, 60):
        with pytest.raises(ValueError, match="leeway"):
            CognitoVerifier(issuer="i", client_id="c", jwks=JwksCache("http://x"), leeway=leeway)


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
            verifier.verify(test_tokens.mint(headers={"kid": f"forged-{n}"}))
    assert jwks_server.fetches == 1


def test_unreachable_jwks_is_a_service_error_not_a_token_fault(
    test_tokens: TokenFactory, jwks_server: JwksServer
) -> None:
    jwks_server.fail = True
    verifier = verifier_for(test_tokens, jwks_server.url)
    for _ in range(10):
        with pytest.raises(
            ServiceUnavailable, match=r"^Sign-in keys are unavailable, please retry$"
        ):
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
    verifier = verifier_for(test_tokens, jwks_server.url, lifespan=60.0)
    verifier.verify(test_tokens.mint())
    clock(59)
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
    # AND once the endpoint is back and the retry window (10 s) has passed, a new key is used
    jwks_server.fail = False
    rotated = SigningKey.generate()
    jwks_server.keys.append(rotated)
    clock(10)
    assert verifier.verify(test_tokens.mint(key=rotated)).sub == test_tokens.sub


def test_kind_renaming_for_the_compatible_header() -> None:
    error = TokenError("token has expired").as_kind("id_token")
    assert error.message == "Invalid id_token: token has expired"


# The cases below were found by `invoke mutate`: each kills mutants of parley.auth that the
# attack suite let through.


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "token is missing"),
        ("", "token is missing"),
        ("   ", "token is missing"),
        ("Bearer   ", "token is missing"),
        ("Basic dXNlcjpwdw==", "expected a Bearer token"),
        ("bearer abc", None),
    ],
)
def test_bearer_token_reads_the_header(header: str | None, reason: str | None) -> None:
    if reason is None:
        assert bearer_token(header) == "abc"
        return
    with pytest.raises(TokenError) as fault:
        bearer_token(header)
    assert fault.value.message == f"Invalid token: {reason}"


@pytest.mark.parametrize("token", [None, "", "   "])
def test_an_absent_token_is_refused_before_any_key_is_fetched(
    test_tokens: TokenFactory, jwks_server: JwksServer, token: str | None
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url)
    with pytest.raises(TokenError) as fault:
        verifier.verify(token)
    assert fault.value.message == "Invalid token: token is missing"
    assert jwks_server.fetches == 0


def sized_token(factory: TokenFactory, size: int) -> str:
    """A valid token exactly `size` characters long (padded with a claim and a header field)."""
    bare = len(factory.mint(pad=""))
    start = max(0, (size - bare) * 3 // 4 - 8)  # a claim's character is 4/3 of a token's
    for extra in range(8):
        for pad in range(start, size):
            token = factory.mint(headers={"x": "y" * extra}, pad="p" * pad)
            if len(token) == size:
                return token
            if len(token) > size:
                break
    raise AssertionError(f"no token of {size} characters")


def test_a_token_over_the_size_limit_is_refused_before_any_key_is_fetched(
    test_tokens: TokenFactory, jwks_server: JwksServer
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url)
    with pytest.raises(TokenError) as fault:
        verifier.verify(sized_token(test_tokens, MAX_TOKEN_BYTES + 1))
    assert fault.value.message == "Invalid token: malformed token"
    assert jwks_server.fetches == 0
    assert verifier.verify(sized_token(test_tokens, MAX_TOKEN_BYTES)).sub == test_tokens.sub


def signed(factory: TokenFactory, header: dict[str, object]) -> str:
    """A token signed by the factory's key with exactly this header (PyJWT's encoder insists
    on a string kid, so it is assembled by hand)."""
    segments = [
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in ({"alg": "RS256", "typ": "JWT", **header}, factory.claims())
    ]
    signing_input = ".".join(segments).encode()
    signature = factory.key.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({}, "unknown signing key"),
        ({"kid": ""}, "unknown signing key"),
        ({"kid": 7}, "malformed token"),
    ],
    ids=["absent", "empty", "number"],
)
def test_a_token_without_a_usable_kid_is_refused_without_a_fetch(
    test_tokens: TokenFactory, jwks_server: JwksServer, header: dict[str, object], reason: str
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url, min_refresh_seconds=0.0)
    with pytest.raises(TokenError) as fault:
        verifier.verify(signed(test_tokens, header))
    assert fault.value.message == f"Invalid token: {reason}"
    assert jwks_server.fetches == 0
    verifier.verify(signed(test_tokens, {"kid": test_tokens.key.kid}))  # the same, with its kid


@pytest.mark.parametrize(
    ("token_use", "claims", "accepted"),
    [
        ("id", {"aud": "test-client-id-evil"}, False),  # contains the client id: not it
        ("id", {"aud": "test-client"}, False),  # is contained in it: not it either
        ("id", {"aud": ["another-client", "test-client-id"]}, True),
        ("id", {"aud": ["another-client"]}, False),
        ("access", {"client_id": "test-client-id-evil"}, False),
        ("access", {"client_id": ["test-client-id"]}, False),
    ],
)
def test_the_audience_is_the_client_exactly(
    test_tokens: TokenFactory,
    jwks_server: JwksServer,
    token_use: str,
    claims: dict[str, object],
    accepted: bool,
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url)
    token = test_tokens.mint(token_use, **claims)
    if accepted:
        assert verifier.verify(token).sub == test_tokens.sub
        return
    with pytest.raises(TokenError, match="wrong audience"):
        verifier.verify(token)


@pytest.mark.parametrize(
    ("sub", "reason"),
    [("", "missing required claim 'sub'"), (123, "token is not valid")],
    ids=["empty", "number"],
)
def test_a_sub_that_names_no_one_is_refused(
    test_tokens: TokenFactory, jwks_server: JwksServer, sub: object, reason: str
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url)
    for token_use in ("id", "access"):
        with pytest.raises(TokenError) as fault:
            verifier.verify(test_tokens.mint(token_use, sub=sub))
        assert fault.value.message == f"Invalid token: {reason}"


def test_the_identity_carries_the_claims_the_product_reads(
    test_tokens: TokenFactory, jwks_server: JwksServer
) -> None:
    verifier = verifier_for(test_tokens, jwks_server.url)
    token = test_tokens.mint(name="Ada", cognito__username="ada-login", username="other")
    identity = verifier.verify(token, require="id")
    assert (identity.name, identity.username) == ("Ada", "ada-login")
    assert identity.claims == jwt.decode(token, options={"verify_signature": False})
    access = verifier.verify(test_tokens.mint("access", username="ada-login"))
    assert (access.name, access.email, access.username) == (None, None, "ada-login")
    assert access.claims["client_id"] == test_tokens.client_id


def test_a_jwks_url_that_is_not_http_is_a_service_error() -> None:
    with pytest.raises(ServiceUnavailable, match=r"^Sign-in keys are misconfigured$"):
        JwksCache("file:///etc/passwd")


@pytest.mark.timeout(20)  # gives up after its own timeout (0.2 s), not PyJWT's default 30 s
def test_a_jwks_endpoint_that_never_answers_is_a_service_error(
    test_tokens: TokenFactory,
) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        host, port = silent.getsockname()
        jwks = JwksCache(f"http://{host}:{port}/.well-known/jwks.json", timeout=0.2)
        verifier = CognitoVerifier(issuer=test_tokens.issuer, client_id="c", jwks=jwks)
        with pytest.raises(ServiceUnavailable, match="unavailable"):
            verifier.verify(test_tokens.mint())
