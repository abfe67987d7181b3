"""Federated sign-in on the whole local stack: the stand-in of Cognito's hosted endpoints
(tasks/local/hosted_ui.py) in front of the stand-in OIDC provider (oidc-provider-mock).

Each step is driven as a browser would drive it (redirects read one at a time). The stand-in is
held to be stricter than Cognito: a wrong PKCE verifier, a redirect_uri that is not a callback
URL, a code used twice (also at once) or late, a missing S256 challenge and a forged `state`
at the provider are all refused; the happy path gives moto-signed tokens the API accepts, with
the attempt's nonce, and the user's profile is made on their first request (no
post-confirmation trigger runs for a federated user, in Cognito or here).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import jwt
import pytest

from tasks.local.bootstrap import FAKE_CREDENTIALS
from tasks.local.hosted_ui import LOCAL_PROVIDER
from tasks.local.stack import LocalStack, StackConfig

pytestmark = pytest.mark.slow
TIMEOUT = 30.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = StackConfig(
        model="scripted",
        log_dir=tmp_path_factory.mktemp("logs"),
        scripted_token_delay=0.0,
        stream_window=0,
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture
def web() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        yield client


def _s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


class Attempt:
    def __init__(self, stack: LocalStack) -> None:
        self.hosted = stack.info["federation"]["hostedUrl"]
        self.app = f"{stack.info['appUrl']}/"
        self.client_id = stack.info["clientId"]
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(16)
        self.nonce = secrets.token_urlsafe(16)

    def authorize_params(self, **overrides: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.app,
            "identity_provider": LOCAL_PROVIDER["name"],
            "scope": "openid email profile",
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": _s256(self.verifier),
            "code_challenge_method": "S256",
            **overrides,
        }
        return {k: v for k, v in params.items() if v is not None}


def _query(location: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def _sign_in_at_provider(web: httpx.Client, attempt: Attempt, email: str) -> str:
    """authorize → the provider's page → its answer to the hosted stand-in: the app URL Cognito
    would send the browser to (with code and state, or an error)."""
    to_provider = web.get(f"{attempt.hosted}/oauth2/authorize", params=attempt.authorize_params())
    assert to_provider.status_code == 302, to_provider.text
    provider_url = to_provider.headers["location"]
    page = web.get(provider_url)
    assert page.status_code == 200
    assert "Authorize" in page.text
    answered = web.post(provider_url, data={"sub": email})
    assert answered.status_code == 302, answered.text
    back = web.get(answered.headers["location"])
    assert back.status_code == 302, back.text
    return str(back.headers["location"])


def _code(web: httpx.Client, attempt: Attempt, email: str) -> str:
    location = _sign_in_at_provider(web, attempt, email)
    assert location.startswith(attempt.app), location
    query = _query(location)
    assert query["state"] == attempt.state, "state comes back unchanged"
    return query["code"]


def _exchange(web: httpx.Client, attempt: Attempt, code: str, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "client_id": attempt.client_id,
        "code": code,
        "redirect_uri": attempt.app,
        "code_verifier": attempt.verifier,
        **overrides,
    }
    return web.post(f"{attempt.hosted}/oauth2/token", data=form)


def _email() -> str:
    return f"fed-{uuid.uuid4().hex[:10]}@example.com"


def _profile_item(stack: LocalStack, sub: str) -> dict[str, Any] | None:
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=stack.info["motoUrl"], region_name=stack.info["region"],
        **FAKE_CREDENTIALS,
    )  # fmt: skip
    found = dynamodb.get_item(
        TableName=stack.resources.chat_table,
        Key={"pk": {"S": f"USER#{sub}"}, "sk": {"S": "PROFILE"}},
        ConsistentRead=True,
    )
    item: dict[str, Any] | None = found.get("Item")
    return item


def test_the_code_flow_gives_tokens_the_api_accepts_and_a_profile_on_first_request(
    stack: LocalStack, web: httpx.Client
) -> None:
    attempt = Attempt(stack)
    email = _email()
    tokens = _exchange(web, attempt, _code(web, attempt, email))
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["cache-control"] == "no-store"
    body = tokens.json()
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["nonce"] == attempt.nonce
    assert claims["aud"] == attempt.client_id
    assert claims["iss"].endswith(f"/{stack.info['userPoolId']}")
    assert claims["email"] == email
    assert claims["identities"][0]["providerName"] == LOCAL_PROVIDER["name"]
    # No post-confirmation trigger ran: the profile is made by the API on first sight.
    assert _profile_item(stack, claims["sub"]) is None
    api = httpx.Client(base_url=stack.info["httpApiUrl"], timeout=TIMEOUT)
    # Several first requests at once (the app loads its lists together): each answers, one profile.
    firsts: list[httpx.Response] = []
    barrier = threading.Barrier(3)

    def first_request() -> None:
        with httpx.Client(base_url=stack.info["httpApiUrl"], timeout=TIMEOUT) as client:
            barrier.wait()
            firsts.append(
                client.get("/me", headers={"Authorization": f"Bearer {body['id_token']}"})
            )

    threads = [threading.Thread(target=first_request) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in firsts] == [200, 200, 200], [r.text for r in firsts]
    assert {r.json()["id"] for r in firsts} == {claims["sub"]}
    me = api.get("/me", headers={"Authorization": f"Bearer {body['id_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email
    assert _profile_item(stack, claims["sub"]) is not None
    # The same person again: the same pool user, no second profile.
    again = Attempt(stack)
    second = _exchange(web, again, _code(web, again, email)).json()
    again_claims = jwt.decode(second["id_token"], options={"verify_signature": False})
    assert again_claims["sub"] == claims["sub"]
    assert again_claims["nonce"] == again.nonce
    assert (
        api.get("/me", headers={"Authorization": f"Bearer {second['id_token']}"}).json()["id"]
        == me.json()["id"]
    )


def test_a_wrong_verifier_is_refused_and_spends_the_code(
    stack: LocalStack, web: httpx.Client
) -> None:
    attempt = Attempt(stack)
    code = _code(web, attempt, _email())
    wrong = _exchange(web, attempt, code, code_verifier=secrets.token_urlsafe(48))
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant"}
    assert _exchange(web, attempt, code).json() == {"error": "invalid_grant"}


def test_a_plain_challenge_or_none_is_refused(stack: LocalStack, web: httpx.Client) -> None:
    attempt = Attempt(stack)
    for overrides in (
        {"code_challenge_method": "plain"},
        {"code_challenge": None, "code_challenge_method": None},
    ):
        answer = web.get(
            f"{attempt.hosted}/oauth2/authorize", params=attempt.authorize_params(**overrides)
        )
        assert answer.status_code == 302
        query = _query(answer.headers["location"])
        assert answer.headers["location"].startswith(attempt.app)
        assert query["error"] == "invalid_request"
        assert query["state"] == attempt.state


@pytest.mark.parametrize(
    "redirect_uri",
    ["https://attacker.example/", "{app}callback", "{app}?next=x", "{app_no_slash}"],
)
def test_a_redirect_uri_other_than_a_callback_url_is_refused_without_a_redirect(
    stack: LocalStack, web: httpx.Client, redirect_uri: str
) -> None:
    attempt = Attempt(stack)
    uri = redirect_uri.format(app=attempt.app, app_no_slash=attempt.app.rstrip("/"))
    answer = web.get(
        f"{attempt.hosted}/oauth2/authorize", params=attempt.authorize_params(redirect_uri=uri)
    )
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_the_token_request_must_name_the_same_redirect_uri_and_client(
    stack: LocalStack, web: httpx.Client
) -> None:
    attempt = Attempt(stack)
    code = _code(web, attempt, _email())
    assert (
        _exchange(web, attempt, code, redirect_uri="https://attacker.example/").status_code == 400
    )
    other = Attempt(stack)
    code = _code(web, other, _email())
    assert _exchange(web, other, code, client_id="another-client").status_code == 401


def test_a_code_works_once_even_when_used_at_once(stack: LocalStack, web: httpx.Client) -> None:
    attempt = Attempt(stack)
    code = _code(web, attempt, _email())
    answers: list[int] = []
    barrier = threading.Barrier(4)

    def exchange() -> None:
        with httpx.Client(timeout=TIMEOUT) as client:
            barrier.wait()
            answers.append(_exchange(client, attempt, code).status_code)

    threads = [threading.Thread(target=exchange) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 400, 400, 400]
    assert _exchange(web, attempt, code).status_code == 400


def test_a_code_expires(stack: LocalStack, web: httpx.Client) -> None:
    attempt = Attempt(stack)
    code = _code(web, attempt, _email())
    hosted = stack.hosted_ui
    real_clock = hosted.clock
    hosted.clock = lambda: real_clock() + hosted.code_ttl + 1
    try:
        assert _exchange(web, attempt, code).json() == {"error": "invalid_grant"}
    finally:
        hosted.clock = real_clock


def test_a_forged_state_at_the_provider_finds_no_sign_in(
    stack: LocalStack, web: httpx.Client
) -> None:
    """The provider's answer is matched to the attempt by the stand-in's own state: a forged or
    replayed one is refused, and the app's `state` goes back unchanged (the app checks it)."""
    forged = web.get(f"{stack.info['federation']['hostedUrl']}/oauth2/idpresponse",
                     params={"code": "x", "state": "forged"})  # fmt: skip
    assert forged.status_code == 400
    assert "location" not in forged.headers


def test_a_refusal_at_the_provider_comes_back_as_access_denied(
    stack: LocalStack, web: httpx.Client
) -> None:
    attempt = Attempt(stack)
    to_provider = web.get(f"{attempt.hosted}/oauth2/authorize", params=attempt.authorize_params())
    denied = web.post(to_provider.headers["location"], data={"action": "deny"})
    back = web.get(denied.headers["location"])
    query = _query(back.headers["location"])
    assert back.headers["location"].startswith(attempt.app)
    assert query["error"] == "access_denied"
    assert query["state"] == attempt.state


def test_a_password_account_is_not_taken_over_by_the_provider(
    stack: LocalStack, web: httpx.Client
) -> None:
    from tests.support.cognito import create_user

    email = _email()
    create_user(stack.resources, email)
    attempt = Attempt(stack)
    query = _query(_sign_in_at_provider(web, attempt, email))
    assert query["error"] == "access_denied"
    assert "code" not in query


def test_logout_goes_back_only_to_a_sign_out_url(stack: LocalStack, web: httpx.Client) -> None:
    attempt = Attempt(stack)
    ok = web.get(
        f"{attempt.hosted}/logout",
        params={"client_id": attempt.client_id, "logout_uri": attempt.app},
    )
    assert ok.status_code == 302
    assert ok.headers["location"] == attempt.app
    elsewhere = {"client_id": attempt.client_id, "logout_uri": "https://attacker.example/"}
    bad = web.get(f"{attempt.hosted}/logout", params=elsewhere)
    assert bad.status_code == 400
    assert "location" not in bad.headers


def test_config_json_lists_the_stand_in_provider(stack: LocalStack, web: httpx.Client) -> None:
    config = web.get(f"{stack.info['appUrl']}/config.json").json()
    assert config["oauth"] == {
        "domain": stack.info["federation"]["hostedUrl"],
        "providers": [LOCAL_PROVIDER],
    }
