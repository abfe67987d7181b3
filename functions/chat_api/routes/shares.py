"""Share links of a conversation: make one, list them, revoke one (the owner only).

The public side, `GET /shared/{shareId}`, is another function (`share_api`): it never runs
with this one's permissions.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentUser
from chat_api.docs import errors, ok
from chat_api.routes.conversations import ConversationId
from parley.services import shares
from parley.shares import SHARE_ID_PATTERN, CreateShare, ShareLink, ShareList

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

ShareId = Annotated[
    str, Path(min_length=24, max_length=24, pattern=SHARE_ID_PATTERN, description="Share id")
]


@router.post(
    "/conversations/<id>/shares",
    summary="Share the conversation as it is now: a read-only link (owner only)",
    description=(
        "Freezes the conversation into a snapshot (its title and the messages shown, with "
        "authors' names; no e-mails, no files) that anyone with the link reads at "
        "`GET /shared/{shareId}`, until it is revoked, expires or the conversation is deleted. "
        "Messages added later are never shown. At most 20 links per conversation."
    ),
    tags=["shares"],
    responses={**ok(201, ShareLink, "The new link"), **errors(403, 404, 409)},
)
def create_share(id: ConversationId, body: CreateShare, me: CurrentUser) -> Response[ShareLink]:
    return Response(201, "application/json", shares().create(id, me.sub, body))


@router.get(
    "/conversations/<id>/shares",
    summary="The conversation's share links (owner only)",
    tags=["shares"],
    responses={**ok(200, ShareList, "Its links, oldest first"), **errors(403, 404)},
)
def list_shares(id: ConversationId, me: CurrentUser) -> ShareList:
    return shares().list(id, me.sub)


@router.delete(
    "/conversations/<id>/shares/<shareId>",
    summary="Revoke a share link: it stops working at once (owner only)",
    tags=["shares"],
    responses={204: {"description": "Revoked"}, **errors(403, 404)},
)
def revoke_share(id: ConversationId, shareId: ShareId, me: CurrentUser) -> Response[None]:
    shares().revoke(id, me.sub, shareId)
    return Response(204)
