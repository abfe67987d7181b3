"""The uploads bucket: presigned POSTs and GETs, reading a file, keeping or deleting it.

Objects live at `uploads/<conversation id>/<user id>/<attachment id>`; S3 notifies the upload
processor of every ObjectCreated under `uploads/`. A file arrives tagged `parley-state=pending`
(the presigned POST's policy requires the tag) and the bucket's lifecycle rule expires pending
files after a day; sending the file in a message re-tags it `kept`. Who may do any of this is
decided in `parley.attachments`; this adapter only talks to S3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "uploads/"
STATE_TAG = "parley-state"
PENDING_TAGGING = (
    f"<Tagging><TagSet><Tag><Key>{STATE_TAG}</Key><Value>pending</Value></Tag></TagSet></Tagging>"
)
"""The tag every upload must carry (the POST policy requires exactly this form field)."""


def object_key(conversation_id: str, user_id: str, attachment_id: str) -> str:
    return f"{PREFIX}{conversation_id}/{user_id}/{attachment_id}"


def parse_key(key: str) -> tuple[str, str, str] | None:
    """(conversation id, user id, attachment id) of an upload's key, or None for any other key."""
    if not key.startswith(PREFIX):
        return None
    parts = key[len(PREFIX) :].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    conversation_id, user_id, attachment_id = parts
    return conversation_id, user_id, attachment_id


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class ObjectRead:
    data: bytes
    size: int
    """The object's whole size (`data` may be only its start)."""


def content_disposition(name: str) -> str:
    """`attachment` with the file's name (RFC 6266): a download never renders in the page."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


class UploadBucket:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def presigned_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost:
        """A form the browser posts the file with: S3 refuses any other key, type, tag, a
        larger file, or a post after `expires_in` seconds."""
        fields = {"Content-Type": content_type, "tagging": PENDING_TAGGING}
        # boto3 adds the bucket and the exact key to the conditions itself.
        conditions: list[Any] = [
            {"Content-Type": content_type},
            {"tagging": PENDING_TAGGING},
            ["content-length-range", 1, max_bytes],
        ]
        post = self.client.generate_presigned_post(
            self.bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )
        return PresignedPost(url=post["url"], fields={k: str(v) for k, v in post["fields"].items()})

    def presigned_get(self, key: str, *, name: str, content_type: str, expires_in: int) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(name),
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-store",
            },
            ExpiresIn=expires_in,
        )

    def read(self, key: str, *, max_bytes: int) -> ObjectRead:
        """The first `max_bytes` + 1 bytes (enough to tell an oversized file) and the size."""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{max_bytes}"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "InvalidRange":  # an empty file
                return ObjectRead(data=b"", size=0)
            raise
        data = response["Body"].read()
        total = response.get("ContentRange", "").rpartition("/")[2]
        size = int(total) if total.isdigit() else len(data)
        return ObjectRead(data=data, size=size)

    def keep(self, key: str) -> None:
        """Take the file out of the pending expiry: it is sent in a message."""
        self.client.put_object_tagging(
            Bucket=self.bucket,
            Key=key,
            Tagging={"TagSet": [{"Key": STATE_TAG, "Value": "kept"}]},
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)
