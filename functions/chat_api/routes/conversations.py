"""Conversations: list, create, read, rename, delete."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentProfile, CurrentUser, store
from chat_api.docs import errors, ok
from parley.models import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Conversation,
    ConversationPage,
    CreateConversation,
    UpdateConversation,
)

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

ConversationId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Id")
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=2048, description="From a previous page")]


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
    responses={**ok(201, Conversation, "The new conversation"), **errors()},
)
def create_conversation(body: CreateConversation, me: CurrentProfile) -> Response[Conversation]:
    conversation = store().conversations.create(me, kind=body.kind, title=body.title)
    return Response(201, "application/json", conversation)


@router.get(
    "/conversations/<id>",
    summary="One of my conversations",
    tags=["conversations"],
    responses={**ok(200, Conversation, "The conversation"), **errors(404)},
)
def get_conversation(id: ConversationId, me: CurrentUser) -> Conversation:
    return store().conversations.get_for(id, me.sub)


@router.patch(
    "/conversations/<id>",
    summary="Rename a conversation",
    tags=["conversations"],
    responses={**ok(200, Conversation, "The renamed conversation"), **errors(403, 404)},
)
def rename_conversation(
    id: ConversationId,
    body: UpdateConversation,
    me: CurrentUser,
) -> Conversation:
    return store().conversations.rename(id, me.sub, body.title)


@router.delete(
    "/conversations/<id>",
    summary="Delete a conversation with its messages and members (owner only)",
    tags=["conversations"],
    responses={204: {"description": "Deleted"}, **errors(403, 404)},
)
def delete_conversation(id: ConversationId, me: CurrentUser) -> Response[None]:
    store().conversations.delete(id, me.sub)
    return Response(204)
