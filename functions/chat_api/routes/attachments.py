"""Attachments: grant an upload, read its state, download a sent file (`parley.attachments`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentUser
from chat_api.docs import errors, ok
from chat_api.routes.conversations import ConversationId, PathId
from parley.errors import NotFound
from parley.models import Attachment, AttachmentDownload, RequestUpload, UploadGrant
from parley.services import attachments

if TYPE_CHECKING:
    from parley.attachments import Attachments

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

AttachmentId = PathId


def _attachments() -> Attachments:
    found = attachments()
    if found is None:
        raise NotFound("Attachments are not available")
    return found


@router.post(
    "/conversations/<id>/uploads",
    summary="Ask to upload a file to attach to a message",
    description=(
        "Members only. Answers a presigned S3 POST: send `fields` and then the file as `file` "
        "to `url` before `expiresAt`. S3 refuses another key, another type, a larger file or a "
        "late upload. The attachment is `pending` until the file is checked, then `ready` or "
        "`rejected` with a reason (poll `GET …/attachments/{attachmentId}`)."
    ),
    tags=["attachments"],
    responses={**ok(201, UploadGrant, "The upload form"), **errors(404)},
)
def request_upload(
    id: ConversationId, body: RequestUpload, me: CurrentUser
) -> Response[UploadGrant]:
    grant = _attachments().grant(
        me.sub, id, name=body.name, content_type=body.content_type, size=body.size
    )
    return Response(201, "application/json", grant)


@router.get(
    "/conversations/<id>/attachments/<attachmentId>",
    summary="An attachment's state",
    description="The uploader sees their own files; every member sees a file once it is sent.",
    tags=["attachments"],
    responses={**ok(200, Attachment, "The attachment"), **errors(404)},
)
def get_attachment(id: ConversationId, attachmentId: AttachmentId, me: CurrentUser) -> Attachment:
    return _attachments().status(me.sub, id, attachmentId)


@router.get(
    "/conversations/<id>/attachments/<attachmentId>/download",
    summary="A short-lived link to download an attachment",
    description=(
        "Members only, for a file sent in a message (or the uploader's own): a presigned GET, "
        "valid for minutes, that downloads the file (never shown inline)."
    ),
    tags=["attachments"],
    responses={**ok(200, AttachmentDownload, "The link"), **errors(404, 409)},
)
def download_attachment(
    id: ConversationId,
    attachmentId: AttachmentId,
    me: CurrentUser,
) -> AttachmentDownload:
    return _attachments().download(me.sub, id, attachmentId)
