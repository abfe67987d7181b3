"""Members of a group conversation: list, invite by e-mail, remove or leave."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentUser
from chat_api.docs import errors, ok
from chat_api.routes.conversations import ConversationId
from parley.models import AddMember, Member, MemberList
from parley.services import conversations

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

UserId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")]


@router.get(
    "/conversations/<id>/members",
    summary="Members of a conversation",
    tags=["members"],
    responses={**ok(200, MemberList, "The members"), **errors(404)},
)
def list_members(id: ConversationId, me: CurrentUser) -> MemberList:
    return MemberList(items=conversations().members(id, me.sub))


@router.post(
    "/conversations/<id>/members",
    summary="Add a user to a group conversation by e-mail (owner only)",
    tags=["members"],
    responses={**ok(201, Member, "The new member"), **errors(403, 404, 409)},
)
def add_member(
    id: ConversationId,
    body: AddMember,
    me: CurrentUser,
) -> Response[Member]:
    member = conversations().invite(id, me.sub, body.email)
    return Response(201, "application/json", member)


@router.delete(
    "/conversations/<id>/members/<userId>",
    summary="Remove a member (owner) or leave (anyone, themselves)",
    tags=["members"],
    responses={204: {"description": "Removed"}, **errors(403, 404, 409)},
)
def remove_member(
    id: ConversationId,
    userId: UserId,
    me: CurrentUser,
) -> Response[None]:
    conversations().remove(id, me.sub, userId)
    return Response(204)
