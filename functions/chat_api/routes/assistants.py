"""Users' assistants: make, list, edit and delete your own; add them to rooms you own
(`parley.assistants`)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentUser
from chat_api.docs import errors, ok
from chat_api.routes.conversations import ConversationId, PathId
from parley.groups import groups_of
from parley.models import (
    AddRoomAssistant,
    Assistant,
    AssistantList,
    CreateAssistant,
    RoomAssistant,
    RoomAssistantList,
    UpdateAssistant,
)
from parley.services import assistants

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

AssistantId = PathId


@router.get(
    "/assistants",
    summary="My assistants, oldest first",
    tags=["assistants"],
    responses={**ok(200, AssistantList, "Your assistants and how many you may have"), **errors()},
)
def list_assistants(me: CurrentUser) -> AssistantList:
    return assistants().list_for(me.sub)


@router.post(
    "/assistants",
    summary="Make an assistant",
    description=(
        "Its model must be one you may use (unknown: 400, not allowed: 403). A handle you use "
        "already, or one assistant too many: 409; nothing is stored then."
    ),
    tags=["assistants"],
    responses={**ok(201, Assistant, "The new assistant"), **errors(400, 403, 409)},
)
def create_assistant(body: CreateAssistant, me: CurrentUser) -> Response[Assistant]:
    made = assistants().create(me.sub, body, groups_of(me.claims))
    return Response(201, "application/json", made)


@router.get(
    "/assistants/<id>",
    summary="One of my assistants",
    tags=["assistants"],
    responses={**ok(200, Assistant, "The assistant"), **errors(404)},
)
def get_assistant(id: AssistantId, me: CurrentUser) -> Assistant:
    return assistants().get(me.sub, id)


@router.patch(
    "/assistants/<id>",
    summary="Change one of my assistants",
    description=(
        "Any of its fields, at least one. Rooms it is in answer with the change from the next "
        "mention; chats started from it keep the assistant as it was."
    ),
    tags=["assistants"],
    responses={**ok(200, Assistant, "The assistant as changed"), **errors(400, 403, 404, 409)},
)
def update_assistant(id: AssistantId, body: UpdateAssistant, me: CurrentUser) -> Assistant:
    return assistants().update(me.sub, id, body, groups_of(me.claims))


@router.delete(
    "/assistants/<id>",
    summary="Delete one of my assistants",
    description="Rooms stop hearing it at once; chats started from it go on as they were.",
    tags=["assistants"],
    responses={204: {"description": "Deleted"}, **errors(404)},
)
def delete_assistant(id: AssistantId, me: CurrentUser) -> Response[None]:
    assistants().delete(me.sub, id)
    return Response(204)


@router.get(
    "/conversations/<id>/assistants",
    summary="The assistants a room's members may call with @handle",
    tags=["assistants"],
    responses={**ok(200, RoomAssistantList, "The room's assistants"), **errors(404)},
)
def list_room_assistants(id: ConversationId, me: CurrentUser) -> RoomAssistantList:
    return assistants().room_list(id, me.sub)


@router.post(
    "/conversations/<id>/assistants",
    summary="Add one of my assistants to a room I own",
    description=(
        "The owner only (a member: 403, a non-member: 404); your own assistant only (anyone "
        "else's: 404). Added already, a chat rather than a room, or the room's limit: 409."
    ),
    tags=["assistants"],
    responses={**ok(201, RoomAssistant, "The assistant, added"), **errors(403, 404, 409)},
)
def add_room_assistant(
    id: ConversationId, body: AddRoomAssistant, me: CurrentUser
) -> Response[RoomAssistant]:
    added = assistants().room_add(id, me.sub, body.assistant_id)
    return Response(201, "application/json", added)


@router.delete(
    "/conversations/<id>/assistants/<assistantId>",
    summary="Take an assistant out of a room I own",
    tags=["assistants"],
    responses={204: {"description": "Removed"}, **errors(403, 404, 409)},
)
def remove_room_assistant(
    id: ConversationId, assistantId: AssistantId, me: CurrentUser
) -> Response[None]:
    assistants().room_remove(id, me.sub, assistantId)
    return Response(204)
