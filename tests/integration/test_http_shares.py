"""Share links through chat_api and the public page through share_api, in process against moto:
the snapshot and nothing added later, revoke and expiry (410), who may make, list and revoke
links, bad input, and a deleted conversation's links (`parley.shares`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tasks.local.bootstrap import LocalResources
from tasks.local.scripted_model import Reply, ScriptedModel
from tasks.local.streams import StreamPoller
from tests.support.api import ApiResponse, call
from tests.support.cognito import TestUser
from tests.support.environment import clear_parley_caches
from tests.support.events import LambdaContext, http_event

BUCKET = "parley-test-shares"
SHARED_ROUTE = "GET /shared/{shareId}"


@pytest.fixture
def shares_bucket(
    parley_env: dict[str, str], aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    s3 = boto3.client("s3", endpoint_url=aws.endpoint_url, region_name=aws.region)
    s3.create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("SHARES_BUCKET_NAME", BUCKET)
    clear_parley_caches()
    yield s3
    clear_parley_caches()


@pytest.fixture
def api(shares_bucket: Any) -> Callable[..., ApiResponse]:
    from chat_api.app import handler

    def request(method: str, path: str, user: TestUser, **kwargs: Any) -> ApiResponse:
        return call(handler, method, path, headers=user.bearer(), **kwargs)

    return request


def public(share_id: str, headers: dict[str, str] | None = None) -> ApiResponse:
    """`GET /shared/{shareId}` as the gateway sends it: no authorizer, no token."""
    from share_api.app import handler

    event = http_event(
        "GET",
        f"/shared/{share_id}",
        route=SHARED_ROUTE,
        path_parameters={"shareId": share_id},
        headers=headers,
    )
    result = handler(event, LambdaContext("share_api"))
    return ApiResponse(
        int(result["statusCode"]),
        {k.lower(): v for k, v in result["headers"].items()},
        result.get("body") or "",
    )


def chat(api: Callable[..., ApiResponse], user: TestUser, model: ScriptedModel, *texts: str) -> str:
    cid = api("POST", "/conversations", user, body={"title": "Trip plans"}).json["id"]
    for text in texts:
        model.enqueue(Reply(text=f"Answer to {text}"))
        sent = api("POST", f"/conversations/{cid}/messages", user, body={"content": text})
        assert sent.status == 201, sent.text
    return cid


def share(api: Callable[..., ApiResponse], user: TestUser, cid: str, **body: Any) -> ApiResponse:
    return api("POST", f"/conversations/{cid}/shares", user, body=body)


def objects(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_link_shows_the_snapshot_and_nothing_added_later(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    shares_bucket: Any,
) -> None:
    cid = chat(api, user, scripted_model, "Where to go in May?")
    made = share(api, user, cid)
    assert made.status == 201, made.text
    link = made.json
    assert link["path"] == f"/#/s/{link['id']}"
    assert len(link["id"]) == 24
    assert link["expiresAt"] is None
    assert link["expired"] is False
    assert link["messageCount"] == 2

    scripted_model.enqueue(Reply(text="A later answer"))
    later = api("POST", f"/conversations/{cid}/messages", user, body={"content": "And June?"})
    assert later.status == 201

    page = public(link["id"])  # no token at all
    assert page.status == 200, page.text
    assert page.headers["cache-control"] == "private, no-cache"
    assert page.headers["referrer-policy"] == "no-referrer"
    snapshot = page.json
    assert snapshot["title"] == "Trip plans"
    assert [(m["role"], m["content"]) for m in snapshot["messages"]] == [
        ("user", "Where to go in May?"),
        ("assistant", "Answer to Where to go in May?"),
    ]
    assert snapshot["messages"][0]["authorName"] == user.name
    # Only the snapshot: no e-mails, no user ids, no conversation id, no usage or cost.
    text = page.text
    for secret in (user.email, user.sub, cid, "And June?", "A later answer"):
        assert secret not in text
    assert set(snapshot) == {"version", "id", "title", "kind", "sharedAt", "expiresAt", "messages"}
    assert set(snapshot["messages"][0]) == {"role", "authorName", "content", "createdAt",
                                            "attachments"}  # fmt: skip
    assert objects(shares_bucket) == [f"shares/{link['id']}.json"]


def test_revoked_link_is_gone_and_its_snapshot_deleted(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    shares_bucket: Any,
) -> None:
    cid = chat(api, user, scripted_model, "Hello")
    first, second = share(api, user, cid).json, share(api, user, cid, expiresInDays=7).json
    listed = api("GET", f"/conversations/{cid}/shares", user)
    assert listed.status == 200
    assert [s["id"] for s in listed.json["items"]] == [first["id"], second["id"]]
    assert listed.json["limit"] == 20
    assert second["expiresAt"] is not None

    assert api("DELETE", f"/conversations/{cid}/shares/{first['id']}", user).status == 204
    gone = public(first["id"])
    assert gone.status == 410
    assert gone.json["error"]["code"] == "gone"
    assert gone.json["error"]["reason"] == "revoked"
    assert gone.headers["cache-control"] == "no-store"
    assert public(second["id"]).status == 200  # the other link still works
    assert objects(shares_bucket) == [f"shares/{second['id']}.json"]
    listed = api("GET", f"/conversations/{cid}/shares", user).json["items"]
    assert [s["id"] for s in listed] == [second["id"]]
    # Revoking twice, or a link of another conversation: not found.
    assert api("DELETE", f"/conversations/{cid}/shares/{first['id']}", user).status == 404
    other = chat(api, user, scripted_model, "Other")
    assert api("DELETE", f"/conversations/{other}/shares/{second['id']}", user).status == 404
    assert public(second["id"]).status == 200


def test_expired_link_is_gone_whatever_the_ttl_did(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    aws: LocalResources,
) -> None:
    cid = chat(api, user, scripted_model, "Hello")
    link = share(api, user, cid, expiresInDays=1).json
    assert public(link["id"]).status == 200
    table = boto3.resource("dynamodb", endpoint_url=aws.endpoint_url).Table(aws.chat_table)
    table.update_item(
        Key={"pk": f"SHARE#{link['id']}", "sk": "SHARE"},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": "2020-01-01T00:00:00.000Z"},
    )
    gone = public(link["id"])
    assert gone.status == 410
    assert gone.json["error"]["reason"] == "expired"


@pytest.mark.parametrize("share_id", ["A" * 24, "short", "x" * 200, "../../etc/passwd" + "a" * 8])
def test_unknown_or_malformed_link_is_not_found(shares_bucket: Any, share_id: str) -> None:
    answer = public(share_id)
    assert answer.status == 404
    assert answer.json["error"]["code"] == "not_found"
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("days", [0, 366, -1, "soon", 1.5])
def test_expiry_out_of_range_is_refused(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    shares_bucket: Any,
    days: Any,
) -> None:
    cid = chat(api, user, scripted_model, "Hello")
    refused = share(api, user, cid, expiresInDays=days)
    assert refused.status == 422, refused.text
    assert "expiresInDays" in refused.json["error"]["message"] or "expires" in refused.text
    assert objects(shares_bucket) == []


def test_unknown_fields_and_bad_share_ids_are_refused(
    api: Callable[..., ApiResponse], user: TestUser, scripted_model: ScriptedModel
) -> None:
    cid = chat(api, user, scripted_model, "Hello")
    assert share(api, user, cid, expires="never").status == 422
    assert api("DELETE", f"/conversations/{cid}/shares/nope", user).status == 422
    assert api("POST", "/conversations/01JDX40C3D4E5F6G7H8J9K0M1N/shares", user,
               body={}).status == 404  # fmt: skip


def test_only_the_owner_makes_lists_and_revokes_links(
    api: Callable[..., ApiResponse],
    make_user: Callable[..., TestUser],
    scripted_model: ScriptedModel,
    shares_bucket: Any,
) -> None:
    owner, member, stranger = make_user(), make_user(), make_user()
    api("GET", "/me", member)
    room = api("POST", "/conversations", owner, body={"kind": "group", "title": "Room"}).json["id"]
    assert api("POST", f"/conversations/{room}/members", owner,
               body={"email": member.email}).status == 201  # fmt: skip
    assert api("POST", f"/conversations/{room}/messages", owner,
               body={"content": "Hi all"}).status == 201  # fmt: skip
    link = share(api, owner, room).json

    for who, status in ((member, 403), (stranger, 404)):
        assert share(api, who, room).status == status
        assert api("GET", f"/conversations/{room}/shares", who).status == status
        revoke = api("DELETE", f"/conversations/{room}/shares/{link['id']}", who)
        assert revoke.status == status
    # A stranger's answer is the one for a conversation that does not exist.
    missing = api("GET", "/conversations/01JDX40C3D4E5F6G7H8J9K0M1N/shares", stranger)
    assert (
        missing.json["error"]["message"]
        == api("GET", f"/conversations/{room}/shares", stranger).json["error"]["message"]
    )
    assert public(link["id"]).status == 200  # nobody but the owner revoked it
    assert objects(shares_bucket) == [f"shares/{link['id']}.json"]


def test_a_conversation_without_messages_cannot_be_shared(
    api: Callable[..., ApiResponse], user: TestUser, shares_bucket: Any
) -> None:
    cid = api("POST", "/conversations", user, body={"title": "Empty"}).json["id"]
    refused = share(api, user, cid)
    assert refused.status == 409
    assert "no messages" in refused.json["error"]["message"]
    assert objects(shares_bucket) == []


def test_links_per_conversation_are_limited_even_when_made_at_once(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    shares_bucket: Any,
) -> None:
    cid = chat(api, user, scripted_model, "Hello")
    for _ in range(17):
        assert share(api, user, cid).status == 201
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: share(api, user, cid), range(6)))
    made = [a for a in answers if a.status == 201]
    refused = [a for a in answers if a.status == 409]
    assert len(made) == 3, [a.text for a in answers]
    assert len(refused) == 3, [a.text for a in answers]
    assert all("at most 20" in a.json["error"]["message"] or "try again" in
               a.json["error"]["message"] for a in refused)  # fmt: skip
    listed = api("GET", f"/conversations/{cid}/shares", user).json["items"]
    assert len(listed) == 20
    assert len(objects(shares_bucket)) == 20  # a refused link left no snapshot


def test_a_failed_link_write_leaves_no_snapshot(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    shares_bucket: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parley.store.shares import ShareRepository

    cid = chat(api, user, scripted_model, "Hello")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the table is unavailable")

    monkeypatch.setattr(ShareRepository, "create", broken)
    assert share(api, user, cid).status == 500
    assert objects(shares_bucket) == []
    monkeypatch.undo()
    monkeypatch.setenv("SHARES_BUCKET_NAME", BUCKET)
    assert api("GET", f"/conversations/{cid}/shares", user).json["items"] == []


def test_deleting_the_conversation_ends_its_links_and_removes_snapshots(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    shares_bucket: Any,
    change_feed: StreamPoller,
) -> None:
    cid = chat(api, user, scripted_model, "Hello")
    links = [share(api, user, cid).json["id"] for _ in range(2)]
    assert api("DELETE", f"/conversations/{cid}", user).status == 204
    for share_id in links:  # at once, before the change feed has run
        gone = public(share_id)
        assert gone.status == 410
        assert gone.json["error"]["reason"] == "deleted"
    change_feed.drain()
    assert objects(shares_bucket) == []
    for share_id in links:
        assert public(share_id).json["error"]["reason"] == "deleted"


def test_retention_deletes_links_through_the_change_feed(
    api: Callable[..., ApiResponse],
    user: TestUser,
    scripted_model: ScriptedModel,
    shares_bucket: Any,
    change_feed: StreamPoller,
) -> None:
    """Retention marks a conversation deleted in the store (not through `Conversations`): the
    purge removes the list items and each removal ends its link and deletes its snapshot."""
    from parley.store import get_store

    cid = chat(api, user, scripted_model, "Hello")
    link = share(api, user, cid).json["id"]
    change_feed.drain()
    get_store().conversations.mark_deleted(cid, owner_id=user.sub)
    change_feed.drain()
    change_feed.drain()
    assert public(link).json["error"]["reason"] == "deleted"
    assert objects(shares_bucket) == []


def test_snapshot_object_is_json_of_the_answer(shares_bucket: Any, api: Callable[..., ApiResponse],
                                               user: TestUser,
                                               scripted_model: ScriptedModel) -> None:  # fmt: skip
    cid = chat(api, user, scripted_model, "Hello")
    link = share(api, user, cid).json["id"]
    body = shares_bucket.get_object(Bucket=BUCKET, Key=f"shares/{link}.json")["Body"].read()
    assert json.loads(body) == public(link).json
