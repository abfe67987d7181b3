"""The steps of the export workflow (`export_worker`), one Lambda invocation each.

The state machine (`functions/workflows/export.asl.json`) runs them in order:

1. `plan` — checks the asker is still a member, reads the message keys only (never the text)
   and cuts the history into pages of `PAGE_SIZE` messages, each a key range;
2. `page` (a Map state, a few pages at a time) — reads one page's messages, renders them and
   writes the fragment to the exports bucket as a part; what passes through the state machine is
   a count, never the text (its payloads are limited to 256 KB);
3. `assemble` — concatenates the parts in order into the file, in chunks of at least 5 MB
   (S3's multipart minimum), so memory stays bounded whatever the history's size, deletes the
   parts and marks the export `ready`;
4. `notify` — tells the asker's open apps `export.ready`, with a link valid for minutes;
5. `fail` (any step that failed for good) — marks the export `failed` with a reason a person
   can read, removes the parts and tells the apps `export.failed`.

Every step is safe to run twice (Step Functions retries each with backoff): parts are
overwritten, the file is written whole, and the export ends only once.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from parley import access
from parley.errors import ConversationNotFound
from parley.exports import LINK_SECONDS
from parley.ids import iso, now_iso
from parley.models import Message
from parley.realtime.protocol import ExportFailed, ExportReady
from parley.store.messages import to_message
from parley.store.table import conv_pk

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from parley.realtime.fanout import Broadcaster
    from parley.store import Store
    from parley.store.exports import ExportRepository

logger = logging.getLogger(__name__)

PAGE_SIZE = 500
"""Messages per page: at the 32,000-character limit a page renders to ~16 MB at worst, far
inside the worker's memory; a 5,000-message history is 10 pages."""
CHUNK_BYTES = 8 * 1024 * 1024
"""Bytes per multipart upload part while assembling (S3 wants ≥ 5 MB for all but the last)."""
GENERIC_FAILURE = "The export could not be completed; please try again"


class ExportRefused(Exception):
    """A step that must not be retried: the message is shown to the user as it is."""


@dataclass(frozen=True)
class ExportInput:
    id: str
    user_id: str
    conversation_id: str
    format: str

    @classmethod
    def of(cls, event: dict[str, Any]) -> ExportInput:
        data = event["export"]
        fmt = str(data["format"])
        if fmt not in ("md", "json"):
            raise ExportRefused(f"Unknown export format {fmt!r}")
        return cls(str(data["id"]), str(data["userId"]), str(data["conversationId"]), fmt)

    @property
    def prefix(self) -> str:
        return f"exports/{self.user_id}/{self.id}"

    def part_key(self, part: int) -> str:
        return f"{self.prefix}/parts/{part:05d}"


# -- rendering -------------------------------------------------------------------------------
def message_json(message: Message) -> str:
    """A message as the HTTP API shows it (`GET /conversations/{id}/messages`)."""
    return json.dumps(
        message.model_dump(mode="json", by_alias=True), ensure_ascii=False, sort_keys=True
    )


def render_markdown(messages: list[Message]) -> str:
    blocks = []
    for message in messages:
        author = message.author_name or ("Assistant" if message.role == "assistant" else "User")
        note = "" if message.status == "complete" else f" _({message.status})_"
        blocks.append(f"### {author} · {message.created_at}{note}\n\n{message.content}\n\n")
    return "".join(blocks)


def markdown_header(title: str, count: int, exported_at: str) -> str:
    return (
        f"# {title}\n\n"
        f"Exported from Parley on {exported_at} · {count} message{'s' * (count != 1)}\n\n"
        "---\n\n"
    )


def json_header(record: dict[str, Any], count: int, exported_at: str) -> str:
    head = json.dumps(
        {"conversation": record, "exportedAt": exported_at, "messageCount": count},
        ensure_ascii=False,
        sort_keys=True,
    )
    return head[:-1] + ', "messages": ['


def file_name(title: str, fmt: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:60] or "conversation"
    return f"{slug}.{fmt}"


class ExportJob:
    def __init__(
        self,
        *,
        store: Store,
        records: ExportRepository,
        s3: S3Client,
        bucket: str,
        broadcaster: Broadcaster,
        page_size: int = PAGE_SIZE,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self.store = store
        self.records = records
        self.s3 = s3
        self.bucket = bucket
        self.broadcaster = broadcaster
        self.page_size = page_size
        self.chunk_bytes = chunk_bytes

    def run(self, event: dict[str, Any]) -> dict[str, Any]:
        """One step, as the state machine names it in `step`."""
        job = ExportInput.of(event)
        step = event.get("step")
        if step == "plan":
            return self.plan(job)
        if step == "page":
            return self.page(job, event["page"])
        if step == "assemble":
            return self.assemble(job, [int(p.get("count", 0)) for p in event["pages"]])
        if step == "notify":
            return self.notify(job)
        if step == "fail":
            return self.fail(job, event.get("error") or {})
        raise ExportRefused(f"Unknown step {step!r}")

    # -- 1. plan -----------------------------------------------------------------------------------
    def plan(self, job: ExportInput) -> dict[str, Any]:
        try:
            access.membership(self.store, job.conversation_id, job.user_id)
        except ConversationNotFound:
            raise ExportRefused(
                "The conversation was deleted, or you are no longer a member of it"
            ) from None
        pages: list[dict[str, Any]] = []
        current: list[str] = []
        count = 0
        for sk in self._message_keys(job.conversation_id):
            count += 1
            current.append(sk)
            if len(current) == self.page_size:
                pages.append({"part": len(pages), "from": current[0], "to": current[-1]})
                current = []
        if current:
            pages.append({"part": len(pages), "from": current[0], "to": current[-1]})
        return {"pages": pages, "count": count}

    def _message_keys(self, conversation_id: str) -> Iterator[str]:
        args: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(conv_pk(conversation_id))
            & Key("sk").begins_with("MSG#"),
            "ProjectionExpression": "sk",
            "ConsistentRead": True,
        }
        while True:
            response = self.store.messages.table.query(**args)
            for item in response.get("Items", []):
                yield str(item["sk"])
            if "LastEvaluatedKey" not in response:
                return
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- 2. one page -------------------------------------------------------------------------------
    def page(self, job: ExportInput, page: dict[str, Any]) -> dict[str, Any]:
        messages = self._messages(job.conversation_id, str(page["from"]), str(page["to"]))
        if job.format == "json":
            body = ",\n".join(message_json(m) for m in messages)
        else:
            body = render_markdown(messages)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=job.part_key(int(page["part"])),
            Body=body.encode(),
            ContentType="text/plain; charset=utf-8",
        )
        return {"part": int(page["part"]), "count": len(messages)}

    def _messages(self, conversation_id: str, first: str, last: str) -> list[Message]:
        args: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(conv_pk(conversation_id))
            & Key("sk").between(first, last),
            "ConsistentRead": True,
        }
        messages: list[Message] = []
        while True:
            response = self.store.messages.table.query(**args)
            messages.extend(to_message(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return messages
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- 3. assemble -------------------------------------------------------------------------------
    def assemble(self, job: ExportInput, counts: list[int]) -> dict[str, Any]:
        try:
            record = self.store.conversations.record(job.conversation_id)
        except ConversationNotFound:
            raise ExportRefused(
                "The conversation was deleted while it was being exported"
            ) from None
        total = sum(counts)
        exported_at = now_iso()
        name = file_name(record.title, job.format)
        key = f"{job.prefix}/{name}"
        if job.format == "json":
            conversation = {"id": record.id, "kind": record.kind, "title": record.title}
            head, joiner, tail = (
                json_header(conversation, total, exported_at) + "\n",
                ",\n",
                "\n]}\n",
            )
        else:
            head, joiner, tail = markdown_header(record.title, total, exported_at), "", ""
        writer = _ChunkedWriter(self.s3, self.bucket, key, self.chunk_bytes, _content_type(job))
        try:
            writer.write(head.encode())
            first = True
            for part, count in enumerate(counts):
                if not count:
                    continue
                body = self.s3.get_object(Bucket=self.bucket, Key=job.part_key(part))["Body"]
                if not first:
                    writer.write(joiner.encode())
                first = False
                while chunk := body.read(1024 * 1024):
                    writer.write(chunk)
            writer.write(tail.encode())
            writer.close()
        except BaseException:
            writer.abort()
            raise
        self._remove_parts(job, len(counts))
        self.records.finish(
            job.user_id, job.id, status="ready", key=key, file_name=name, message_count=total
        )
        return {"messageCount": total}

    def _remove_parts(self, job: ExportInput, parts: int) -> None:
        keys: list[Any] = [{"Key": job.part_key(p)} for p in range(parts)]
        for start in range(0, len(keys), 1000):
            self.s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": keys[start : start + 1000], "Quiet": True}
            )

    # -- 4. notify ---------------------------------------------------------------------------------
    def notify(self, job: ExportInput) -> dict[str, Any]:
        record = self.records.get(job.user_id, job.id)
        if record is None or record.status != "ready" or not record.key:
            raise ExportRefused("The export is not ready")
        url = self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": record.key,
                "ResponseContentDisposition": f'attachment; filename="{record.file_name}"',
            },
            ExpiresIn=LINK_SECONDS,
        )
        expires = _in(LINK_SECONDS)
        event = ExportReady(
            export_id=record.id,
            conversation_id=record.conversation_id,
            format=record.format,
            file_name=record.file_name or "",
            message_count=record.message_count or 0,
            download_url=url,
            download_expires_at=expires,
        )
        return {"told": self._tell(job.user_id, event)}

    # -- 5. fail -----------------------------------------------------------------------------------
    def fail(self, job: ExportInput, error: dict[str, Any]) -> dict[str, Any]:
        reason = _reason(error)
        logger.warning("export failed", extra={"export": job.id, "error": error.get("Error")})
        record = self.records.finish(job.user_id, job.id, status="failed", error=reason)
        try:
            self._remove_parts(job, self._parts_written(job))
        except Exception:  # the lifecycle rule removes them anyway
            logger.exception("removing the parts of a failed export failed")
        told = 0
        if record is not None:
            told = self._tell(
                job.user_id,
                ExportFailed(export_id=job.id, conversation_id=job.conversation_id, reason=reason),
            )
        return {"told": told}

    def _parts_written(self, job: ExportInput) -> int:
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=f"{job.prefix}/parts/")
        return len(listed.get("Contents", []))

    def _tell(self, user_id: str, event: ExportReady | ExportFailed) -> int:
        """Send to every open connection of the user (a personal event); how many got it."""
        return self.broadcaster.tell_users({user_id: event}).delivered


def _in(seconds: int) -> str:
    return iso(datetime.fromtimestamp(datetime.now(UTC).timestamp() + seconds, UTC))


def _content_type(job: ExportInput) -> str:
    return "application/json" if job.format == "json" else "text/markdown; charset=utf-8"


def _reason(error: dict[str, Any]) -> str:
    """A sentence for the user from the workflow's error: the refusal's own message, else a
    generic one (a stack trace or an AWS error never reaches the user)."""
    if error.get("Error") == "ExportRefused":
        try:
            message = json.loads(error.get("Cause") or "{}").get("errorMessage")
        except ValueError:
            message = None
        if isinstance(message, str) and message:
            return message[:300]
    return GENERIC_FAILURE


class _ChunkedWriter:
    """Writes one S3 object from a stream of bytes: a single PutObject when it is small,
    a multipart upload of `chunk`-sized parts when it is not."""

    def __init__(self, s3: S3Client, bucket: str, key: str, chunk: int, content_type: str) -> None:
        self.s3, self.bucket, self.key, self.chunk = s3, bucket, key, chunk
        self.content_type = content_type
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= self.chunk:
            self._flush(bytes(self.buffer[: self.chunk]))
            del self.buffer[: self.chunk]

    def _flush(self, data: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )["UploadId"]
        number = len(self.parts) + 1
        etag = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )["ETag"]
        self.parts.append({"ETag": etag, "PartNumber": number})

    def close(self) -> None:
        if self.upload_id is None:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=bytes(self.buffer),
                ContentType=self.content_type,
            )
            return
        if self.buffer:
            self._flush(bytes(self.buffer))
            self.buffer.clear()
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},  # type: ignore[typeddict-item]
        )

    def abort(self) -> None:
        if self.upload_id is not None:
            try:
                self.s3.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
                )
            except Exception:  # the lifecycle rule aborts it after a day anyway
                logger.exception("aborting the multipart upload failed")
