"""The admin console in process against moto: the role gate on every route of the manifest, the
quota override, disabling and enabling (HTTP, Cognito, sockets), totals and the audit log."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tasks.core.manifest import load_manifest
from tasks.local.bootstrap import LocalResources, clients
from tests.support.api import ApiResponse
from tests.support.cognito import TestUser
from tests.support.connections_endpoint import ConnectionsEndpoint
from tests.support.environment import clear_parley_caches
from tests.support.events import LambdaContext, http_event
from tests.support.tokens import SigningKey, TokenFactory

ADMIN_ROUTES = sorted(route.route for route in load_manifest().functions["admin_api"].triggers.http)
BODIES: dict[str, Any] = {"PUT /admin/users/{id}/quota": {"dailyTokens": 10}}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def env(
    parley_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ConnectionsEndpoint]:
    """The functions' environment; the disabled check reads on every call (a cold container),
    and the management API is a loopback stand-in that records closed connections."""
    with ConnectionsEndpoint() as server:
        monkeypatch.setenv("WS_MANAGEMENT_ENDPOINT", server.url)
        monkeypatch.setenv("ACCOUNT_CHECK_SECONDS", "0")
        clear_parley_caches()
        yield server
    clear_parley_caches()


def admin_call(
    method: str, path: str, token: str | None, body: Any = None, **kw: Any
) -> ApiResponse:
    from admin_api.app import handler

    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    event = http_event(method, path, route=f"{method} {path}", body=body, headers=headers, **kw)
    result = handler(event, LambdaContext("admin_api"))
    return ApiResponse(
        int(result["statusCode"]), result.get("headers") or {}, result.get("body") or ""
    )


def chat_call(
    method: str, path: str, user: TestUser, token: str | None = None, **kw: Any
) -> ApiResponse:
    from chat_api.app import handler

    event = http_event(method, path, route=f"{method} {path}", headers=user.bearer(token), **kw)
    result = handler(event, LambdaContext("chat_api"))
    return ApiResponse(
        int(result["statusCode"]), result.get("headers") or {}, result.get("body") or ""
    )


@pytest.fixture
def admin(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user("admin@example.com", name="Ada Admin")


@pytest.fixture
def admin_token(moto_tokens: TokenFactory, admin: TestUser) -> str:
    """An ID token as the pre-token-generation trigger makes it for an `admins` member (signed
    with moto's own key: trusted as the pool's)."""
    return moto_tokens.mint(sub=admin.sub, email=admin.email, **{"parley__role": "admin"})


def _path(route: str, target: TestUser) -> tuple[str, str]:
    method, path = route.split(" ", 1)
    return method, path.replace("{id}", target.sub)


# -- the gate -------------------------------------------------------------------------------------
def test_the_manifest_lists_the_console_routes() -> None:
    assert len(ADMIN_ROUTES) == 8
    assert all(r.split(" ", 1)[1].startswith("/admin/") for r in ADMIN_ROUTES)


@pytest.mark.parametrize("route", ADMIN_ROUTES)
def test_every_admin_route_is_for_admins_only(
    route: str,
    env: ConnectionsEndpoint,
    admin_token: str,
    user: TestUser,
    moto_tokens: TokenFactory,
) -> None:
    method, path = _path(route, user)
    body = BODIES.get(route)
    forged = moto_tokens.claims(sub=user.sub, email=user.email, **{"parley__role": "admin"})

    # A member (a real token of the pool, no role claim) is refused, and so is a wrong role.
    member = admin_call(method, path, user.id_token, body)
    assert member.status == 403, member.text
    assert member.json["error"]["code"] == "forbidden"
    other_role = moto_tokens.mint(sub=user.sub, email=user.email, **{"parley__role": "Admin"})
    assert admin_call(method, path, other_role, body).status == 403
    # The claim forged into an unsigned token, or one re-signed with another key: 401.
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': moto_tokens.key.kid})}.{_b64(forged)}."
    assert admin_call(method, path, unsigned, body).status == 401
    resigned = moto_tokens.mint(
        key=SigningKey.generate(kid=moto_tokens.key.kid),
        sub=user.sub,
        email=user.email,
        **{"parley__role": "admin"},
    )
    assert admin_call(method, path, resigned, body).status == 401
    header, _, signature = moto_tokens.mint(sub=user.sub, email=user.email).split(".")
    tampered = f"{header}.{_b64(forged)}.{signature}"
    assert admin_call(method, path, tampered, body).status == 401
    expired = moto_tokens.mint(
        sub=user.sub, email=user.email, exp=1_000_000, iat=999_000, **{"parley__role": "admin"}
    )
    assert admin_call(method, path, expired, body).status == 401
    assert admin_call(method, path, None, body).status == 401
    # Nothing was changed by the refused calls.
    assert admin_call("GET", "/admin/audit", admin_token).json["items"] == []

    # An admin passes.
    answer = admin_call(method, path, admin_token, body)
    assert answer.status == 200, answer.text


def test_a_disabled_admin_is_refused_too(
    env: ConnectionsEndpoint, admin: TestUser, admin_token: str
) -> None:
    from parley.store import get_store

    get_store().profiles.ensure(admin.sub, admin.email)
    get_store().profiles.table.update_item(
        Key={"pk": f"USER#{admin.sub}", "sk": "PROFILE"},
        UpdateExpression="SET disabled = :t",
        ExpressionAttributeValues={":t": True},
    )
    answer = admin_call("GET", "/admin/users", admin_token)
    assert answer.status == 401
    assert answer.json["error"]["message"] == "This account is disabled"


# -- listing ------------------------------------------------------------------------------------
def test_users_are_listed_searched_and_paged(
    env: ConnectionsEndpoint, admin: TestUser, admin_token: str, make_user: Callable[..., TestUser]
) -> None:
    for n in range(3):
        make_user(f"zed{n}@example.com")
    make_user("yan@example.com")
    found = admin_call("GET", "/admin/users", admin_token, query={"q": "Zed"})
    assert found.status == 200, found.text
    emails = sorted(u["email"] for u in found.json["items"])
    assert emails == ["zed0@example.com", "zed1@example.com", "zed2@example.com"]
    one = found.json["items"][0]
    assert one["status"] == "enabled"
    assert one["confirmed"] is True
    assert one["quotaOverride"] is None
    assert one["activity"]["today"]["messages"] == 0
    assert one["lastActiveDay"] is None
    assert one["createdAt"].endswith("Z")
    assert len(one["createdAt"]) == len("2026-12-03T10:00:00.000Z")

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = admin_call("GET", "/admin/users", admin_token, query=query)
        assert page.status == 200, page.text
        seen += [u["email"] for u in page.json["items"]]
        cursor = page.json["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(
        [admin.email, "zed0@example.com", "zed1@example.com", "zed2@example.com", "yan@example.com"]
    )
    bad = admin_call("GET", "/admin/users", admin_token, query={"q": 'a" or email ^= "'})
    assert bad.status == 400
    assert admin_call("GET", "/admin/users/not-a-user", admin_token).status == 404
    assert admin_call("GET", "/admin/users/bad%20id", admin_token).status in (404, 422)


# -- quota ------------------------------------------------------------------------------------
def test_a_quota_override_replaces_the_default_and_clearing_it_restores_it(
    env: ConnectionsEndpoint, admin_token: str, user: TestUser
) -> None:
    from parley.errors import QuotaExceeded
    from parley.ids import new_ulid, today
    from parley.models import Usage
    from parley.quota import Quota
    from parley.store import get_store

    store = get_store()
    quota = Quota(store, daily_tokens=0, max_output_tokens=10)
    store.usage.add(user.sub, today(), Usage(input_tokens=30, output_tokens=20))

    answer = admin_call("PUT", f"/admin/users/{user.sub}/quota", admin_token, {"dailyTokens": 50})
    assert answer.status == 200, answer.text
    assert answer.json["quotaOverride"] == 50
    assert answer.json["dailyTokenQuota"] == 50
    with pytest.raises(QuotaExceeded) as refused:
        quota.claim(user.sub, "conv-1", new_ulid(), "hello")
    assert "quota of 50 tokens" in refused.value.message
    assert quota.limit_for(user.sub) == 50

    # A larger override lets the claim through; clearing it restores the default (unlimited).
    admin_call("PUT", f"/admin/users/{user.sub}/quota", admin_token, {"dailyTokens": 1000})
    claim = quota.claim(user.sub, "conv-1", new_ulid(), "hello")
    quota.release(claim)
    admin_call("PUT", f"/admin/users/{user.sub}/quota", admin_token, {"dailyTokens": 50})
    cleared = admin_call("DELETE", f"/admin/users/{user.sub}/quota", admin_token)
    assert cleared.status == 200, cleared.text
    assert cleared.json["quotaOverride"] is None
    assert cleared.json["dailyTokenQuota"] == 0
    quota.release(quota.claim(user.sub, "conv-2", new_ulid(), "hello"))
    assert quota.limit_for(user.sub) == 0

    for wrong in ({"dailyTokens": -1}, {"dailyTokens": "x"}, {}, {"dailyTokens": 5, "more": 1}):
        assert admin_call("PUT", f"/admin/users/{user.sub}/quota", admin_token, wrong).status == 422


def test_a_quota_changed_meanwhile_is_a_conflict_and_records_nothing(
    env: ConnectionsEndpoint, admin_token: str, user: TestUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from admin_api.routes import console

    console().store.profiles.ensure(user.sub, user.email)
    real_get = console().store.profiles.get

    def stale(user_id: str, *, consistent: bool = False) -> Any:
        seen = real_get(user_id, consistent=consistent)
        # another admin sets a quota between this read and the write
        console().store.profiles.table.update_item(
            Key={"pk": f"USER#{user_id}", "sk": "PROFILE"},
            UpdateExpression="SET daily_token_quota = :q",
            ExpressionAttributeValues={":q": 7},
        )
        return seen

    monkeypatch.setattr(console().store.profiles, "get", stale)
    answer = admin_call("PUT", f"/admin/users/{user.sub}/quota", admin_token, {"dailyTokens": 9})
    assert answer.status == 409, answer.text
    monkeypatch.undo()
    assert admin_call("GET", "/admin/audit", admin_token).json["items"] == []


# -- disable and enable ------------------------------------------------------------------------
def test_disabling_refuses_the_users_tokens_closes_their_sockets_and_enabling_restores(
    env: ConnectionsEndpoint,
    aws: LocalResources,
    admin: TestUser,
    admin_token: str,
    user: TestUser,
) -> None:
    from parley.services import connections_repository

    _, cognito, _ = clients(aws.endpoint_url, aws.region)
    assert chat_call("GET", "/conversations", user).status == 200
    connections = connections_repository()
    for connection_id in ("conn-a", "conn-b"):
        connections.connect(connection_id, user.sub, "User")
    connections.connect("conn-other", admin.sub, "Ada")

    answer = admin_call("POST", f"/admin/users/{user.sub}/disable", admin_token)
    assert answer.status == 200, answer.text
    assert answer.json["status"] == "disabled"
    assert sorted(env.deleted) == ["conn-a", "conn-b"]  # the admin's own socket stays
    refused = chat_call("GET", "/conversations", user)
    assert refused.status == 401
    assert refused.json["error"]["message"] == "This account is disabled"
    assert chat_call("GET", "/conversations", user, token=user.access_token).status == 401
    from chat_api.app import handler

    compat = handler(
        http_event(
            "POST",
            "/chat",
            route="POST /chat",
            headers={"id_token": user.id_token},
            body={"prompt": "hi"},
        ),
        LambdaContext("chat_api"),
    )
    assert compat["statusCode"] == 401
    got = cognito.admin_get_user(UserPoolId=aws.user_pool_id, Username=user.email)
    assert got["Enabled"] is False
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(
            ClientId=aws.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user.email, "PASSWORD": user.password},
        )

    # A repeat changes nothing and records nothing; the admin cannot disable themselves.
    assert admin_call("POST", f"/admin/users/{user.sub}/disable", admin_token).status == 200
    own = admin_call("POST", f"/admin/users/{admin.sub}/disable", admin_token)
    assert own.status == 409
    assert chat_call("GET", "/conversations", admin).status == 200

    enabled = admin_call("POST", f"/admin/users/{user.sub}/enable", admin_token)
    assert enabled.status == 200, enabled.text
    assert enabled.json["status"] == "enabled"
    assert chat_call("GET", "/conversations", user).status == 200
    assert cognito.admin_get_user(UserPoolId=aws.user_pool_id, Username=user.email)["Enabled"]
    actions = [e["action"] for e in admin_call("GET", "/admin/audit", admin_token).json["items"]]
    assert actions == ["user.enabled", "user.disabled"]


def test_a_disabled_users_websocket_connect_and_actions_are_refused(
    env: ConnectionsEndpoint, admin_token: str, user: TestUser
) -> None:
    from parley.realtime.connection import connect
    from parley.realtime.events import Caller
    from parley.services import connections_repository, rooms
    from parley.store import get_store

    connections = connections_repository()
    admin_call("POST", f"/admin/users/{user.sub}/disable", admin_token)
    # A connection whose $connect raced the disable: its first action is refused, and closed.
    connections.connect("conn-1", user.sub, "User")
    who = Caller(connection_id="conn-1", user_id=user.sub, email=user.email, name="User")
    frame = json.dumps({"action": "subscribe", "conversationId": "01J" + "A" * 23})
    rooms().handle(who, frame, "req-1")
    frames = [json.loads(f) for f in env.frames("conn-1")]
    assert frames[-1]["type"] == "error"
    assert frames[-1]["code"] == "unauthorized"
    assert env.deleted == ["conn-1"]
    # A new connection is refused at $connect (the profile read strongly).
    connect_event = {
        "requestContext": {
            "connectionId": "conn-2",
            "routeKey": "$connect",
            "authorizer": {"userId": user.sub, "email": user.email, "name": "User"},
        }
    }
    assert connect(connect_event, connections, get_store())["statusCode"] == 403
    assert connections.get("conn-2") is None


# -- audit and totals --------------------------------------------------------------------------
def test_the_audit_log_records_each_action_with_before_and_after_newest_first(
    env: ConnectionsEndpoint, admin: TestUser, admin_token: str, user: TestUser
) -> None:
    base = f"/admin/users/{user.sub}"
    admin_call("PUT", f"{base}/quota", admin_token, {"dailyTokens": 500})
    admin_call("PUT", f"{base}/quota", admin_token, {"dailyTokens": 500})  # unchanged: no entry
    admin_call("DELETE", f"{base}/quota", admin_token)
    admin_call("POST", f"{base}/disable", admin_token)
    admin_call("POST", f"{base}/enable", admin_token)
    entries = admin_call("GET", "/admin/audit", admin_token).json["items"]
    assert [(e["action"], e["before"], e["after"]) for e in entries] == [
        ("user.enabled", {"disabled": True}, {"disabled": False}),
        ("user.disabled", {"disabled": False}, {"disabled": True}),
        ("quota.cleared", {"quotaOverride": 500}, {"quotaOverride": None}),
        ("quota.set", {"quotaOverride": None}, {"quotaOverride": 500}),
    ]
    for entry in entries:
        assert entry["actorId"] == admin.sub
        assert entry["actorEmail"] == admin.email
        assert entry["targetId"] == user.sub
        assert entry["targetEmail"] == user.email
        assert entry["at"].endswith("Z")

    first = admin_call("GET", "/admin/audit", admin_token, query={"limit": "3"}).json
    assert [e["id"] for e in first["items"]] == [e["id"] for e in entries[:3]]
    rest = admin_call(
        "GET", "/admin/audit", admin_token, query={"limit": "3", "cursor": first["nextCursor"]}
    ).json
    assert [e["id"] for e in rest["items"]] == [entries[3]["id"]]
    assert admin_call("GET", "/admin/audit", admin_token, query={"cursor": "e30"}).status == 400

    # Nothing edits or deletes it: no such route, in process or in the manifest.
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for path in ("/admin/audit", f"/admin/audit/{entries[0]['id']}"):
            assert admin_call(method, path, admin_token, {}).status in (404, 405)
    assert [r for r in ADMIN_ROUTES if "/audit" in r] == ["GET /admin/audit"]
    assert len(admin_call("GET", "/admin/audit", admin_token).json["items"]) == 4


def test_an_action_and_its_audit_entry_are_one_transaction(
    env: ConnectionsEndpoint, admin_token: str, user: TestUser
) -> None:
    """An entry that cannot be written (here: its id taken) leaves the change unmade too."""
    from admin_api.routes import console
    from parley.store.admin import AuditRecord

    admin_call("GET", f"/admin/users/{user.sub}", admin_token)
    taken = AuditRecord(
        "01TAKEN", "2026-01-01T00:00:00.000Z", "a", "", "quota.set", "t", "", {}, {}
    )
    console().records.table.put_item(Item=taken.item())
    import parley.admin as admin_module

    original = admin_module.new_ulid
    admin_module.new_ulid = lambda: "01TAKEN"  # type: ignore[assignment]
    try:
        answer = admin_call(
            "PUT", f"/admin/users/{user.sub}/quota", admin_token, {"dailyTokens": 3}
        )
    finally:
        admin_module.new_ulid = original
    assert answer.status == 500  # an entry never overwrites another: the change fails whole
    detail = admin_call("GET", f"/admin/users/{user.sub}", admin_token).json
    assert detail["quotaOverride"] is None


def test_totals_per_day_add_up_every_users_activity(
    env: ConnectionsEndpoint, admin_token: str, make_user: Callable[..., TestUser]
) -> None:
    from parley.changes import Change
    from parley.ids import today
    from parley.rollups import UsageRollups
    from parley.store import get_store

    store = get_store()
    day = today()
    at = f"{day}T10:00:00.000Z"
    people = [make_user().sub for _ in range(2)]

    def message(n: int, author: str) -> Change:
        return Change(
            event="INSERT",
            event_id=f"e{n}",
            keys={"pk": "CONV#c", "sk": f"MSG#m{n}"},
            old=None,
            new={"role": "user", "author_id": author, "created_at": at},
        )

    def reply(n: int, asker: str) -> Change:
        streaming = {
            "role": "assistant",
            "status": "streaming",
            "requested_by": asker,
            "created_at": at,
        }
        ended = {
            **streaming,
            "status": "complete",
            "usage": {"input_tokens": 5, "output_tokens": 7},
        }
        return Change(
            event="MODIFY",
            event_id=f"r{n}",
            keys={"pk": "CONV#c", "sk": f"MSG#r{n}"},
            old=streaming,
            new=ended,
        )

    feed = UsageRollups(store)
    changes = [
        message(1, people[0]),
        message(2, people[0]),
        message(3, people[1]),
        reply(1, people[0]),
    ]
    for change in changes:
        feed.apply(change)
    again = UsageRollups(store)  # a redelivered batch in a new container counts nothing twice
    for change in changes:
        again.apply(change)

    answer = admin_call("GET", "/admin/totals", admin_token, query={"from": day, "to": day})
    assert answer.status == 200, answer.text
    assert answer.json["days"] == [
        {
            "date": day,
            "messages": 3,
            "replies": 1,
            "inputTokens": 5,
            "outputTokens": 7,
            "activeUsers": 2,
        }
    ]
    default = admin_call("GET", "/admin/totals", admin_token).json
    assert len(default["days"]) == 30
    assert default["days"][-1]["messages"] == 3
    assert (
        admin_call("GET", "/admin/totals", admin_token, query={"from": "2026-13-01"}).status == 400
    )
    listed = admin_call("GET", f"/admin/users/{people[0]}", admin_token).json
    assert listed["lastActiveDay"] == day
    assert listed["activity"]["today"]["messages"] == 2


def test_two_admins_disabling_at_once_record_one_entry_and_both_end_disabled(
    env: ConnectionsEndpoint,
    aws: LocalResources,
    admin_token: str,
    user: TestUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parley.admin import console

    store = console().store
    store.profiles.ensure(user.sub, user.email)
    first = admin_call("POST", f"/admin/users/{user.sub}/disable", admin_token)
    assert first.status == 200
    admin_call("POST", f"/admin/users/{user.sub}/enable", admin_token)
    real_get = store.profiles.get

    def raced(user_id: str, *, consistent: bool = False) -> Any:
        seen = real_get(user_id, consistent=consistent)
        # the other admin's disable lands between this read and this admin's write
        store.profiles.table.update_item(
            Key={"pk": f"USER#{user_id}", "sk": "PROFILE"},
            UpdateExpression="SET disabled = :t",
            ExpressionAttributeValues={":t": True},
        )
        return seen

    monkeypatch.setattr(store.profiles, "get", raced)
    second = admin_call("POST", f"/admin/users/{user.sub}/disable", admin_token)
    monkeypatch.undo()
    assert second.status == 200, second.text
    assert second.json["status"] == "disabled"
    _, cognito, _ = clients(aws.endpoint_url, aws.region)
    assert not cognito.admin_get_user(UserPoolId=aws.user_pool_id, Username=user.email)["Enabled"]
    actions = [e["action"] for e in admin_call("GET", "/admin/audit", admin_token).json["items"]]
    assert actions == ["user.enabled", "user.disabled"]  # the raced disable recorded nothing
