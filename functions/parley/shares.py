"""Share links: a read-only snapshot of a conversation as it was, behind an unguessable link.

The owner makes a link (`POST /conversations/{id}/shares`, `chat_api`): the conversation is
read now and frozen into a snapshot — its title and the messages shown, each with its author's
display name, role, time, and its files' names and kinds. Nothing else: no member e-mails, no
user ids, no file links, no usage, no model or cost. Later messages are never in it. Anyone with
the link reads the snapshot (`GET /shared/{shareId}`, `share_api`, no sign-in) until the owner
revokes it, it expires, or the conversation is deleted; then the link answers 410 with the
reason, and an unknown id 404.

Who may: only the conversation's owner makes, lists and revokes its links (`parley.access`
decides: a non-member learns nothing — 404 as for a missing conversation; a member who is not
the owner gets 403). Where: `parley.store.shares` (items and the snapshot's object). When the
conversation goes (deleted by its owner, or by retention), its links end at once
(`Shares.end_all`) and the change feed deletes the snapshots as the conversation's items are
purged (`ShareCleanup`).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from parley import access
from parley.errors import Conflict, Gone, ShareNotFound
from parley.ids import iso
from parley.models import ApiModel, AttachmentKind, InputModel, Kind, Message, Role
from parley.store.shares import SHARE_PREFIX, ShareRecord, SlotTaken

if TYPE_CHECKING:
    from parley.changes import Change
    from parley.store import Store
    from parley.store.conversations import ConversationRecord
    from parley.store.shares import ShareRepository, SnapshotBucket

logger = logging.getLogger(__name__)

MAX_LINKS = 20
"""Links listed for one conversation at most (revoked ones leave the list; expired ones a day
after they expire)."""
MAX_EXPIRY_DAYS = 365
MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024
"""The largest snapshot: `share_api` returns it whole, inside Lambda's 6 MB response."""
ENDED_KEPT_DAYS = 30
"""An ended or expired link answers 410 for this long, then (its item gone) 404."""
LISTED_AFTER_EXPIRY_DAYS = 1
"""An expired link stays in its owner's list this long, then leaves it and its snapshot goes."""
ID_BYTES = 18
"""144 random bits from `secrets`: 24 URL-safe characters."""
SHARE_ID_PATTERN = r"^[A-Za-z0-9_-]{24}$"
APP_PATH = "/#/s/"
"""Where the app shows a shared conversation: `/#/s/<share id>` (a hash route: the id never
reaches a server log or a Referer header)."""
CREATE_ATTEMPTS = 3

EndReason = Literal["revoked", "expired", "deleted"]
GONE_MESSAGES: dict[str, str] = {
    "revoked": "The owner stopped sharing this conversation",
    "expired": "This link has expired",
    "deleted": "This conversation was deleted",
}


# -- wire models ---------------------------------------------------------------------------------
class CreateShare(InputModel):
    expires_in_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_EXPIRY_DAYS,
        description="Days until the link stops working (1–365); omitted or null: it never expires",
    )


class ShareLink(ApiModel):
    """One of a conversation's links, as its owner lists it."""

    id: str
    conversation_id: str
    path: str = Field(description="The app's page for the link, on the app's origin: `/#/s/<id>`")
    created_at: str
    expires_at: str | None = Field(description="When it stops working; null: never")
    expired: bool
    message_count: int = Field(description="Messages in the snapshot")


class ShareList(ApiModel):
    items: list[ShareLink] = Field(description="Oldest first")
    limit: int = Field(description="Links one conversation may have at once")


class SharedAttachment(ApiModel):
    name: str
    kind: AttachmentKind


class SharedMessage(ApiModel):
    role: Role
    author_name: str
    content: str
    created_at: str
    attachments: list[SharedAttachment] = Field(
        default_factory=list, description="Names and kinds only: files are not shared"
    )


class SharedConversation(ApiModel):
    """The snapshot: what `GET /shared/{shareId}` returns, and all it returns."""

    version: Literal[1] = 1
    id: str = Field(description="The share link's id")
    title: str
    kind: Kind
    shared_at: str
    expires_at: str | None = None
    messages: list[SharedMessage]


# -- the snapshot --------------------------------------------------------------------------------
def shown_branch(kind: Kind, messages: list[Message]) -> list[Message]:
    """The messages a reader of the conversation sees, oldest first. A room is linear: every
    message. A chat with the assistant is a tree (`parley.branches`): the branch that ends at
    its newest message — each message back to the start through what it follows (a reply the
    question it answers, a question `parent_id`; a message from before branches the one before
    it)."""
    ordered = sorted(messages, key=lambda m: m.id)
    if kind != "assistant" or not ordered:
        return ordered
    by_id = {m.id: m for m in ordered}
    previous = {m.id: (ordered[i - 1].id if i else None) for i, m in enumerate(ordered)}
    path: list[Message] = []
    seen: set[str] = set()
    current: Message | None = ordered[-1]
    while current is not None and current.id not in seen:
        seen.add(current.id)
        path.append(current)
        follows = current.reply_to if current.role == "assistant" else current.parent_id
        if follows is None:
            follows = previous[current.id]
        current = by_id.get(follows) if follows is not None else None
    return list(reversed(path))


def build_snapshot(
    conversation: ConversationRecord,
    messages: list[Message],
    *,
    share_id: str,
    shared_at: str,
    expires_at: str | None,
) -> SharedConversation:
    """The snapshot of `conversation` now: the branch shown, finished replies and stopped ones
    as they stand (a reply still being written, or one that failed, is left out)."""
    shown = [
        SharedMessage(
            role=m.role,
            author_name=(m.author_name or "").strip()
            or ("Assistant" if m.role == "assistant" else "Participant"),
            content=m.content,
            created_at=m.created_at,
            attachments=[SharedAttachment(name=a.name, kind=a.kind) for a in m.attachments or []],
        )
        for m in shown_branch(conversation.kind, messages)
        if m.status in ("complete", "stopped")
    ]
    return SharedConversation(
        id=share_id,
        title=conversation.title,
        kind=conversation.kind,
        shared_at=shared_at,
        expires_at=expires_at,
        messages=shown,
    )


def snapshot_bytes(snapshot: SharedConversation) -> bytes:
    return json.dumps(
        snapshot.model_dump(mode="json", by_alias=True), ensure_ascii=False, separators=(",", ":")
    ).encode()


def new_share_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def valid_share_id(value: str) -> bool:
    return re.fullmatch(SHARE_ID_PATTERN, value) is not None


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def gone_reason(record: ShareRecord, now: datetime) -> EndReason | None:
    """Why the link no longer works, or None while it does. Expiry is checked here, at every
    read: the table's TTL deletes items late (up to days), never early enough to rely on."""
    if record.expires_at is not None and now >= _parse(record.expires_at):
        return "expired"
    if record.ended_at is not None:
        return "deleted" if record.ended_reason == "deleted" else "revoked"
    return None


# -- the owner's side (chat_api) -----------------------------------------------------------------
class Shares:
    def __init__(
        self,
        store: Store,
        records: ShareRepository,
        snapshots: SnapshotBucket,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.records = records
        self.snapshots = snapshots
        self.now = now

    def _owned(self, conversation_id: str, user_id: str) -> ConversationRecord:
        member = access.membership(self.store, conversation_id, user_id)
        access.require_may_share(member)
        return self.store.conversations.record(conversation_id)

    def create(self, conversation_id: str, user_id: str, body: CreateShare) -> ShareLink:
        """Snapshot the conversation now; the link exists only once both items are written."""
        conversation = self._owned(conversation_id, user_id)
        now = self.now()
        expires = now + timedelta(days=body.expires_in_days) if body.expires_in_days else None
        share_id = new_share_id()
        snapshot = build_snapshot(
            conversation,
            self.records.messages(conversation_id),
            share_id=share_id,
            shared_at=iso(now),
            expires_at=iso(expires) if expires else None,
        )
        if not snapshot.messages:
            raise Conflict("This conversation has no messages to share yet")
        body_bytes = snapshot_bytes(snapshot)
        if len(body_bytes) > MAX_SNAPSHOT_BYTES:
            raise Conflict(
                f"This conversation is too long to share ({len(body_bytes) // 1_048_576 + 1} MB;"
                f" a shared conversation is at most {MAX_SNAPSHOT_BYTES // 1_048_576} MB)"
            )
        self.snapshots.put(share_id, body_bytes)
        try:
            record = self._list(conversation_id, user_id, share_id, snapshot, expires)
        except BaseException:
            self.snapshots.delete(share_id)  # no link: no snapshot either
            raise
        return self.view(record)

    def _list(
        self,
        conversation_id: str,
        owner_id: str,
        share_id: str,
        snapshot: SharedConversation,
        expires: datetime | None,
    ) -> ShareRecord:
        for _ in range(CREATE_ATTEMPTS):
            taken = {r.slot for r in self.records.listed(conversation_id)}
            free = [slot for slot in range(MAX_LINKS) if slot not in taken]
            if not free:
                raise Conflict(
                    f"A conversation can have at most {MAX_LINKS} share links; "
                    "revoke one to make another"
                )
            record = ShareRecord(
                id=share_id,
                conversation_id=conversation_id,
                owner_id=owner_id,
                created_at=snapshot.shared_at,
                message_count=len(snapshot.messages),
                slot=free[0],
                expires_at=snapshot.expires_at,
            )
            try:
                self.records.create(
                    record,
                    lookup_purge_at=_epoch(expires + timedelta(days=ENDED_KEPT_DAYS))
                    if expires
                    else None,
                    listing_purge_at=_epoch(expires + timedelta(days=LISTED_AFTER_EXPIRY_DAYS))
                    if expires
                    else None,
                )
            except SlotTaken:
                continue  # another link took that slot at the same instant: read again
            return record
        raise Conflict("Too many share links are being made at once; please try again")

    def list(self, conversation_id: str, user_id: str) -> ShareList:
        self._owned(conversation_id, user_id)
        records = sorted(self.records.listed(conversation_id), key=lambda r: r.created_at)
        return ShareList(items=[self.view(r) for r in records], limit=MAX_LINKS)

    def revoke(self, conversation_id: str, user_id: str, share_id: str) -> None:
        """End the link now and delete its snapshot; another conversation's link, or one
        already revoked, is not found."""
        self._owned(conversation_id, user_id)
        listed = {r.id: r for r in self.records.listed(conversation_id)}
        record = listed.get(share_id)
        if record is None or not self._end(record, "revoked"):
            raise ShareNotFound()
        self.snapshots.delete(share_id)

    def end_all(self, conversation_id: str) -> int:
        """The conversation was deleted: every link of it ends now. How many ended."""
        return end_links(self.records, conversation_id, self.now())

    def _end(self, record: ShareRecord, reason: EndReason) -> bool:
        return _end(self.records, record, reason, self.now())

    def view(self, record: ShareRecord) -> ShareLink:
        expired = record.expires_at is not None and self.now() >= _parse(record.expires_at)
        return ShareLink(
            id=record.id,
            conversation_id=record.conversation_id,
            path=f"{APP_PATH}{record.id}",
            created_at=record.created_at,
            expires_at=record.expires_at,
            expired=expired,
            message_count=record.message_count,
        )


def end_links(records: ShareRepository, conversation_id: str, now: datetime) -> int:
    """End every link of a conversation just deleted (the items only: the change feed deletes
    the snapshots and the list as it purges the conversation, so no bucket is needed here).
    How many ended."""
    return sum(_end(records, r, "deleted", now) for r in records.listed(conversation_id))


def _end(records: ShareRepository, record: ShareRecord, reason: EndReason, now: datetime) -> bool:
    return records.end(
        record.conversation_id,
        record.id,
        slot=record.slot if reason == "revoked" else None,
        reason=reason,
        at=iso(now),
        purge_at=_epoch(now + timedelta(days=ENDED_KEPT_DAYS)),
    )


# -- the public side (share_api) ---------------------------------------------------------------
class SharedReader:
    """What the unauthenticated route may do: read one link's item and its snapshot."""

    def __init__(
        self,
        records: ShareRepository,
        snapshots: SnapshotBucket,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.records = records
        self.snapshots = snapshots
        self.now = now

    def read(self, share_id: str) -> bytes:
        """The snapshot's JSON; `ShareNotFound` (404) or `Gone` (410, with the reason)."""
        if not valid_share_id(share_id):
            raise ShareNotFound()
        record = self.records.get(share_id)
        if record is None:
            raise ShareNotFound()
        reason = gone_reason(record, self.now())
        if reason is not None:
            raise Gone(GONE_MESSAGES[reason], reason=reason)
        body = self.snapshots.get(share_id)
        if body is None:  # ended between the two reads; its snapshot already deleted
            raise Gone(GONE_MESSAGES["revoked"], reason="revoked")
        return body


# -- the change feed (stream_processor) ----------------------------------------------------------
class ShareCleanup:
    """Change-feed projection: a link's list item removed — its conversation purged, or its
    TTL a day after it expired — ends the link and deletes its snapshot. Both are idempotent,
    so a redelivered change is harmless."""

    def __init__(
        self,
        records: ShareRepository,
        snapshots: SnapshotBucket | None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.records = records
        self.snapshots = snapshots
        self.now = now

    @classmethod
    def from_environment(cls, store: Store) -> ShareCleanup:
        """Over the shares bucket the environment names (none: nothing to delete)."""
        import boto3

        from parley.config import ConfigurationError, ShareSettings, get_settings
        from parley.store.shares import ShareRepository, SnapshotBucket

        records = ShareRepository(store.messages.table)
        try:
            settings = get_settings(ShareSettings)
        except ConfigurationError:
            return cls(records, None)
        client = boto3.client("s3", region_name=settings.aws_region)
        return cls(records, SnapshotBucket(client, settings.shares_bucket_name))

    def apply(self, change: Change) -> None:
        if (
            change.event != "REMOVE"
            or not change.pk.startswith("CONV#")
            or not change.sk.startswith(SHARE_PREFIX)
            or change.old is None
            or "share_id" not in change.old
        ):
            return
        share_id = str(change.old["share_id"])
        now = self.now()
        self.records.end(
            change.pk.removeprefix("CONV#"),
            share_id,
            slot=None,
            reason="deleted",
            at=iso(now),
            purge_at=_epoch(now + timedelta(days=ENDED_KEPT_DAYS)),
        )
        if self.snapshots is not None:
            self.snapshots.delete(share_id)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
