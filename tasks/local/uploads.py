"""The uploads bucket on the local stack: S3 as a browser and the upload processor see it.

moto stores objects but does not check a presigned POST's policy, apply its tagging, answer a
browser's CORS preflight for POSTs, or notify a function of ObjectCreated. `S3Gate` stands in
front of moto for the functions and the browser (the functions' `AWS_ENDPOINT_URL_S3`, so every
presigned URL points at it) and does what S3 does:

* a form POST to the uploads bucket is checked like S3 checks it — the SigV4 signature of the
  policy, its expiration, every condition (exact values, `starts-with`, `content-length-range`)
  and that every form field is covered — then stored in moto with its type and tags, and the
  bucket's notification is delivered: an `ObjectCreated:Post` event, invoked asynchronously on
  the function whose manifest `s3` trigger names the bucket and prefix (retries, DLQ);
* a presigned GET is refused once expired or when its signature does not match the request;
* CORS answers only the app's origins (as the bucket's CORS configuration does in AWS);
* everything else is passed to moto unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

import httpx

from tasks.local.bootstrap import FAKE_CREDENTIALS

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from tasks.core.manifest import Manifest

log = logging.getLogger("parley.local.uploads")

UPLOADS_BUCKET = "parley-local-uploads"
DEFAULT_LIMITS = {
    "upload_max_document_bytes": str(10 * 1024 * 1024),
    "upload_max_image_bytes": str(5 * 1024 * 1024),
    "upload_max_attachments": "10",
}
_EXEMPT_FIELDS = {"policy", "x-amz-signature", "file"}
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


class Refused(Exception):
    """S3 refuses the request: (HTTP status, S3 error code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _signing_key(secret: str, day: str, region: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_post(bucket: str, fields: dict[str, str], size: int, *, now: float) -> None:
    """Refuse a POST form as S3 would (fields keyed in lower case, values as sent)."""
    policy_b64 = fields.get("policy")
    if not policy_b64 or "x-amz-signature" not in fields:
        raise Refused(403, "AccessDenied", "Bucket POST must be signed")
    credential = fields.get("x-amz-credential", "").split("/")
    if len(credential) != 5 or fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        raise Refused(400, "InvalidArgument", "Bad credential or algorithm")
    access_key, day, region = credential[0], credential[1], credential[2]
    if access_key != FAKE_CREDENTIALS["aws_access_key_id"]:
        raise Refused(403, "InvalidAccessKeyId", "The AWS access key Id does not exist")
    key = _signing_key(FAKE_CREDENTIALS["aws_secret_access_key"], day, region)
    expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["x-amz-signature"]):
        raise Refused(403, "SignatureDoesNotMatch", "The signature does not match the policy")
    policy = json.loads(base64.b64decode(policy_b64))
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
    if expires < now:
        raise Refused(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {**fields, "bucket": bucket}
    covered: set[str] = set()
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            ((name, wanted),) = condition.items()
            name = name.lower()
            covered.add(name)
            if values.get(name) != wanted:
                raise Refused(
                    403,
                    "AccessDenied",
                    f"Invalid according to Policy: Policy Condition failed: {name}",
                )
        elif condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size > high:
                raise Refused(
                    400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                )
            if size < low:
                raise Refused(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                )
        else:
            operator, name, wanted = condition[0], condition[1].lstrip("$").lower(), condition[2]
            covered.add(name)
            value = values.get(name, "")
            ok = value == wanted if operator == "eq" else value.startswith(wanted)
            if not ok:
                raise Refused(
                    403,
                    "AccessDenied",
                    f"Invalid according to Policy: Policy Condition failed: {name}",
                )
    extra = sorted(
        f for f in fields if f not in _EXEMPT_FIELDS | covered and not f.startswith("x-ignore-")
    )
    if extra:
        raise Refused(
            403,
            "AccessDenied",
            f"Invalid according to Policy: Extra input fields: {', '.join(extra)}",
        )


def check_presigned_get(method: str, host: str, path: str, query: str, *, now: float) -> None:
    """Refuse an expired or tampered presigned GET (SigV4 query authentication)."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    params = dict(parse_qsl(query, keep_blank_values=True))
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if signed_at.timestamp() + int(params.get("X-Amz-Expires", "0")) < now:
        raise Refused(403, "AccessDenied", "Request has expired")
    credential = params.get("X-Amz-Credential", "").split("/")
    if len(credential) != 5:
        raise Refused(400, "AuthorizationQueryParametersError", "Bad credential")
    auth_params = {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    }
    rest = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in auth_params]
    url = f"http://{host}{path}" + (f"?{urlencode(rest, quote_via=quote)}" if rest else "")
    request = AWSRequest(method=method, url=url, headers={"host": host})
    auth = S3SigV4QueryAuth(
        Credentials(
            FAKE_CREDENTIALS["aws_access_key_id"], FAKE_CREDENTIALS["aws_secret_access_key"]
        ),
        "s3",
        credential[2],
        expires=int(params.get("X-Amz-Expires", "0")),
    )
    request.context["timestamp"] = params["X-Amz-Date"]
    # botocore's own steps of add_auth, with the request's signing time instead of now.
    auth._modify_request_before_signing(request)  # type: ignore[attr-defined]
    signature = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    if not hmac.compare_digest(signature, params.get("X-Amz-Signature", "")):
        raise Refused(403, "SignatureDoesNotMatch", "The request signature does not match")


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], bytes | None, str | None]:
    """A multipart/form-data body: its fields (names lower-cased), the file and its part's type."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, str] = {}
    data: bytes | None = None
    file_type: str | None = None
    for part in message.iter_parts():
        param = part.get_param("name", header="content-disposition")
        name = param.lower() if isinstance(param, str) else ""
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        if name == "file":
            data = raw
            file_type = part.get_content_type()
        else:
            fields[name] = raw.decode("utf-8")
    return fields, data, file_type


def object_created(bucket: str, key: str, size: int, region: str) -> dict[str, Any]:
    """The S3 event notification for one new object (event version 2.1)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote(key), "size": size},
                },
            }
        ]
    }


@dataclass
class S3Gate:
    """ASGI app: the checks above, in front of moto."""

    moto_url: str
    bucket: str
    origins: tuple[str, ...]
    region: str
    notify: list[tuple[str, str]] = field(default_factory=list)
    """(prefix, function) pairs from the manifest's `s3` triggers."""
    runtime: Any = None
    """The local Lambda runtime (set once the gateway runs)."""
    clock: Any = time.time

    def __post_init__(self) -> None:
        self._client = httpx.AsyncClient(base_url=self.moto_url, timeout=60.0)

    async def close(self) -> None:
        await self._client.aclose()

    def _cors(self, origin: str | None, bucket: str) -> list[tuple[bytes, bytes]]:
        if bucket != self.bucket or not origin or origin not in self.origins:
            return []
        return [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-methods", b"GET, POST, HEAD"),
            (b"access-control-allow-headers", b"content-type"),
            (b"access-control-expose-headers", b"etag"),
            (b"access-control-max-age", b"600"),
            (b"vary", b"Origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        method, path, query = scope["method"], scope["path"], scope["query_string"].decode()
        bucket = path.lstrip("/").split("/", 1)[0]
        cors = self._cors(headers.get("origin"), bucket)
        try:
            if method == "OPTIONS":
                await self._answer(send, 200 if cors else 403, cors, b"")
                return
            if (
                method == "POST"
                and bucket == self.bucket
                and path.rstrip("/") == f"/{bucket}"
                and not query
            ):
                await self._post(send, headers, body, cors)
                return
            if method in ("GET", "HEAD") and "X-Amz-Signature=" in query:
                check_presigned_get(method, headers.get("host", ""), path, query, now=self.clock())
        except Refused as refused:
            xml = (
                f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{refused.code}</Code>'
                f"<Message>{refused.message}</Message></Error>"
            ).encode()
            await self._answer(
                send, refused.status, [*cors, (b"content-type", b"application/xml")], xml
            )
            return
        await self._proxy(scope, send, headers, body, cors)

    async def _post(
        self, send: Send, headers: dict[str, str], body: bytes, cors: list[tuple[bytes, bytes]]
    ) -> None:
        fields, data, file_type = parse_form(headers.get("content-type", ""), body)
        if data is None or "key" not in fields:
            raise Refused(400, "InvalidArgument", "POST requires a key and a file")
        check_post(self.bucket, fields, len(data), now=self.clock())
        key = fields["key"]
        tags = fields.get("tagging")
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentType": fields.get("content-type") or file_type or "binary/octet-stream",
        }
        if tags:  # S3's tagging XML, as the policy required it (no XML parser on user input)
            pairs = re.findall(r"<Tag><Key>([^<]*)</Key><Value>([^<]*)</Value></Tag>", tags)
            args["Tagging"] = urlencode(pairs)
        await asyncio.to_thread(self._put, args)
        for prefix, function in self.notify:
            if key.startswith(prefix) and self.runtime is not None:
                self.runtime.invoke_event(
                    function, object_created(self.bucket, key, len(data), self.region)
                )
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()  # S3's ETag of a PUT
        await self._answer(send, 204, [*cors, (b"etag", f'"{etag}"'.encode())], b"")

    def _put(self, args: dict[str, Any]) -> None:
        import boto3

        boto3.client(
            "s3",
            endpoint_url=self.moto_url,
            region_name=self.region,
            aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
        ).put_object(**args)

    async def _proxy(
        self,
        scope: Scope,
        send: Send,
        headers: dict[str, str],
        body: bytes,
        cors: list[tuple[bytes, bytes]],
    ) -> None:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        target = raw_path.decode() + (
            f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        )
        forwarded = {k: v for k, v in headers.items() if k not in _HOP_HEADERS and k != "origin"}
        # moto signs nothing: the Host header is only used for virtual-host addressing.
        response = await self._client.request(
            scope["method"], target, headers=forwarded, content=body
        )
        out = [
            (k.encode(), v.encode())
            for k, v in response.headers.items()
            if k.lower() not in _HOP_HEADERS and not k.lower().startswith("access-control-")
        ]
        await self._answer(send, response.status_code, [*out, *cors], response.content)

    @staticmethod
    async def _answer(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def notifications(manifest: Manifest) -> list[tuple[str, str]]:
    """(prefix, function) for every manifest function S3 notifies of the uploads bucket."""
    return [
        (f.triggers.s3.prefix, name)
        for name, f in manifest.functions.items()
        if f.triggers.s3 is not None and f.triggers.s3.bucket == "uploads"
    ]


def create_bucket(session: Any, moto_url: str, origins: tuple[str, ...]) -> str:
    """The uploads bucket in moto, private, with the app's CORS (kept if it exists)."""
    s3 = session.client("s3", endpoint_url=moto_url)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if UPLOADS_BUCKET not in existing:
        s3.create_bucket(Bucket=UPLOADS_BUCKET)
    s3.put_bucket_cors(
        Bucket=UPLOADS_BUCKET,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": list(origins),
                    "AllowedMethods": ["GET", "POST", "HEAD"],
                    "AllowedHeaders": ["content-type"],
                    "ExposeHeaders": ["etag"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )
    return UPLOADS_BUCKET


def upload_refs(model: str) -> dict[str, str]:
    """The manifest refs of attachments on the local stack (AWS: Terraform variables)."""
    return {
        "uploads_bucket_name": UPLOADS_BUCKET,
        **DEFAULT_LIMITS,
        # The scripted model records image blocks; the tiny local model cannot see images.
        "model_accepts_images": "false" if model == "local" else "true",
    }
