"""The token attack suite against every chat_api route: each fault a 401 with its reason.

Forged tokens are signed with moto's own key, so everything but the fault under test is
valid for the pool; nothing may be written, and the model is never called.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
import yaml

from tasks.local.bootstrap import ROOT, LocalResources, bootstrap
from tasks.local.scripted_model import ScriptedModel
from tests.support.api import call
from tests.support.environment import clear_parley_caches, function_env
from tests.support.moto_server import MotoServer
from tests.support.token_attacks import TOKEN_ATTACKS, TokenAttack
from tests.support.tokens import TokenFactory, moto_signing_key

ROUTES = [
    trigger["route"]
    for trigger in yaml.safe_load((ROOT / "functions" / "manifest.yaml").read_text())["functions"][
        "chat_api"
    ]["triggers"]["http"]
]
SAMPLE_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


@pytest.fixture(scope="module")
def pool(moto_server: MotoServer, scripted_model_server: ScriptedModel) -> Iterator[LocalResources]:
    """One pool for the module (its own table names), configured as chat_api's environment."""
    resources = bootstrap(moto_server.url, prefix=f"attacks-{uuid.uuid4().hex[:8]}-")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in function_env(
            resources, model_base_url=scripted_model_server.base_url
        ).items():
            patch.setenv(name, value)
        clear_parley_caches()
        yield resources
    clear_parley_caches()


def concrete(route: str) -> tuple[str, str]:
    method, path = route.split(" ")
    return method, path.replace("{id}", SAMPLE_ID).replace("{userId}", "someone")


@pytest.mark.parametrize("attack", TOKEN_ATTACKS, ids=lambda a: a.name)
def test_every_route_rejects_the_fault(
    attack: TokenAttack, pool: LocalResources, scripted_model_server: ScriptedModel
) -> None:
    from chat_api.app import handler

    factory = TokenFactory(issuer=pool.issuer, client_id=pool.client_id, key=moto_signing_key())
    requests_before = len(scripted_model_server.completions())
    checked = 0
    for route in ROUTES:
        style = "id_token" if route == "POST /chat" else "bearer"
        if attack.id_token_only and style != "id_token":
            continue
        method, path = concrete(route)
        body = (
            {"prompt": "hi"}
            if route == "POST /chat"
            else (
                {"content": "hi", "title": "t", "email": "a@b.co"}
                if method in ("POST", "PATCH")
                else None
            )
        )
        answer = call(handler, method, path, headers=attack.headers(factory, style), body=body)
        assert answer.status == 401, (route, answer.text)
        message = attack.message(style)
        if route == "POST /chat":
            assert answer.json == {"error": message}, route
        else:
            assert answer.json["error"]["code"] == "unauthorized", route
            assert answer.json["error"]["message"] == message, route
        checked += 1
    assert checked >= 1
    assert len(scripted_model_server.completions()) == requests_before
    table = boto3.resource("dynamodb").Table(pool.chat_table)
    assert table.scan(Select="COUNT")["Count"] == 0


def test_the_same_forged_shape_with_no_fault_is_accepted(pool: LocalResources) -> None:
    """The control case: the suite's tokens fail for their fault, not for how they are made."""
    from chat_api.app import handler

    factory = TokenFactory(issuer=pool.issuer, client_id=pool.client_id, key=moto_signing_key())
    for token in (factory.mint(), factory.mint("access")):
        answer = call(
            handler, "GET", "/conversations", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status == 200, answer.text
    answer = call(handler, "GET", "/conversations", headers={"Authorization": f"Bearer {token}"})
    assert answer.json == {"items": [], "nextCursor": None}
