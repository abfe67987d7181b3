"""Messages of a conversation: history pages, and posting with the assistant's reply."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from chat_api.deps import CurrentProfile, CurrentUser, store
from chat_api.docs import errors, ok
from chat_api.routes.conversations import ConversationId, Cursor, Limit
from parley import access
from parley.feedback import with_my_ratings
from parley.groups import groups_of
from parley.models import DEFAULT_PAGE_SIZE, MessagePage, PostMessage, PostMessageResult
from parley.services import api_pipeline

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get(
    "/conversations/<id>/messages",
    summary="Messages, newest first",
    description=(
        "Each reply of the assistant carries your own rating of it, if you gave one "
        "(`feedback`); nobody sees anyone else's."
    ),
    tags=["messages"],
    responses={**ok(200, MessagePage, "A page of messages"), **errors(404)},
)
def list_messages(
    id: ConversationId,
    me: CurrentUser,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> MessagePage:
    repository = store()
    access.membership(repository, id, me.sub)
    items, next_cursor = repository.messages.page(id, limit=limit, cursor=cursor)
    listed = with_my_ratings(repository, me.sub, id, items)
    return MessagePage(items=listed, next_cursor=next_cursor)


@router.post(
    "/conversations/<id>/messages",
    summary="Send a message; the assistant's reply comes back when it answers",
    description=(
        "The same pipeline as the WebSocket's `sendMessage`: the room's live subscribers see "
        "the message and the reply stream as it is written. The assistant answers every "
        "message of an assistant chat and, in a group, a message that mentions `@assistant`; "
        "otherwise `reply` is null. The message is stored before the assistant is asked, so "
        "a 502/503 never loses it. Sending again with the same `clientMessageId` stores "
        "nothing new and returns the earlier reply, or asks again when it did not complete."
    ),
    tags=["messages"],
    responses={
        **ok(201, PostMessageResult, "The message and the reply"),
        **errors(404, 409, 422, 429, 502, 503),
    },
)
def post_message(
    id: ConversationId,
    body: PostMessage,
    me: CurrentProfile,
    who: CurrentUser,
) -> Response[PostMessageResult]:
    pipeline, writer = api_pipeline()
    time_left = router.lambda_context.get_remaining_time_in_millis() / 1000
    exchange = pipeline.ask(
        me,
        id,
        body.content,
        client_message_id=body.client_message_id,
        run=lambda job: writer.run(job, time_left=time_left),
        attachment_ids=body.attachment_ids or (),
        after=body.after,
        edit_of=body.edit_of,
        groups=groups_of(who.claims),
    )
    result = PostMessageResult(message=exchange.message, reply=exchange.reply)
    return Response(201, "application/json", result)
