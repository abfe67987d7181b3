"""Attachments: files and images a member sends with a message, as context for the assistant.

1. **Grant** (`POST /conversations/{id}/uploads`): a member asks to upload one file, naming its
   type and size; the type must be on the allow-list and the size within its kind's limit. The
   attachment is recorded `pending` and the browser gets a presigned POST whose policy S3
   enforces: that exact key (under the conversation's and the user's prefix), that type, at
   most that size, the pending tag, valid for minutes.
2. **Processing** (`upload_processor`, on S3 ObjectCreated): the key must name a pending
   attachment of that user in that conversation; the bytes must be the declared type
   (`parley.extraction`). The attachment becomes `ready` (documents with their text) or
   `rejected` with a reason, and a rejected file is deleted.
3. **Sending**: a message may carry up to the limit of attachments, each the sender's own, in
   this conversation and `ready` (checked here, and again in the transaction that stores the
   message); the files are then kept past the pending expiry.
4. **Reading**: the model's history gets each document's text and each image
   (`parley.history`); members download through presigned GETs — a file not yet sent only by
   its uploader.
5. **Deleting**: a purged conversation's attachment items reach `AttachmentCleanup` on the
   change feed, which deletes their files.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from parley import access
from parley.errors import AttachmentNotFound, InvalidInput, PayloadTooLarge
from parley.extraction import (
    DOCUMENT_TYPES,
    IMAGE_TYPES,
    REASONS,
    Unacceptable,
    examine,
    kind_of,
)
from parley.ids import iso, new_ulid, now_iso
from parley.models import Attachment, AttachmentDownload, MessageAttachment, UploadGrant
from parley.store.attachments import AttachmentRecord
from parley.store.uploads import object_key, parse_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from parley.catalog import Catalog
    from parley.changes import Change
    from parley.models import Message
    from parley.store import Store
    from parley.store.uploads import UploadBucket

log = logging.getLogger("parley.attachments")

GRANT_SECONDS = 300
"""How long a presigned POST may be used."""
DOWNLOAD_SECONDS = 300
"""How long a presigned GET works."""
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class UploadLimits:
    """Per environment (manifest refs, Terraform variables)."""

    document_bytes: int = 10 * 1024 * 1024
    image_bytes: int = 5 * 1024 * 1024
    per_message: int = 10

    def max_bytes(self, kind: str) -> int:
        return self.image_bytes if kind == "image" else self.document_bytes


@dataclass(frozen=True)
class AttachmentContent:
    """What the model reads of one attachment."""

    id: str
    name: str
    kind: str
    content_type: str
    text: str | None = None
    truncated: bool = False
    data: bytes | None = None
    """An image's bytes (only when the model sees images)."""


def clean_name(name: str) -> str:
    """The file's name as shown and stored: no path, no control characters, not empty."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    name = re.sub(r"\s+", " ", name)[:MAX_NAME_CHARS]
    return name or "file"


def view(record: AttachmentRecord) -> Attachment:
    return Attachment(
        id=record.id,
        conversation_id=record.conversation_id,
        owner_id=record.owner_id,
        name=record.name,
        content_type=record.content_type,
        size=record.size,
        kind=record.kind,
        status=record.status,
        reason=record.reason,
        reason_message=REASONS.get(record.reason) if record.reason else None,  # type: ignore[call-overload]
        text_chars=record.text_chars,
        truncated=record.truncated,
        pages=record.pages,
        created_at=record.created_at,
    )


def summary(record: AttachmentRecord) -> MessageAttachment:
    """What a message carries of each attachment."""
    return MessageAttachment(
        id=record.id,
        name=record.name,
        content_type=record.content_type,
        size=record.size,
        kind=record.kind,
    )


class Attachments:
    def __init__(
        self,
        store: Store,
        bucket: UploadBucket,
        limits: UploadLimits,
        *,
        sees_images: bool,
        catalog: Callable[[], Catalog] | None = None,
    ) -> None:
        self.store = store
        self.bucket = bucket
        self.limits = limits
        self.sees_images = sees_images
        self.catalog = catalog
        """The environment's models: whether the assistant sees an image is then the
        conversation's model's `vision` (`parley.catalog`), not `sees_images`."""

    # -- 1. grant --------------------------------------------------------------------------------
    def grant(
        self, user_id: str, conversation_id: str, *, name: str, content_type: str, size: int
    ) -> UploadGrant:
        access.membership(self.store, conversation_id, user_id)
        content_type = content_type.split(";", 1)[0].strip().lower()
        kind = kind_of(content_type)
        if kind is None:
            allowed = ", ".join(sorted(DOCUMENT_TYPES | IMAGE_TYPES))
            raise InvalidInput(f"Files of type {content_type} cannot be attached ({allowed})")
        limit = self.limits.max_bytes(kind)
        if size > limit:
            raise PayloadTooLarge(
                f"The file is {size:,} bytes; a {kind} may be at most {limit:,} bytes"
            )
        attachment_id = new_ulid()
        now = now_iso()
        record = AttachmentRecord(
            id=attachment_id,
            conversation_id=conversation_id,
            owner_id=user_id,
            name=clean_name(name),
            content_type=content_type,
            size=size,
            kind=kind,
            status="pending",
            object_key=object_key(conversation_id, user_id, attachment_id),
            created_at=now,
            updated_at=now,
        )
        self.store.attachments.create(record)
        post = self.bucket.presigned_post(
            record.object_key, content_type=content_type, max_bytes=size, expires_in=GRANT_SECONDS
        )
        expires = iso(datetime.now(UTC) + timedelta(seconds=GRANT_SECONDS))
        return UploadGrant(
            attachment=view(record),
            url=post.url,
            fields=post.fields,
            expires_at=expires,
            assistant_sees_images=self._sees_images(conversation_id),
        )

    def _sees_images(self, conversation_id: str) -> bool:
        if self.catalog is None:
            return self.sees_images
        record = self.store.conversations.record(conversation_id)
        return self.catalog().for_conversation(record.model).vision

    def status(self, user_id: str, conversation_id: str, attachment_id: str) -> Attachment:
        access.membership(self.store, conversation_id, user_id)
        record = self.store.attachments.get(conversation_id, attachment_id)
        access.require_may_see_attachment(record, user_id)
        assert record is not None
        return view(record)

    # -- 2. processing ---------------------------------------------------------------------------
    def process(self, key: str) -> AttachmentRecord | None:
        """Check and extract the file S3 stored at `key`; None when the key names no pending
        attachment of its uploader (then the file is deleted: nobody was granted it)."""
        parsed = parse_key(key)
        record = None
        if parsed is not None:
            conversation_id, user_id, attachment_id = parsed
            record = self.store.attachments.get(conversation_id, attachment_id)
            if record is not None and (record.owner_id != user_id or record.object_key != key):
                record = None
        if record is None:
            log.warning("upload without a grant deleted", extra={"key": key})
            self.bucket.delete(key)
            return None
        if record.status != "pending":
            return record  # a redelivered event: settled already
        limit = min(record.size, self.limits.max_bytes(record.kind))
        read = self.bucket.read(key, max_bytes=limit)
        try:
            if read.size > limit:
                raise Unacceptable("too_large", f"{read.size} bytes; at most {limit}")
            found = examine(read.data, record.content_type)
        except Unacceptable as refusal:
            log.info("upload rejected", extra={"reason": refusal.reason, "detail": refusal.detail})
            settled = self.store.attachments.settle(
                record, status="rejected", reason=refusal.reason, detail=refusal.detail
            )
            self.bucket.delete(key)
            return settled
        return self.store.attachments.settle(
            record,
            status="ready",
            content_type=found.content_type,
            text=found.text,
            truncated=found.truncated,
            pages=found.pages,
        )

    # -- 3. sending ------------------------------------------------------------------------------
    def for_message(
        self, conversation_id: str, author_id: str, attachment_ids: Sequence[str]
    ) -> list[AttachmentRecord]:
        """The attachments a message of `author_id` may carry, in the order given."""
        ids = list(dict.fromkeys(attachment_ids))
        if not ids:
            return []
        if len(ids) > self.limits.per_message:
            raise InvalidInput(f"A message can carry at most {self.limits.per_message} attachments")
        found = self.store.attachments.many(conversation_id, ids)
        records = [found.get(i) for i in ids]
        for record in records:
            access.require_may_reference(record, author_id)
        return [r for r in records if r is not None]

    def keep(self, records: Iterable[AttachmentRecord]) -> None:
        for record in records:
            self.bucket.keep(record.object_key)

    # -- 4. reading ------------------------------------------------------------------------------
    def download(
        self, user_id: str, conversation_id: str, attachment_id: str
    ) -> AttachmentDownload:
        access.membership(self.store, conversation_id, user_id)
        record = self.store.attachments.get(conversation_id, attachment_id)
        access.require_may_download(record, user_id)
        assert record is not None
        shown = record.content_type
        if record.kind == "document":
            shown = "application/pdf" if shown == "application/pdf" else "text/plain; charset=utf-8"
        url = self.bucket.presigned_get(
            record.object_key, name=record.name, content_type=shown, expires_in=DOWNLOAD_SECONDS
        )
        expires = iso(datetime.now(UTC) + timedelta(seconds=DOWNLOAD_SECONDS))
        return AttachmentDownload(url=url, expires_at=expires, name=record.name)

    def contents(
        self, messages: Sequence[Message], *, images: bool | None = None
    ) -> dict[str, AttachmentContent]:
        """What the model reads of the attachments of `messages` (one conversation's); the
        question's images only when `images` (default: `sees_images`)."""
        images = self.sees_images if images is None else images
        wanted = [a.id for m in messages for a in m.attachments or ()]
        if not wanted:
            return {}
        conversation_id = messages[0].conversation_id
        question = next((m for m in reversed(messages) if m.role == "user"), None)
        seen = {a.id for a in question.attachments or ()} if question is not None else set()
        records = self.store.attachments.many(conversation_id, wanted, with_text=True)
        out: dict[str, AttachmentContent] = {}
        for record in records.values():
            if record.status != "ready":
                continue
            data = None
            if record.kind == "image" and images and record.id in seen:
                try:
                    data = self.bucket.read(
                        record.object_key, max_bytes=self.limits.image_bytes
                    ).data
                except ClientError:  # gone (expired, deleted): the model gets a note instead
                    log.warning("attachment file missing", extra={"attachment": record.id})
            out[record.id] = AttachmentContent(
                id=record.id,
                name=record.name,
                kind=record.kind,
                content_type=record.content_type,
                text=record.text,
                truncated=record.truncated,
                data=data,
            )
        return out


class AttachmentCleanup:
    """Change-feed projection: an attachment item removed (its conversation purged) takes its
    file with it. Deleting a file that is gone already is a success, so redelivery is safe."""

    def __init__(self, bucket: UploadBucket | None) -> None:
        self.bucket = bucket

    @classmethod
    def from_environment(cls) -> AttachmentCleanup:
        """Over the uploads bucket the environment names (none: attachments are off)."""
        import boto3

        from parley.config import UploadSettings, get_settings
        from parley.store.uploads import UploadBucket

        settings = get_settings(UploadSettings)
        if not settings.uploads_bucket_name:
            return cls(None)
        client = boto3.client("s3", region_name=settings.aws_region)
        return cls(UploadBucket(client, settings.uploads_bucket_name))

    def apply(self, change: Change) -> None:
        if change.event != "REMOVE" or not change.sk.startswith("ATT#") or change.old is None:
            return
        key = change.old.get("object_key")
        if self.bucket is not None and isinstance(key, str) and parse_key(key) is not None:
            self.bucket.delete(key)


__all__ = [
    "AttachmentCleanup",
    "AttachmentContent",
    "AttachmentNotFound",
    "Attachments",
    "UploadLimits",
]
