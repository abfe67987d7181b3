"""Conversations: list, create, read, rename, delete."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentProfile, CurrentUser, store
from chat_api.docs import errors, ok
from parley.groups import groups_of
from parley.models import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Conversation,
    ConversationPage,
    CreateConversation,
    UpdateConversation,
)
from parley.services import conversations

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

PathId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Id")
]
"""An id in a path: a conversation's, a message's, an attachment's."""
ConversationId = PathId
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")]
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"
"""What a cursor is made of (URL-safe base64, unpadded: `parley.store.table.encode_cursor`).

Stated in the document; not checked here, so that every bad cursor gets the same 400
"Invalid cursor" from the store, which also refuses a well-formed cursor it did not issue for
this listing."""
Cursor = Annotated[
    str | None,
    Query(
        max_length=2048,
        description="`nextCursor` of the previous page of this listing (opaque)",
        json_schema_extra={"pattern": CURSOR_PATTERN},
    ),
]


@router.get(
    "/conversations",
    summary="My conversations, most recent activity first",
    tags=["conversations"],
    responses={**ok(200, ConversationPage, "A page of conversations"), **errors()},
)
def list_conversations(
    me: CurrentUser, limit: Limit = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> ConversationPage:
    items, next_cursor = store().conversations.list_for(me.sub, limit=limit, cursor=cursor)
    return ConversationPage(items=items, next_cursor=next_cursor)


@router.post(
    "/conversations",
    summary="Start a conversation",
    tags=["conversations"],
    responses={**ok(201, Conversation, "The new conversation"), **errors(400, 403, 404)},
)
def create_conversation(
    body: CreateConversation, me: CurrentProfile, who: CurrentUser
) -> Response[Conversation]:
    conversation = conversations().create(
        me,
        kind=body.kind,
        title=body.title,
        model=body.model,
        groups=groups_of(who.claims),
        assistant_id=body.assistant_id,
    )
    return Response(201, "application/json", conversation)


@router.get(
    "/conversations/<id>",
    summary="One of my conversations",
    tags=["conversations"],
    responses={**ok(200, Conversation, "The conversation"), **errors(404)},
)
def get_conversation(id: ConversationId, me: CurrentUser) -> Conversation:
    return conversations().get(id, me.sub)


@router.patch(
    "/conversations/<id>",
    summary="Rename a conversation, or choose the model that writes its next reply",
    tags=["conversations"],
    responses={**ok(200, Conversation, "The conversation as changed"), **errors(400, 403, 404)},
)
def rename_conversation(
    id: ConversationId,
    body: UpdateConversation,
    me: CurrentUser,
) -> Conversation:
    return conversations().update(
        id, me.sub, title=body.title, model=body.model, groups=groups_of(me.claims)
    )


@router.delete(
    "/conversations/<id>",
    summary="Delete a conversation with its messages and members (owner only)",
    tags=["conversations"],
    responses={204: {"description": "Deleted"}, **errors(403, 404)},
)
def delete_conversation(id: ConversationId, me: CurrentUser) -> Response[None]:
    conversations().delete(id, me.sub)
    return Response(204)
