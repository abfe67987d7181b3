"""Share links on moto (`parley.shares`): the snapshot builder (what it shows and what it never
does), who may make, list and revoke links, the revoked / expired / deleted answers of the
public reader, the limit, and the change feed's clean-up. The snapshots' bucket is a dict."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from parley.changes import Change
from parley.errors import Conflict, ConversationNotFound, Forbidden, Gone, ShareNotFound
from parley.ids import iso, new_ulid
from parley.models import Message, MessageAttachment, Profile
from parley.shares import (
    ENDED_KEPT_DAYS,
    LISTED_AFTER_EXPIRY_DAYS,
    MAX_LINKS,
    MAX_SNAPSHOT_BYTES,
    CreateShare,
    ShareCleanup,
    SharedReader,
    Shares,
    build_snapshot,
    gone_reason,
    new_share_id,
    shown_branch,
    snapshot_bytes,
    valid_share_id,
)
from parley.store import Store
from parley.store.conversations import ConversationRecord
from parley.store.shares import ShareRecord, ShareRepository, lookup_key
from tests.unit.conftest import fresh_id

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Bucket:
    """The snapshots' objects, in memory."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.deleted: list[str] = []

    def put(self, share_id: str, body: bytes) -> None:
        self.objects[share_id] = body

    def get(self, share_id: str) -> bytes | None:
        return self.objects.get(share_id)

    def delete(self, share_id: str) -> None:
        self.deleted.append(share_id)
        self.objects.pop(share_id, None)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _profile(name: str = "Ada") -> Profile:
    return Profile(id=fresh_id("u-"), email=f"{new_ulid().lower()}@x.org", name=name, created_at="")


def _message(
    role: str = "user",
    content: str = "hi",
    *,
    status: str = "complete",
    parent_id: str | None = None,
    reply_to: str | None = None,
    author_name: str | None = "Ada",
    attachments: list[MessageAttachment] | None = None,
) -> Message:
    return Message(
        id=new_ulid(),
        conversation_id="c",
        author_id="secret-user-id",
        author_name=author_name,
        role=role,  # type: ignore[arg-type]
        content=content,
        status=status,  # type: ignore[arg-type]
        parent_id=parent_id,
        reply_to=reply_to,
        model="gpt-secret",
        cost_usd=0.5,
        attachments=attachments,
        created_at="2026-06-01T10:00:00.000Z",
        updated_at="2026-06-01T10:00:00.000Z",
    )


def _record(kind: str = "assistant") -> ConversationRecord:
    return ConversationRecord(
        id="c",
        kind=kind,  # type: ignore[arg-type]
        title="Plans",
        owner_id="secret-owner",
        created_at="",
        updated_at="",
        titled=True,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bucket() -> Bucket:
    return Bucket()


@pytest.fixture
def records(fast_store: Store) -> ShareRepository:
    return ShareRepository(fast_store.messages.table)


@pytest.fixture
def shares(fast_store: Store, records: ShareRepository, bucket: Bucket, clock: Clock) -> Shares:
    return Shares(fast_store, records, bucket, now=clock)  # type: ignore[arg-type]


@pytest.fixture
def reader(records: ShareRepository, bucket: Bucket, clock: Clock) -> SharedReader:
    return SharedReader(records, bucket, now=clock)  # type: ignore[arg-type]


def _chat(store: Store, owner: Profile, *texts: str, kind: str = "assistant") -> str:
    conversation = store.conversations.create(owner, kind=kind, title="Plans")  # type: ignore[arg-type]
    for text in texts:
        store.messages.put_user_message(
            conversation.id, author_id=owner.id, author_name=owner.name, content=text
        )
    return conversation.id


# -- the snapshot ------------------------------------------------------------------------------
def test_the_snapshot_holds_names_roles_times_and_file_names_only() -> None:
    attachment = MessageAttachment(
        id="att-secret", name="plan.pdf", content_type="application/pdf", size=9, kind="document"
    )
    question = _message(content="Where?", attachments=[attachment], parent_id="c")
    answer = _message("assistant", "Lisbon.", reply_to=question.id, author_name=None)
    snapshot = build_snapshot(
        _record(), [answer, question], share_id="S" * 24, shared_at="t0", expires_at="t1"
    )
    data = snapshot.model_dump(mode="json", by_alias=True)
    assert data == {
        "version": 1,
        "id": "S" * 24,
        "title": "Plans",
        "kind": "assistant",
        "sharedAt": "t0",
        "expiresAt": "t1",
        "messages": [
            {
                "role": "user",
                "authorName": "Ada",
                "content": "Where?",
                "createdAt": "2026-06-01T10:00:00.000Z",
                "attachments": [{"name": "plan.pdf", "kind": "document"}],
            },
            {
                "role": "assistant",
                "authorName": "Assistant",
                "content": "Lisbon.",
                "createdAt": "2026-06-01T10:00:00.000Z",
                "attachments": [],
            },
        ],
    }
    text = json.dumps(data)
    for secret in ("secret-user-id", "secret-owner", "att-secret", "gpt-secret", "0.5"):
        assert secret not in text


def test_a_nameless_person_is_a_participant_and_blank_names_do_not_count() -> None:
    shown = build_snapshot(
        _record("group"),
        [_message(author_name=None), _message(author_name="   ")],
        share_id="x",
        shared_at="t",
        expires_at=None,
    ).messages
    assert [m.author_name for m in shown] == ["Participant", "Participant"]


def test_replies_being_written_or_failed_are_left_out_and_stopped_ones_kept() -> None:
    messages = [
        _message("user", "q"),
        _message("assistant", "partial", status="stopped"),
        _message("user", "q2"),
        _message("assistant", "", status="failed"),
        _message("user", "q3"),
        _message("assistant", "writing", status="streaming"),
    ]
    shown = build_snapshot(_record("group"), messages, share_id="x", shared_at="t", expires_at=None)
    assert [m.content for m in shown.messages] == ["q", "partial", "q2", "q3"]


def test_a_room_shows_every_message_in_order() -> None:
    first, second, third = _message(content="1"), _message(content="2"), _message(content="3")
    assert shown_branch("group", [third, first, second]) == [first, second, third]


def test_a_chat_shows_the_branch_its_newest_message_ends() -> None:
    question = _message(content="q", parent_id="c")
    old_answer = _message("assistant", "old", reply_to=question.id)
    edited = _message(content="q edited", parent_id="c")  # an edit: a sibling of `question`
    answer_v1 = _message("assistant", "v1", reply_to=edited.id)
    answer_v2 = _message("assistant", "v2", reply_to=edited.id)  # asked again
    everything = [question, old_answer, edited, answer_v1, answer_v2]
    assert shown_branch("assistant", everything) == [edited, answer_v2]
    follow_up = _message(content="more", parent_id=answer_v1.id)
    assert shown_branch("assistant", [*everything, follow_up]) == [edited, answer_v1, follow_up]


def test_messages_from_before_branches_follow_the_one_before_them() -> None:
    old = [_message(content="1"), _message("assistant", "2"), _message(content="3")]
    assert shown_branch("assistant", old) == old
    assert shown_branch("assistant", []) == []


def test_a_loop_in_stored_parents_ends_the_walk() -> None:
    first = _message(content="1")
    second = _message(content="2", parent_id=first.id)
    looped = first.model_copy(update={"parent_id": second.id})
    assert shown_branch("assistant", [looped, second]) == [looped, second]


def test_share_ids_are_unguessable_and_checked() -> None:
    ids = {new_share_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(valid_share_id(i) and len(i) == 24 for i in ids)
    for bad in ("", "a" * 23, "a" * 25, "a" * 23 + "/", "a" * 23 + ".", " " + "a" * 23):
        assert not valid_share_id(bad)


# -- who may ----------------------------------------------------------------------------------
def test_only_the_owner_makes_lists_and_revokes(fast_store: Store, shares: Shares) -> None:
    owner, member, stranger = _profile(), _profile("Bob"), _profile("Eve")
    cid = _chat(fast_store, owner, "hello", kind="group")
    fast_store.conversations.add_member(fast_store.conversations.record(cid), member)
    link = shares.create(cid, owner.id, CreateShare())
    with pytest.raises(Forbidden):
        shares.create(cid, member.id, CreateShare())
    with pytest.raises(Forbidden):
        shares.list(cid, member.id)
    with pytest.raises(Forbidden):
        shares.revoke(cid, member.id, link.id)
    for act in (
        lambda: shares.create(cid, stranger.id, CreateShare()),
        lambda: shares.list(cid, stranger.id),
        lambda: shares.revoke(cid, stranger.id, link.id),
    ):
        with pytest.raises(ConversationNotFound):
            act()
    assert [s.id for s in shares.list(cid, owner.id).items] == [link.id]


def test_the_owners_list_shows_each_link_as_it_was_made(fast_store: Store, shares: Shares) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "hello")
    link = shares.create(cid, owner.id, CreateShare())
    assert link.message_count >= 1
    assert shares.list(cid, owner.id).items == [link]
    record = shares.records.get(link.id)
    assert record is not None
    assert (record.owner_id, record.created_at) == (owner.id, link.created_at)


def test_a_link_is_made_only_while_the_conversation_is_the_owners(
    fast_store: Store, records: ShareRepository
) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "hi")
    record = ShareRecord(
        id=new_share_id(),
        conversation_id=cid,
        owner_id="someone-else",
        created_at="t",
        message_count=1,
        slot=0,
    )
    with pytest.raises(ConversationNotFound):
        records.create(record, lookup_purge_at=None, listing_purge_at=None)
    fast_store.conversations.mark_deleted(cid, owner_id=owner.id)
    with pytest.raises(ConversationNotFound):
        records.create(replace(record, owner_id=owner.id), lookup_purge_at=None,
                       listing_purge_at=None)  # fmt: skip
    assert records.get(record.id) is None
    assert records.listed(cid) == []


# -- making one -------------------------------------------------------------------------------
def test_a_link_freezes_the_conversation_now(
    fast_store: Store, shares: Shares, reader: SharedReader, bucket: Bucket
) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "first")
    link = shares.create(cid, owner.id, CreateShare(expires_in_days=3))
    assert link.path == f"/#/s/{link.id}"
    assert link.created_at == iso(NOW)
    assert link.expires_at == iso(NOW + timedelta(days=3))
    assert (link.message_count, link.expired) == (1, False)
    fast_store.messages.put_user_message(cid, author_id=owner.id, author_name="Ada", content="2nd")
    shown = json.loads(reader.read(link.id))
    assert [m["content"] for m in shown["messages"]] == ["first"]
    assert shown["expiresAt"] == link.expires_at
    item = fast_store.messages.table.get_item(Key=lookup_key(link.id))["Item"]
    expires = NOW + timedelta(days=3)
    assert int(item["purge_at"]) == int((expires + timedelta(days=ENDED_KEPT_DAYS)).timestamp())
    [listing] = [
        i
        for i in fast_store.messages.table.query(
            KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": f"CONV#{cid}"}
        )["Items"]
        if str(i["sk"]).startswith("SHARE#")
    ]
    assert listing["sk"] == "SHARE#00"
    assert int(listing["purge_at"]) == int(
        (expires + timedelta(days=LISTED_AFTER_EXPIRY_DAYS)).timestamp()
    )


def test_a_link_without_expiry_is_never_purged(fast_store: Store, shares: Shares) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "first")
    link = shares.create(cid, owner.id, CreateShare())
    assert link.expires_at is None
    assert "purge_at" not in fast_store.messages.table.get_item(Key=lookup_key(link.id))["Item"]


def test_an_empty_or_too_long_conversation_is_not_shared(
    fast_store: Store, shares: Shares, bucket: Bucket
) -> None:
    owner = _profile()
    with pytest.raises(Conflict, match=r"^This conversation has no messages to share yet$"):
        shares.create(_chat(fast_store, owner), owner.id, CreateShare())
    cid = _chat(fast_store, owner, *["x" * 32_000] * (MAX_SNAPSHOT_BYTES // 32_000 + 1))
    with pytest.raises(
        Conflict,
        match=r"^This conversation is too long to share \(5 MB; a shared conversation is at "
        r"most 4 MB\)$",
    ):
        shares.create(cid, owner.id, CreateShare())
    assert bucket.objects == {}
    assert shares.list(cid, owner.id).items == []


def test_just_under_the_size_limit_is_shared(fast_store: Store, shares: Shares) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, *["x" * 32_000] * (MAX_SNAPSHOT_BYTES // 32_000 - 2))
    assert shares.create(cid, owner.id, CreateShare()).message_count > 0


def test_the_limit_counts_listed_links_and_a_revoke_frees_a_slot(
    fast_store: Store, shares: Shares, bucket: Bucket
) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "hi")
    made = [shares.create(cid, owner.id, CreateShare()) for _ in range(MAX_LINKS)]
    with pytest.raises(
        Conflict,
        match=rf"^A conversation can have at most {MAX_LINKS} share links; revoke one to make "
        r"another$",
    ):
        shares.create(cid, owner.id, CreateShare())
    assert len(bucket.objects) == MAX_LINKS
    shares.revoke(cid, owner.id, made[3].id)
    again = shares.create(cid, owner.id, CreateShare())
    listed = shares.list(cid, owner.id)
    assert listed.limit == MAX_LINKS
    assert len(listed.items) == MAX_LINKS
    assert again.id in {s.id for s in listed.items}


def test_a_slot_taken_meanwhile_is_read_again(
    fast_store: Store, shares: Shares, records: ShareRepository
) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "hi")
    real_listed = records.listed
    calls = {"n": 0}

    def stale(conversation_id: str) -> list[ShareRecord]:
        calls["n"] += 1
        return [] if calls["n"] == 1 else real_listed(conversation_id)

    shares.create(cid, owner.id, CreateShare())  # slot 0
    records.listed = stale  # type: ignore[method-assign]
    second = shares.create(cid, owner.id, CreateShare())  # first read misses slot 0
    records.listed = real_listed  # type: ignore[method-assign]
    assert sorted(r.slot for r in records.listed(cid)) == [0, 1]
    assert second.id in {r.id for r in records.listed(cid)}


def test_slots_always_taken_end_in_a_clear_conflict(
    fast_store: Store, shares: Shares, records: ShareRepository, bucket: Bucket
) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "hi")
    shares.create(cid, owner.id, CreateShare())
    records.listed = lambda conversation_id: []  # type: ignore[method-assign]
    with pytest.raises(
        Conflict, match=r"^Too many share links are being made at once; please try again$"
    ):
        shares.create(cid, owner.id, CreateShare())
    assert len(bucket.objects) == 1


# -- reading ----------------------------------------------------------------------------------
def test_revoked_expired_deleted_and_unknown(
    fast_store: Store, shares: Shares, reader: SharedReader, clock: Clock, bucket: Bucket
) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "hi")
    revoked = shares.create(cid, owner.id, CreateShare())
    expiring = shares.create(cid, owner.id, CreateShare(expires_in_days=1))
    assert reader.read(revoked.id)
    shares.revoke(cid, owner.id, revoked.id)
    with pytest.raises(Gone) as gone:
        reader.read(revoked.id)
    assert (gone.value.reason, gone.value.status) == ("revoked", 410)
    assert gone.value.message == "The owner stopped sharing this conversation"
    item = fast_store.messages.table.get_item(Key=lookup_key(revoked.id))["Item"]
    assert int(item["purge_at"]) == int((NOW + timedelta(days=ENDED_KEPT_DAYS)).timestamp())
    assert revoked.id not in bucket.objects
    with pytest.raises(ShareNotFound):
        shares.revoke(cid, owner.id, revoked.id)  # once only

    clock.now = NOW + timedelta(days=1) - timedelta(seconds=1)
    assert reader.read(expiring.id)
    assert shares.list(cid, owner.id).items[0].expired is False
    clock.now = NOW + timedelta(days=1)
    with pytest.raises(Gone) as gone:
        reader.read(expiring.id)
    assert gone.value.reason == "expired"
    assert gone.value.message == "This link has expired"
    assert shares.list(cid, owner.id).items[0].expired is True

    for unknown in (new_share_id(), "short", "../x" + "a" * 20):
        with pytest.raises(ShareNotFound):
            reader.read(unknown)


def test_expired_wins_over_revoked_and_deleted_reads_as_deleted() -> None:
    base = ShareRecord(
        id="x", conversation_id="c", owner_id="o", created_at="t", message_count=1, slot=0
    )
    past, future = iso(NOW - timedelta(seconds=1)), iso(NOW + timedelta(seconds=1))
    assert gone_reason(base, NOW) is None
    assert gone_reason(replace(base, expires_at=future), NOW) is None
    assert gone_reason(replace(base, expires_at=iso(NOW)), NOW) == "expired"
    assert gone_reason(replace(base, expires_at=past, ended_at="t"), NOW) == "expired"
    ended = replace(base, ended_at="t", ended_reason="revoked")
    assert gone_reason(ended, NOW) == "revoked"
    assert gone_reason(replace(ended, ended_reason="deleted"), NOW) == "deleted"
    assert gone_reason(replace(ended, ended_reason=None), NOW) == "revoked"


def test_a_snapshot_missing_behind_a_live_item_is_gone(
    fast_store: Store, shares: Shares, reader: SharedReader, bucket: Bucket
) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "hi")
    link = shares.create(cid, owner.id, CreateShare())
    bucket.objects.clear()
    with pytest.raises(Gone) as gone:
        reader.read(link.id)
    assert gone.value.reason == "revoked"
    assert gone.value.message == "The owner stopped sharing this conversation"


def test_revoking_a_link_of_another_conversation_is_not_found(
    fast_store: Store, shares: Shares, reader: SharedReader
) -> None:
    owner = _profile()
    first, second = _chat(fast_store, owner, "a"), _chat(fast_store, owner, "b")
    link = shares.create(first, owner.id, CreateShare())
    with pytest.raises(ShareNotFound):
        shares.revoke(second, owner.id, link.id)
    assert reader.read(link.id)


# -- the conversation goes ---------------------------------------------------------------------
def test_deleting_ends_every_link_at_once(
    fast_store: Store, shares: Shares, reader: SharedReader
) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "hi")
    links = [shares.create(cid, owner.id, CreateShare()) for _ in range(3)]
    shares.revoke(cid, owner.id, links[0].id)
    assert shares.end_all(cid) == 2
    assert shares.end_all(cid) == 0  # once
    # The list stays for the purge, whose removals delete the snapshots (`ShareCleanup`).
    assert sorted(r.id for r in shares.records.listed(cid)) == sorted(link.id for link in links[1:])
    reasons = []
    for link in links:
        with pytest.raises(Gone) as gone:
            reader.read(link.id)
        reasons.append(gone.value.reason)
    assert reasons == ["revoked", "deleted", "deleted"]
    item = fast_store.messages.table.get_item(Key=lookup_key(links[1].id))["Item"]
    assert int(item["purge_at"]) == int((NOW + timedelta(days=ENDED_KEPT_DAYS)).timestamp())
    with pytest.raises(Gone) as gone:
        reader.read(links[2].id)
    assert gone.value.message == "This conversation was deleted"


def test_the_change_feed_ends_the_link_and_deletes_its_snapshot(
    fast_store: Store,
    shares: Shares,
    reader: SharedReader,
    records: ShareRepository,
    bucket: Bucket,
    clock: Clock,
) -> None:
    owner = _profile()
    cid = _chat(fast_store, owner, "hi")
    link = shares.create(cid, owner.id, CreateShare())
    other = shares.create(cid, owner.id, CreateShare())
    cleanup = ShareCleanup(records, bucket, now=clock)  # type: ignore[arg-type]
    listing = {"share_id": link.id, "conversation_id": cid, "slot": 0}

    def change(event: str, sk: str, old: dict[str, Any] | None, pk: str = f"CONV#{cid}") -> Change:
        return Change(
            event=event,  # type: ignore[arg-type]
            event_id="e",
            keys={"pk": pk, "sk": sk},
            old=old,
            new=None if event == "REMOVE" else {"x": 1},
        )

    for ignored in (
        change("MODIFY", "SHARE#00", listing),
        change("REMOVE", "MSG#1", listing),
        change("REMOVE", "SHARE#00", None),
        change("REMOVE", "SHARE#00", {"conversation_id": cid}),
        change("REMOVE", "SHARE#00", listing, pk=f"USER#{cid}"),
    ):
        cleanup.apply(ignored)
    assert bucket.deleted == []
    assert reader.read(link.id)

    cleanup.apply(change("REMOVE", "SHARE#00", listing))
    cleanup.apply(change("REMOVE", "SHARE#00", listing))  # redelivered: the same
    with pytest.raises(Gone) as gone:
        reader.read(link.id)
    assert gone.value.reason == "deleted"
    assert bucket.deleted == [link.id, link.id]
    assert reader.read(other.id)
    item = fast_store.messages.table.get_item(Key=lookup_key(link.id))["Item"]
    assert int(item["purge_at"]) == int((NOW + timedelta(days=ENDED_KEPT_DAYS)).timestamp())
    ShareCleanup(records, None).apply(change("REMOVE", "SHARE#01", {"share_id": other.id}))
    with pytest.raises(Gone):
        reader.read(other.id)


def test_the_snapshot_of_a_chat_is_its_shown_branch_in_compact_utf8() -> None:
    question = _message(content="Où aller ?", parent_id="c")
    old = _message("assistant", "old", reply_to=question.id)
    new = _message("assistant", "new", reply_to=question.id)
    snapshot = build_snapshot(
        _record("assistant"), [question, old, new], share_id="x", shared_at="t", expires_at=None
    )
    assert [m.content for m in snapshot.messages] == ["Où aller ?", "new"]
    body = snapshot_bytes(snapshot)
    assert "Où aller ?".encode() in body
    assert b'": ' not in body
    assert b", " not in body.replace("Où aller ?".encode(), b"")
    assert json.loads(body)["messages"][1]["content"] == "new"
